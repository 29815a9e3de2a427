package org.webpolicy.check;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/**
 * Every byte example in docs/PROTOCOL.md is what our codec and our server put on the wire: the
 * server's frames are read off a socket as they arrive (headers included), the client's messages
 * are what our client sends (the raw and the envelope step) or packs with our codec, and where the Python implementation made the same message
 * (src/test/resources/golden) the bytes are compared with its too. Run with
 * {@code -Dwebpolicy.updateProtocolDoc=true} to write the bytes into the document after a
 * deliberate change.
 */
class ProtocolDocTest {

    static final Path DOC = Path.of("docs", "PROTOCOL.md");
    private static final Path GOLDEN = Path.of("src", "test", "resources", "golden", "msgpack");
    private static final Pattern BLOCK = Pattern.compile("(<!-- protocol-example-([a-z0-9-]+) -->\n```text\n)(.*?)(```)", Pattern.DOTALL);
    /** The mask of RFC 6455's own examples (5.7), so the masked frame in the document is reproducible. */
    private static final byte[] MASK = {0x37, (byte) 0xfa, 0x21, 0x3d};
    /** RFC 6455's sample nonce (1.3), whose Sec-WebSocket-Accept the RFC gives. */
    private static final String NONCE = "dGhlIHNhbXBsZSBub25jZQ==";
    /** The policy time the document shows in server_timing; the real one varies from run to run. */
    private static final double SHOWN_INFER_MS = 0.5;
    /** The date the document shows in the handshake answer, in place of the real one. */
    private static final String SHOWN_DATE = "Mon, 07 Dec 2026 09:35:19 GMT";

    private final MsgpackCodec codec = new MsgpackCodec();

