package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.transport.protocol.ClientText;

/**
 * Msgpack containers amplify: {@code {"a": [n empty maps]}} is n bytes on the wire and about 60
 * to 120 n bytes of Java objects once decoded. The server charges what a request decodes to its
 * inbound budget while decoding, so the attack is refused at the budget while honest clients step
 * on; and a client bounds what a hostile server's reply decodes to.
 */
class DecodedMemoryServerTest {

    /** The server closed while the attack's frame was still being written: refused before it all arrived. */
    private static final String WRITE_REFUSED = "refused while its frame was written";


    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** {@code {"a": [n empty maps]}} as a request: one byte on the wire per map. */
    static byte[] emptyMaps(int n) {
        ByteBuffer out = ByteBuffer.allocate(n + 8);
        out.put((byte) 0x81).put((byte) 0xa1).put((byte) 'a');
        out.put((byte) 0xdd).putInt(n);
        for (int i = 0; i < n; i++) {
            out.put((byte) 0x80);
        }
        return out.array();
    }

    /** {@code [lists x [k empty maps]]}: every header small, the total large. */
    static byte[] listsOfEmptyMaps(int lists, int k) {
        ByteBuffer out = ByteBuffer.allocate(lists * (k + 3) + 5);
        out.put((byte) 0xdd).putInt(lists);
        for (int i = 0; i < lists; i++) {
            out.put((byte) 0xdc).putShort((short) k);
            for (int j = 0; j < k; j++) {
                out.put((byte) 0x80);
            }
        }
        return out.array();
    }

    /** The reply to one request over a raw connection: its error text, "close CODE", or null for a binary reply. */
    private static String errorText(WireSocket w) throws IOException {
        WireSocket.Frame f = w.readMessage();
        if (f == null) {
            throw new IOException("closed without a reply");
        }
        if (f.opcode() == WireSocket.CLOSE) {
            return "close " + f.closeCode();
        }
        return f.opcode() == WireSocket.TEXT ? f.text() : null;
    }

