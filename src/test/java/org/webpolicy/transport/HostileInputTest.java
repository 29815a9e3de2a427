package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.codec.BinaryKey;
import org.webpolicy.codec.MsgpackCodec;

/**
 * Input no honest client sends, over raw sockets. Each case: the sender gets a clear answer (an
 * error text and 1011, a close code, or a closed socket) within a bound, and a good client
 * connected afterwards still gets its own observation back.
 */
class HostileInputTest {

    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    private PolicyServer serve(PolicyServerBuilder builder) {
        return open.serve(builder);
    }

    private WireSocket wire(PolicyServer server) throws IOException {
        WireSocket w = WireSocket.open(server.port());
        open.add(w);
        return w;
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** Sends one binary frame and expects the error text (containing {@code expected}) then 1011. */
    private String rejected(PolicyServer server, byte[] message, String expected) throws IOException {
        WireSocket w = wire(server);
        w.sendFrame(WireSocket.BINARY, message);
        WireSocket.Frame text = w.readMessage();
        assertNotNull(text, "the server hung up without saying why");
        assertEquals(WireSocket.TEXT, text.opcode(), "an error text frame, got opcode " + text.opcode());
        assertTrue(text.text().contains(expected), text.text());
        WireSocket.Frame close = w.readMessage();
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertEquals(1011, close.closeCode());
        return text.text();
    }

    @Test
    void framesThatAreNotMsgpack() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        rejected(server, "{\"state\": [1, 2]}".getBytes(StandardCharsets.UTF_8), "Could not decode");
        rejected(server, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, "Could not decode");
        rejected(server, new byte[0], "TRUNCATED");
        rejected(server, new byte[] {(byte) 0xc1}, "MALFORMED");
        rejected(server, new byte[] {(byte) 0xc7, 1, 5, 0}, "UNSUPPORTED_TYPE"); // an extension type
        rejected(server, codec.pack("just a string"), "must be a msgpack map");
        Probes.assertServes(server);
    }