    /** The document's example policy: whatever comes, the same chunk of 2 actions of 2 joints. */
    static final class Example implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return Map.of("actions", NdArray.ofFloat32(new float[] {0.5f, -1.0f, 0.75f, -1.0f}, 2, 2));
        }
    }

    static Map<String, Object> observation() {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat32(new float[] {0.25f, -1.0f}, 2));
        obs.put("prompt", "fold");
        return obs;
    }

    @Test
    void everyByteExampleIsWhatTravels() throws Exception {
        Map<String, String> produced = new LinkedHashMap<>();
        ObservationSpec spec = ObservationSpec.builder().array("state", DType.FLOAT32, 2).string("prompt").build();
        try (PolicyServer server = PolicyServer.builder(new Example()).observationSpec(spec).acceptImageCodecs(false)
                .host("127.0.0.1").port(0).build().start()) {
            Target target = Target.parse("ws://127.0.0.1:" + server.port(), null, Duration.ofSeconds(20));
            produced.put("handshake-response", handshakeResponse(server.port()));

            byte[] rawRequest = codec.pack(observation());
            produced.put("raw-request", hex(rawRequest));
            produced.put("raw-request-frame", hex(WireConnection.frame(WireConnection.BINARY, rawRequest, MASK)));
            try (WireConnection c = WireConnection.open(target, Map.of())) {
                produced.put("metadata-frame", hex(c.next().wire()));
                c.send(WireConnection.BINARY, rawRequest);
                produced.put("raw-reply-frame", hex(withShownTiming(c.next().wire())));
            }

            Map<String, Object> step = new LinkedHashMap<>();
            step.put("__webpolicy_op__", "step");
            step.put("obs", observation());
            step.put("__webpolicy_id__", 1L);
            produced.put("envelope-request", hex(codec.pack(step)));
            byte[] reset = codec.pack(Map.of("__webpolicy_op__", "reset"));
            assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("webpolicy_reset_request.msgpack")), reset, "Python's reset");
            produced.put("reset-request", hex(reset));
            try (WireConnection c = WireConnection.open(target, Map.of())) {
                c.next();
                c.send(WireConnection.BINARY, codec.pack(step));
                produced.put("envelope-reply-frame", hex(c.next().wire()));
                c.send(WireConnection.BINARY, reset);
                WireConnection.Frame ack = c.next();
                assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("webpolicy_reset_ack.msgpack")), ack.payload(), "Python's ack");
                produced.put("reset-reply-frame", hex(ack.wire()));
            }
            try (WireConnection c = WireConnection.open(target, Map.of())) {
                c.next();
                c.send(WireConnection.BINARY, new byte[] {(byte) 0xc1});
                produced.put("error-text-frame", hex(c.next().wire()));
                produced.put("error-close-frame", hex(c.next().wire()));
            }
        }
        // Our client sends exactly these bytes: the raw form to a server without our headers, the
        // envelope with an id to one that announces both.
        assertEquals(produced.get("raw-request"), hex(sentByOurClient(Map.of())), "our client's raw request");
        assertEquals(produced.get("envelope-request"), hex(sentByOurClient(Map.of("X-Webpolicy-Protocol", "envelope",
                "X-Webpolicy-Request-Id", "echo"))), "our client's envelope request");

        byte[] scalar = codec.pack(NpScalar.ofFloat32(0.1f));
        assertArrayEquals(Files.readAllBytes(GOLDEN.resolve("npscalar_float32.msgpack")), scalar, "Python's np.float32(0.1)");
        produced.put("npscalar", hex(scalar));

        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("webpolicy.updateProtocolDoc")) {
            doc = updated(doc, produced);
            Files.writeString(DOC, doc, StandardCharsets.UTF_8);
        }
        Map<String, String> inDoc = blocks(doc);
        assertEquals(new TreeSet<>(produced.keySet()), new TreeSet<>(inDoc.keySet()),
                "the examples in " + DOC + " and the ones this test makes");
        String hint = "; after a deliberate change, run this test with -Dwebpolicy.updateProtocolDoc=true";
        produced.forEach((name, text) -> assertEquals(text, inDoc.get(name), "example " + name + " in " + DOC + hint));
    }

    /** The first request our client sends to a server answering its handshake with {@code headers}. */
    private static byte[] sentByOurClient(Map<String, String> headers) throws Exception {
        try (OpenpiLikeServer server = new OpenpiLikeServer(OpenpiLikeServer.Fault.NONE, headers);
                PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                        .connectTimeout(Duration.ofSeconds(20)).build()) {
            client.step(observation());
            byte[] sent = server.requests.poll(20, TimeUnit.SECONDS);
            assertTrue(sent != null, "the server got the request");
            return sent;
        }
    }

    /** The server's answer to an upgrade with RFC 6455's sample nonce, as text. */
    private static String handshakeResponse(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + NONCE + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int last4 = 0;
            while (last4 != 0x0d0a0d0a) {
                int b = in.read();
                assertTrue(b >= 0, "the server closed inside its answer");
                head.write(b);
                last4 = (last4 << 8) | b;
            }
            String text = head.toString(StandardCharsets.US_ASCII).replace("\r\n", "\n").strip() + "\n";
            return text.replaceAll("(?m)^Date: .*$", "Date: " + SHOWN_DATE);
        }
    }

    /** The frame with server_timing's infer_ms set to the document's value (the only bytes that vary). */
    private static byte[] withShownTiming(byte[] frame) {
        byte[] key = {(byte) 0xa8, 'i', 'n', 'f', 'e', 'r', '_', 'm', 's', (byte) 0xcb};
        int at = indexOf(frame, key);
        assertTrue(at >= 0, "the raw reply carries server_timing.infer_ms as a float 64");
        byte[] shown = frame.clone();
        long bits = Double.doubleToLongBits(SHOWN_INFER_MS);
        for (int i = 0; i < 8; i++) {
            shown[at + key.length + i] = (byte) (bits >>> (56 - 8 * i));
        }
        return shown;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Bytes as lower-case hex, 16 to a line. */
    static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bytes.length; i++) {
            b.append(String.format("%02x", bytes[i] & 0xff));
            b.append(i == bytes.length - 1 || i % 16 == 15 ? "\n" : " ");
        }
        return b.toString();
    }

    private static Map<String, String> blocks(String doc) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = BLOCK.matcher(doc);
        while (m.find()) {
            if (out.put(m.group(2), m.group(3)) != null) {
                throw new AssertionError(DOC + " has two examples named " + m.group(2));
            }
        }
        return out;
    }

    private static String updated(String doc, Map<String, String> produced) {
        Matcher m = BLOCK.matcher(doc);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String text = produced.getOrDefault(m.group(2), m.group(3));
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + text + m.group(4)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