    @Test
    void amplifyingContainersAreChargedToTheBudgetWhileHonestClientsStep() throws Exception {
        long limit = 32 << 20;
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).inboundMemoryBytes(limit));
        AtomicLong checked = new AtomicLong();
        AtomicLong lost = new AtomicLong();
        AtomicLong crossed = new AtomicLong();
        AtomicLong peakHeld = new AtomicLong();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<String> attackReplies = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        for (int i = 0; i < 4; i++) {
            int id = i;
            threads.add(new Thread(() -> {
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(20)).build()) {
                    for (int seq = id * 1_000_000; !done.get(); seq++) {
                        try {
                            Map<String, Object> action = client.step(TestPolicies.observation(seq));
                            float got = ((NdArray) ((Map<?, ?>) action.get("echo")).get("state")).getFloat(0);
                            (got == (float) seq ? checked : crossed).incrementAndGet();
                        } catch (RuntimeException e) {
                            lost.incrementAndGet();
                            failures.add("honest " + id + " step " + seq + ": " + e);
                        }
                    }
                }
            }, "honest-" + i));
        }
        threads.add(new Thread(() -> {
            while (!done.get()) {
                peakHeld.accumulateAndGet(server.inboundBytes(), Math::max);
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "sampler"));
        threads.forEach(Thread::start);
        // 4 MB of msgpack each, about 500 MB of objects once decoded (as estimated; ~250 MB on
        // this heap), four connections at once, three rounds: one list header of 4 Mi maps (refused
        // at the header), or 4 Ki lists of 1000 maps (refused at the map that crosses the budget).
        byte[][] attacks = {emptyMaps(4 << 20), listsOfEmptyMaps(4096, 1000)};
        List<Thread> attackers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            attackers.add(new Thread(() -> {
                for (int round = 0; round < 3; round++) {
                    try (WireSocket w = WireSocket.open(server.port())) {
                        try {
                            w.sendFrame(WireSocket.BINARY, attacks[round % 2]);
                        } catch (IOException e) {
                            // The server refused the frame (1013) and closed before all of it was
                            // written: the write fails; what the server sent is read below.
                            attackReplies.add(WRITE_REFUSED);
                            continue;
                        }
                        String text = errorText(w);
                        attackReplies.add(text == null ? "a binary reply (decoded and answered)" : text);
                    } catch (IOException e) {
                        attackReplies.add("connection failed: " + e);
                    }
                }
            }, "attacker-" + i));
        }
        attackers.forEach(Thread::start);
        for (Thread t : attackers) {
            t.join(120_000);
        }
        Thread.sleep(200); // honest steps after the attack, too
        done.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
        System.out.println("FIGURE decoded memory: 12 requests of 4 Mi empty maps (4 MB each) against a " + Probes.mib(limit)
                + " budget: peak held " + Probes.mib(peakHeld.get()) + "; honest steps checked " + checked.get()
                + ", lost " + lost.get() + ", crossed " + crossed.get());
        assertEquals(12, attackReplies.size());
        int decodeRefusals = 0;
        for (String reply : attackReplies) {
            // Refused while decoding, or (1013) while its frame arrived, the budget being full of
            // another attacker's decoded values.
            boolean atDecode = reply.contains("inbound memory budget (" + limit + " bytes) cannot hold its decoded values");
            assertTrue(atDecode || reply.equals("close 1013") || reply.equals(WRITE_REFUSED), "the attack was not refused at the budget: "
                    + ClientText.quote(reply));
            decodeRefusals += atDecode ? 1 : 0;
        }
        assertTrue(decodeRefusals > 0, "no request was refused while decoding: " + attackReplies);
        assertEquals(0, lost.get(), "honest steps lost: " + failures);
        assertEquals(0, crossed.get());
        assertTrue(checked.get() > 0);
        // The reserve for small messages is max(1 MiB, limit / 16).
        assertTrue(peakHeld.get() <= limit + Math.max(1 << 20, limit / 16), "held " + Probes.mib(peakHeld.get()));
        assertTrue(peakHeld.get() > (16 << 20), "the decoded values were never charged: peak "
                + Probes.mib(peakHeld.get()));
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)),
                "the budget is given back: " + server.inboundBytes() + " bytes held");
        Probes.assertServes(server);
    }

    @Test
    void aRequestWhoseValueWouldPassTheMessageLimitIsRefusedNamingTheLimit() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).maxMessageBytes(8 << 20));
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            w.sendFrame(WireSocket.BINARY, emptyMaps(1 << 20)); // 1 MB, about 120 MB estimated
            String text = errorText(w);
            assertTrue(text != null && text.startsWith("Could not decode the request (TOO_LARGE): $.a")
                    && text.contains("more than the limit of " + (8 << 20) + " bytes per message"), String.valueOf(text));
        }
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)));
        Probes.assertServes(server);
    }

    @Test
    void aFragmentedMessageIsChargedWhileTheLibraryCopiesItsFragmentsIntoOneBuffer() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).inboundMemoryBytes(8 << 20));
        org.webpolicy.codec.MsgpackCodec codec = new org.webpolicy.codec.MsgpackCodec();
        // 6 MiB in two fragments: 6 MiB of fragments and 6 MiB of their copy live at once, past 8 MiB.
        // (Arrays: their data views the message, so decoding adds next to nothing.)
        byte[] large = codec.pack(Map.of("image", NdArray.ofUint8(new byte[6 << 20])));
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            int half = large.length / 2;
            w.write(WireSocket.frame(WireSocket.BINARY, java.util.Arrays.copyOfRange(large, 0, half), false));
            w.write(WireSocket.frame(0, java.util.Arrays.copyOfRange(large, half, large.length), true));
            assertEquals("close 1013", errorText(w), "refused: the copy does not fit the budget beside its fragments");
        }
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)), server.inboundBytes() + " held");
        // 3 MiB: fragments and copy (6 MiB) fit.
        byte[] fits = codec.pack(Map.of("image", NdArray.ofUint8(new byte[3 << 20])));
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            int half = fits.length / 2;
            w.write(WireSocket.frame(WireSocket.BINARY, java.util.Arrays.copyOfRange(fits, 0, half), false));
            w.write(WireSocket.frame(0, java.util.Arrays.copyOfRange(fits, half, fits.length), true));
            assertEquals(null, errorText(w), "answered");
        }
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)), server.inboundBytes() + " held");
        Probes.assertServes(server);
    }

    @Test
    void aTextRequestIsRefusedWithoutDecodingItsCharacters() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()));
        byte[] frame = WireSocket.frame(WireSocket.TEXT, "x".repeat(8 << 20).getBytes(StandardCharsets.US_ASCII), true);
        try (WireSocket w = open.add(WireSocket.open(server.port()))) {
            long before = Probes.allocatedBytes();
            w.write(frame);
            String text = errorText(w);
            long allocated = Probes.allocatedBytes() - before;
            assertEquals("Requests must be binary msgpack frames; got a text frame", text);
            // The frame's buffer as it grows (about 12.6 MiB); its characters as a String were 24 MiB more.
            assertTrue(allocated < 20 << 20, "a text request of 8 MiB allocated " + Probes.mib(allocated));
        }
        Probes.assertServes(server);
    }

    @Test
    void aClientBoundsWhatAHostileServersReplyDecodesTo() throws Exception {
        byte[] reply = emptyMaps(1 << 20);
        ScriptedServer hostile = open.add(new ScriptedServer(ScriptedServer.OUR_HEADERS,
                (peer, n, request) -> peer.write(ScriptedServer.frame(0x2, reply))));
        PolicyClient client = open.add(PolicyClient.builder().host("127.0.0.1").port(hostile.port())
                .maxMessageBytes(2 << 20).reconnect(false).connectTimeout(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(20)).build());
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class,
                () -> client.step(TestPolicies.observation(1)));
        assertTrue(e.getMessage().contains("could not be decoded") && e.getMessage().contains("limit of " + (2 << 20)
                + " bytes per message"), e.getMessage());
    }
}
