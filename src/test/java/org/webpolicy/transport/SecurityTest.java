package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/** TLS with a certificate made at test time, and API keys kept out of logs and error messages. */
class SecurityTest {

    /** The shared test certificate: the client trusts this one certificate and nothing else. */
    private static final SSLContext serverTls = TestTls.get().server;
    private static final SSLContext clientTls = TestTls.get().client;

    @Test
    void wssRoundTripsAndPlainClientsFailCleanly() throws Exception {
        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0)
                .sslContext(serverTls).handshakeTimeout(Duration.ofSeconds(2)).build().start()) {
            try (PolicyClient tls = PolicyClient.builder().uri("wss://127.0.0.1:" + server.port()).sslContext(clientTls)
                    .connectTimeout(Duration.ofSeconds(10)).build()) {
                assertEquals("wss", tls.uri().getScheme());
                Map<String, Object> action = tls.step(TestPolicies.observation(4));
                assertEquals(TestPolicies.observation(4).get("state"), ((Map<?, ?>) action.get("echo")).get("state"));
            }
            try (PolicyClient plain = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port())
                    .connectTimeout(Duration.ofSeconds(3)).requestTimeout(Duration.ofSeconds(5)).build()) {
                assertThrows(PolicyConnectionException.class, () -> plain.step(Map.of()), "plain ws to a wss server fails");
            }
            try (PolicyClient untrusting = PolicyClient.builder().uri("wss://127.0.0.1:" + server.port())
                    .sslContext(SSLContext.getDefault()).connectTimeout(Duration.ofSeconds(3)).build()) {
                assertThrows(PolicyConnectionException.class, () -> untrusting.step(Map.of()),
                        "a client that does not trust the certificate does not connect");
            }
            // A raw TCP connection speaking no TLS at all is closed too, by the handshake timeout at the latest.
            try (WireSocket w = WireSocket.tcp(server.port())) {
                w.write(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
                assertTrue(w.closedWithin(Duration.ofSeconds(10)));
            }
            try (PolicyClient tls = PolicyClient.builder().uri("wss://127.0.0.1:" + server.port()).sslContext(clientTls)
                    .connectTimeout(Duration.ofSeconds(10)).build()) {
                assertFalse(tls.step(TestPolicies.observation(5)).isEmpty(), "still serving wss after the failures");
            }
        }
    }

    @Test
    void theApiKeyNeverAppearsInLogsOrErrors() throws Exception {
        String key = "k3y-" + Long.toHexString(System.nanoTime()) + "-secret";
        String wrong = "wr0ng-" + Long.toHexString(System.nanoTime()) + "-guess";
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String errors;
        try (PrintStream tee = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setErr(tee);
            try (PolicyServer server = PolicyServer.builder(obs -> {
                throw new IllegalStateException("fails, to log a failure");
            }).apiKey(key).host("127.0.0.1").port(0).build().start()) {
                StringBuilder messages = new StringBuilder();
                for (String attempt : List.of(wrong, "", key.substring(0, 6))) {
                    try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).apiKey(attempt)
                            .connectTimeout(Duration.ofSeconds(2)).retryInterval(Duration.ofMillis(100)).build()) {
                        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(Map.of()));
                        messages.append(e).append(e.getCause()).append('\n');
                    }
                }
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).apiKey(key)
                        .connectTimeout(Duration.ofSeconds(5)).build()) {
                    RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(Map.of()));
                    messages.append(e).append(e.serverText());
                }
                errors = messages.toString();
            }
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        err.print(log);
        assertTrue(log.contains("PolicyServer") && log.contains("failed; closing the connection"),
                "the capture saw the server's log: " + log);
        for (String secret : List.of(key, wrong)) {
            assertFalse(log.contains(secret), "a key appears in the log");
            assertFalse(errors.contains(secret), "a key appears in an error: " + errors);
        }
    }

    /** Not a test of behaviour but of the code path: no logging call in the transport mentions the key. */
    @Test
    void noLogStatementTakesTheKey() throws Exception {
        File[] sources = new File("src/main/java/org/webpolicy/transport").listFiles((dir, name) -> name.endsWith(".java"));
        assertTrue(sources != null && sources.length > 3, "the transport sources are where the test expects them");
        for (File f : sources) {
            for (String line : Files.readAllLines(f.toPath())) {
                if (line.contains("log.") || line.contains("clientLog.")) {
                    assertFalse(line.toLowerCase().contains("apikey") || line.contains("Authorization"),
                            f.getName() + " logs the key: " + line.trim());
                }
            }
        }
    }
}