    @Test
    void textFrameGetsAnErrorAnd1011() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        w.sendFrame(WireSocket.TEXT, "{\"state\": 1}".getBytes(StandardCharsets.UTF_8));
        WireSocket.Frame text = w.readMessage();
        assertEquals(WireSocket.TEXT, text.opcode());
        assertTrue(text.text().contains("binary msgpack"), text.text());
        assertEquals(1011, w.readMessage().closeCode());
        Probes.assertServes(server);
    }

    @Test
    void connectionsClosedMidFrameAreDropped() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        byte[] whole = codec.pack(TestPolicies.observation(1));
        for (int cut : new int[] {1, 2, 6, 8, whole.length / 2, whole.length + 5}) {
            WireSocket w = wire(server);
            byte[] frame = WireSocket.frame(WireSocket.BINARY, whole, true);
            w.write(java.util.Arrays.copyOf(frame, Math.min(cut, frame.length - 1)));
            w.close();
        }
        // A frame whose header promises more than ever comes, then a half-close.
        WireSocket w = wire(server);
        w.write(WireSocket.frameHeader(WireSocket.BINARY, 1000, true, new byte[10]));
        w.socket.shutdownOutput();
        assertTrue(w.closedWithin(Duration.ofSeconds(10)), "the server closes a connection that ended mid-frame");
        assertTrue(Probes.await(() -> server.connectionCount() == 0, Duration.ofSeconds(10)),
                "connections cut mid-frame are let go: " + server.connectionCount() + " left");
        Probes.assertServes(server);
    }

    @Test
    void shapesClaimingTerabytesAreRefusedWithoutAllocating() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        long before = Probes.allocatedBytes();
        // 2^20 x 2^20 x 2^20 float64 = 8 EiB; 2^62 x 4 overflows a long; 2^40 bytes claimed of 8 sent.
        String terabytes = rejected(server, array(List.of(1L << 20, 1L << 20, 1L << 20), "<f8", new byte[8]), "shape");
        assertTrue(terabytes.contains("BAD_SHAPE") || terabytes.contains("DATA_LENGTH_MISMATCH"), terabytes);
        rejected(server, array(List.of(1L << 62, 4L), "<f8", new byte[8]), "BAD_SHAPE");
        rejected(server, array(List.of(1L << 40), "|u1", new byte[8]), "BAD_SHAPE");
        long allocated = Probes.allocatedBytes() - before;
        assertTrue(allocated < 256L << 20, "refusing huge shapes allocated " + Probes.mib(allocated));
        Probes.assertServes(server);
    }

    private byte[] array(List<Long> shape, String dtype, byte[] data) {
        Map<Object, Object> nd = new LinkedHashMap<>();
        nd.put(BinaryKey.of("__ndarray__"), true);
        nd.put(BinaryKey.of("data"), data);
        nd.put(BinaryKey.of("dtype"), dtype);
        nd.put(BinaryKey.of("shape"), shape);
        return codec.pack(Map.of("image", nd));
    }

    @Test
    void nesting100000DeepIsRefusedByTheLimit() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        ByteArrayOutputStream lists = new ByteArrayOutputStream();
        ByteArrayOutputStream maps = new ByteArrayOutputStream();
        lists.write(0x81); // {"a": [[[[...]]]]}
        lists.write(0xa1);
        lists.write('a');
        for (int i = 0; i < 100_000; i++) {
            lists.write(0x91);
            maps.write(0x81); // {"a": {"a": ...}}
            maps.write(0xa1);
            maps.write('a');
        }
        lists.write(0xc0);
        maps.write(0xc0);
        assertTrue(rejected(server, lists.toByteArray(), "TOO_DEEP").contains("deeper than 64"));
        assertTrue(rejected(server, maps.toByteArray(), "TOO_DEEP").contains("deeper than 64"));
        Probes.assertServes(server);
    }

    @Test
    void frameHeaderClaimingTwoGigabytesIsClosedWith1009BeforeAllocating() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).maxMessageBytes(1 << 20));
        long before = Probes.allocatedBytes();
        WireSocket w = wire(server);
        w.write(WireSocket.frameHeader(WireSocket.BINARY, 2L << 30, true, new byte[0]));
        WireSocket.Frame close = w.readMessage();
        assertNotNull(close, "a close frame, not just a dropped connection");
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertEquals(1009, close.closeCode());
        long allocated = Probes.allocatedBytes() - before;
        assertTrue(allocated < 256L << 20, "a 2 GB claim allocated " + Probes.mib(allocated));
        Probes.assertServes(server);
    }

    @Test
    void frameLengthWithTheTopBitSetIsAProtocolError() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        long t0 = System.nanoTime();
        w.write(WireSocket.frameHeader(WireSocket.BINARY, -2, true, new byte[0])); // 2^64 - 2: negative as a long
        WireSocket.Frame close = w.readMessage();
        System.out.printf("FIGURE top-bit length: %s after %d ms%n", close, (System.nanoTime() - t0) / 1_000_000);
        assertNotNull(close, "a close frame, not just a dropped connection");
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertTrue(close.closeCode() == 1002 || close.closeCode() == 1009, "close code " + close.closeCode());
        Probes.assertServes(server);
    }

    @Test
    void handshakesThatNeverFinishAreClosedByTheHandshakeTimeout() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).handshakeTimeout(Duration.ofMillis(500)));
        // A TCP connection that sends nothing.
        WireSocket silent = WireSocket.tcp(server.port());
        open.add(silent);
        // A slowloris: a valid-looking request, a byte every 50 ms, never the blank line.
        WireSocket trickle = WireSocket.tcp(server.port());
        open.add(trickle);
        byte[] head = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" + "X-Padding: " + "a".repeat(200))
                .getBytes(StandardCharsets.US_ASCII);
        boolean trickleCut = false;
        for (int i = 0; i < head.length && !trickleCut; i++) {
            try {
                trickle.write(new byte[] {head[i]});
            } catch (IOException e) {
                trickleCut = true;
                break;
            }
            Thread.sleep(50);
            if (i % 10 == 0) {
                Probes.assertServes(server); // others are served while the slow ones hang on
            }
        }
        assertTrue(trickleCut || trickle.closedWithin(Duration.ofSeconds(5)), "a trickled handshake is cut off");
        assertTrue(silent.closedWithin(Duration.ofSeconds(5)), "a connection that sends nothing is closed");
        Probes.assertServes(server);
    }

    @Test
    void aHugeHandshakeIsRefused() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).handshakeTimeout(Duration.ofSeconds(5)));
        WireSocket w = WireSocket.tcp(server.port());
        open.add(w);
        byte[] chunk = ("X-Padding-" + "b".repeat(1000) + ": c\r\n").getBytes(StandardCharsets.US_ASCII);
        long before = Probes.allocatedBytes();
        long sent = 0;
        try {
            w.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            while (sent < (64 << 20)) {
                w.write(chunk);
                sent += chunk.length;
            }
        } catch (IOException e) {
            // cut off: what we want
        }
        boolean closed = w.closedWithin(Duration.ofSeconds(10));
        long allocated = Probes.allocatedBytes() - before;
        System.out.printf("FIGURE huge-handshake: sent %s of headers before the cut; server threads allocated %s%n",
                Probes.mib(sent), Probes.mib(allocated));
        assertTrue(closed, "a never-ending handshake is closed");
        // What the client manages to write includes the kernel's socket buffers on both sides and
        // the 50 ms the refusal has to go out: tens of MiB on a fast loopback, never all 64.
        assertTrue(sent < 48 << 20, "cut off early, not after " + Probes.mib(sent));
        assertTrue(allocated < 256L << 20, "an endless handshake made the server allocate " + Probes.mib(allocated));
        Probes.assertServes(server);
    }

    @Test
    void refusedHandshakesAreAnsweredAndClosedPromptly() throws Exception {
        // Long timeout: what closes these connections is the refusal, not the handshake timeout.
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).handshakeTimeout(Duration.ofSeconds(60)));
        for (String request : List.of("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "POST /step HTTP/1.1\r\n\r\n",
                "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n\r\n")) {
            try (WireSocket w = WireSocket.tcp(server.port())) {
                w.write(request.getBytes(StandardCharsets.ISO_8859_1));
                String answer = w.readHttpHead();
                assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), "an HTTP error or nothing: " + answer);
                assertTrue(w.closedWithin(Duration.ofSeconds(10)), "a refused handshake is closed: " + request);
            }
        }
        Probes.assertServes(server);
    }

    @Test
    void openConnectionsThatIgnorePingsAreClosedButQuietHonestClientsStay() throws Exception {
        // Pings every 2 s: a live peer on a loaded machine has seconds to answer, a deaf one is
        // still closed within a few.
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).pingInterval(Duration.ofSeconds(2)));
        WireSocket deaf = wire(server); // handshake done, then never reads nor answers a ping
        try (PolicyClient quiet = PolicyClient.builder().host("127.0.0.1").port(server.port())
                .pingInterval(Duration.ofSeconds(2)).build().connect()) {
            assertTrue(Probes.await(() -> server.connectionCount() == 1, Duration.ofSeconds(15)),
                    "the deaf connection is closed by the ping timeout");
            assertTrue(deaf.closedWithin(Duration.ofSeconds(5)));
            Map<String, Object> action = quiet.step(TestPolicies.observation(3));
            assertFalse(action.isEmpty(), "the quiet client, which answers pings, is still connected");
        }
        Probes.assertServes(server);
    }
}
