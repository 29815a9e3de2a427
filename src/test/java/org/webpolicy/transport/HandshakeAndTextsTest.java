package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.protocol.Envelope;

/**
 * Small transport faults of issue 19: the head limit counts the head only (a first frame may come
 * in the same write), the API key's scheme is case-insensitive (RFC 7235), and error texts never
 * show a Java array's identity or end in "null".
 */
class HandshakeAndTextsTest {

    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private String status(PolicyServer server, String request) throws IOException {
        try (WireSocket w = WireSocket.tcp(server.port())) {
            w.write(request.getBytes(StandardCharsets.US_ASCII));
            return w.readHttpHead();
        }
    }

    @Test
    void anUpgradeAndALargeFirstFrameInOneWriteAreServed() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        Map<String, Object> observation = new LinkedHashMap<>(TestPolicies.observation(7));
        observation.put("image", NdArray.ofUint8(new byte[200_000], 200, 1000));
        ByteArrayOutputStream write = new ByteArrayOutputStream();
        write.writeBytes(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
        write.writeBytes(WireSocket.frame(WireSocket.BINARY, codec.pack(observation), true));
        try (WireSocket w = open.add(WireSocket.tcp(server.port()))) {
            w.write(write.toByteArray());
            String head = w.readHttpHead();
            assertTrue(head.startsWith("HTTP/1.1 101"), "the upgrade with a 200 KB frame behind it got " + head);
            assertEquals(WireSocket.BINARY, w.readFrame().opcode(), "the metadata frame");
            WireSocket.Frame reply = w.readMessage();
            assertEquals(WireSocket.BINARY, reply.opcode(), "the first frame was answered");
            Map<?, ?> echo = (Map<?, ?>) ((Map<?, ?>) codec.unpack(reply.payload())).get("echo");
            assertEquals(7f, ((NdArray) echo.get("state")).getFloat(0));
        }
    }

    @Test
    void aHeadOverTheLimitGets431() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        String padding = "X-Padding: " + "a".repeat(1000) + "\r\n";
        String head = status(server, WireSocket.upgradeRequest(padding.repeat(70)));
        assertTrue(head.startsWith("HTTP/1.1 431"), head);
        assertTrue(status(server, WireSocket.upgradeRequest(padding.repeat(60))).startsWith("HTTP/1.1 101"),
                "60 KB of head is within the limit");
        Probes.assertServes(server);
    }

    @Test
    void theApiKeySchemeIsCaseInsensitive() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).apiKey("secret"));
        for (String good : new String[] {"Api-Key secret", "api-key secret", "API-KEY   secret"}) {
            String head = status(server, WireSocket.upgradeRequest("Authorization: " + good + "\r\n"));
            assertTrue(head.startsWith("HTTP/1.1 101"), good + ": " + head);
        }
        for (String bad : new String[] {"Api-Key wrong", "Bearer secret", "Api-Keysecret", "api-key", "secret"}) {
            String head = status(server, WireSocket.upgradeRequest("Authorization: " + bad + "\r\n"));
            assertTrue(head.startsWith("HTTP/1.1 401"), bad + ": " + head);
        }
    }

    private String errorFor(PolicyServer server, Object request) throws IOException {
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            w.sendFrame(WireSocket.BINARY, codec.pack(request));
            WireSocket.Frame f = w.readMessage();
            assertEquals(WireSocket.TEXT, f.opcode());
            return f.text();
        }
    }

    @Test
    void errorTextsShowBinAsBytesAndNeverEndInNull() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).observationCheck(obs -> {
            if (obs.containsKey("bad")) {
                throw new IllegalArgumentException();
            }
        }));
        String binOp = errorFor(server, Map.of(Envelope.OP, "step".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(binOp.contains("[B@"), binOp);
        assertEquals("Unknown " + Envelope.OP + " b'step' (byte[]): expected 'step' or 'reset' (str)", binOp);
        String rejected = errorFor(server, Map.of("bad", 1L));
        assertEquals("Observation rejected: IllegalArgumentException", rejected);
        String claims = errorFor(server, null);
        assertFalse(claims.endsWith("null"), claims);
        byte[] array32 = {(byte) 0xdd, -1, -1, -1, -1};
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            w.sendFrame(WireSocket.BINARY, array32);
            String text = w.readMessage().text();
            assertFalse(text.endsWith("null"), text);
            assertTrue(text.contains("4294967295 at offset"), text);
        }
        Probes.assertServes(server);
    }
}
