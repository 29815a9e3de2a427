package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.policy.ObservationSpec;

/**
 * The errors a newcomer meets first, by their text: a server that wants an API key, an
 * observation refused for a Python peer, a port already taken.
 */
class NewcomerMessagesTest {

    @Test
    void aRefusedApiKeySaysSoAndHowToPassOne() {
        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).apiKey("the-key").host("127.0.0.1").port(0)
                .build().start()) {
            for (String sent : new String[] {null, "not-the-key"}) {
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).apiKey(sent)
                        .connectTimeout(Duration.ofSeconds(5)).build()) {
                    String message = assertThrows(PolicyConnectionException.class, client::connect).getMessage();
                    assertTrue(message.contains("the server refused the API key (HTTP 401 Unauthorized): "
                            + (sent == null ? "this client sent none, and the server requires one"
                            : "the key this client sent is not the server's")
                            + "; pass the server's key with PolicyClient.builder().apiKey(key) (webpolicy client: --api-key KEY)"),
                            message);
                    assertTrue(message.contains("1 attempt "), "a refused key is not retried: " + message);
                    assertFalse(message.contains("1002"), message);
                    assertFalse(message.contains("not-the-key"), "the key itself is never shown: " + message);
                }
            }
        }
    }

    @Test
    void anObservationRefusedByTheSpecIsWordedForAnyPeerNotForJava() {
        ObservationSpec spec = ObservationSpec.builder().array("state", DType.FLOAT32, 2).string("prompt").build();
        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).observationSpec(spec).host("127.0.0.1")
                .port(0).build().start();
             PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                     .connectTimeout(Duration.ofSeconds(10)).build()) {
            Map<String, Object> asPythonSendsIt = new LinkedHashMap<>();
            asPythonSendsIt.put("state", List.of(0.5, 1.5));
            asPythonSendsIt.put("prompt", 3L);
            String text = assertThrows(RemotePolicyException.class, () -> client.step(asPythonSendsIt)).serverText();
            assertTrue(text.contains("state: expected a float32 array (<f4) of shape (2,), got a list of 2 numbers; a list"
                    + " travels as a msgpack array, not an ndarray: send an ndarray of dtype <f4 (numpy:"
                    + " np.asarray(value, dtype=\"<f4\")); prompt: expected a str, got an int"), text);
            assertFalse(text.contains("NdArray") || text.contains("Long"), "no Java names for a Python peer: " + text);
        }
    }

    @Test
    void aPortInUseIsOneClearExceptionAndNoErrorLog() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String message;
        try (ServerSocket taken = new ServerSocket(0);
             PrintStream tee = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setErr(tee);
            PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).port(taken.getLocalPort()).build();
            try {
                message = assertThrows(IllegalStateException.class, server::start).getMessage();
            } finally {
                server.close();
                System.setErr(err);
            }
            assertEquals("Could not start the policy server on 0.0.0.0:" + taken.getLocalPort() + ": Address already in use"
                    + " (another process listens there: stop it, or choose another port, 0 for a free one)", message);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        err.print(log);
        assertFalse(log.contains("ERROR"), "the exception says it all; nothing is logged at ERROR:\n" + log);
        assertFalse(log.contains("\tat "), "no stack trace:\n" + log);
    }
}
