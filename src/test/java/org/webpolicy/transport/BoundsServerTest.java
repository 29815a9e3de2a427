package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.server.ClientLog;
import org.webpolicy.transport.server.ConnectionSlots;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.Opcode;
import org.webpolicy.transport.protocol.Headers;

/**
 * The server's per-connection and server-wide bounds over real sockets: each case is one a
 * client could use to take memory, threads or the port from everyone, and ends with a good client
 * still served. Each runs over {@code ws://} and {@code wss://}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class BoundsServerTest {

    private final Wire wire;

    BoundsServerTest(Wire wire) {
        this.wire = wire;
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private WireSocket wire(PolicyServer server) throws IOException {
        return open.add(WireSocket.open(wire, server.port()));
    }

    private byte[] rawStep(float tag) {
        return codec.pack(TestPolicies.observation(tag));
    }

    /** Reads until a close frame (answering pings, skipping replies) and returns its code; -1 on TCP close. */
    private static int closeCode(WireSocket w) throws IOException {
        while (true) {
            WireSocket.Frame f = w.readMessage();
            if (f == null) {
                return -1;
            }
            if (f.opcode() == WireSocket.CLOSE) {
                return f.closeCode();
            }
        }
    }

    @Test
    void claimsCostNoMemoryUntilTheirBytesArrive() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        List<WireSocket> claimers = new ArrayList<>();
        long before = Probes.allocatedBytes();
        for (int i = 0; i < 50; i++) {
            WireSocket w = wire(server);
            w.write(WireSocket.frameHeader(WireSocket.BINARY, 100L << 20, true, new byte[0]));
            claimers.add(w);
        }
        Probes.assertServes(server);
        long allocated = Probes.allocatedBytes() - before;
        // 50 claims of 100 MiB each set aside 8 MiB apiece before (400 MiB).
        assertTrue(allocated < 64L << 20, "50 claims allocated " + Probes.mib(allocated));
        // The honest request of assertServes is given back just after its reply goes out: wait for
        // it. The 50 claims stay open, so the budget reaches 0 only if they hold nothing of it.
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)),
                "a claim alone holds nothing of the budget: " + server.inboundBytes() + " bytes held");
        System.out.println("FIGURE claims: 50 headers claiming 100 MiB each, " + Probes.mib(allocated) + " allocated in all");
    }

    @Test
    void unmaskedClientFramesClose1002() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        w.write(FrameCodec.encode(new Frame(Opcode.BINARY, true, java.nio.ByteBuffer.wrap(rawStep(1))), false).array());
        assertEquals(1002, closeCode(w));
        Probes.assertServes(server);
    }

    @Test
    void aCloseReasonThatIsNotUtf8Closes1007() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        w.sendFrame(WireSocket.CLOSE, new byte[] {0x03, (byte) 0xe8, (byte) 0xff, (byte) 0xfe});
        assertEquals(1007, closeCode(w));
        assertTrue(w.closedWithin(Duration.ofSeconds(5)), "the connection is not left open");
        Probes.assertServes(server);
    }

    @Test
    void theRequestIdIsEchoedInEnvelopeRepliesOnly() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        Map<String, Object> step = new LinkedHashMap<>();
        step.put(Envelope.OP, Envelope.OP_STEP);
        step.put(Envelope.OBS, TestPolicies.observation(3));
        step.put(Envelope.REQUEST_ID, 41L);
        w.sendFrame(WireSocket.BINARY, codec.pack(step));
        Map<?, ?> reply = (Map<?, ?>) codec.unpack(w.readMessage().payload());
        assertEquals(41L, reply.get(Envelope.REQUEST_ID));
        assertNotNull(reply.get(Envelope.ACTION));
        Map<String, Object> reset = new LinkedHashMap<>();
        reset.put(Envelope.OP, Envelope.OP_RESET);
        reset.put(Envelope.REQUEST_ID, "r-7");
        w.sendFrame(WireSocket.BINARY, codec.pack(reset));
        Map<?, ?> ack = (Map<?, ?>) codec.unpack(w.readMessage().payload());
        assertEquals(Map.of(Envelope.RESET_ACK, true, Envelope.REQUEST_ID, "r-7"), ack);
        Map<String, Object> raw = TestPolicies.observation(5);
        raw.put(Envelope.REQUEST_ID, 9L);
        w.sendFrame(WireSocket.BINARY, codec.pack(raw));
        Map<?, ?> rawReply = (Map<?, ?>) codec.unpack(w.readMessage().payload());
        assertFalse(rawReply.containsKey(Envelope.REQUEST_ID), "raw-form replies are never touched: " + rawReply.keySet());
    }

    @Test
    void aClientThatDoesNotWaitForRepliesIsClosed1008() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = open.serve(wire, PolicyServer.builder(gated).maxQueuedRequests(4));
        WireSocket w = wire(server);
        java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 10; i++) {
            burst.write(WireSocket.frame(WireSocket.BINARY, rawStep(i), true));
        }
        w.write(burst.toByteArray());
        assertEquals(1008, closeCode(w));
        gated.release.countDown();
    }

    @Test
    void aClientThatNeverReadsItsRepliesIsCut() throws Exception {
        // Every reply is 512 KiB; the client sends requests and reads nothing.
        byte[] big = new byte[512 << 10];
        Policy policy = obs -> Map.of("echo", obs, "blob", big);
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy).maxPendingReplyBytes(1 << 20));
        WireSocket w = wire(server);
        w.socket.setReceiveBufferSize(64 << 10);
        byte[] request = rawStep(1);
        long sent = 0;
        try {
            for (int i = 0; i < 2000 && server.connectionCount() > 0; i++) {
                w.sendFrame(WireSocket.BINARY, request);
                sent += request.length;
                if (i % 16 == 15) {
                    Thread.sleep(5); // let the queue bound not be the one that trips
                }
            }
        } catch (IOException e) {
            // cut by the server while writing: expected
        }
        assertTrue(Probes.await(() -> server.connectionCount() == 0, Duration.ofSeconds(10)),
                "the connection that never reads is still open after " + sent + " bytes of requests");
        Probes.assertServes(server);
    }

    @Test
    void aPingFloodIsClosed1008() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = wire(server);
        // One write: pings still arriving when the server closes would make its close a reset.
        java.io.ByteArrayOutputStream flood = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 500; i++) {
            flood.write(WireSocket.frame(WireSocket.PING, new byte[] {(byte) i}, true));
        }
        w.write(flood.toByteArray());
        assertEquals(1008, closeCode(w));
        Probes.assertServes(server);
    }

    @Test
    void aPolicyHangingPastItsDeadlineHoldsABoundedNumberOfThreads() throws Exception {
        CountDownLatch end = new CountDownLatch(1);
        Policy stuck = new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> obs) {
                while (true) {
                    try {
                        end.await();
                        return Map.of();
                    } catch (InterruptedException e) {
                        // ignores interrupts, as a policy stuck in native code would
                    }
                }
            }

            @Override
            public boolean isThreadSafe() {
                return true; // so that every call hangs a thread of its own
            }
        };
        PolicyServer server = open.serve(wire, PolicyServer.builder(stuck).policyTimeout(Duration.ofMillis(100))
                .maxConcurrentRequests(2));
        try {
            List<String> errors = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                WireSocket w = wire(server);
                w.sendFrame(WireSocket.BINARY, rawStep(i));
                WireSocket.Frame f = w.readMessage();
                errors.add(f.text());
            }
            long policyThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("webpolicy-policy-")).count();
            assertTrue(policyThreads <= 2, policyThreads + " threads held by a hung policy");
            assertTrue(errors.get(0).contains("deadline"), errors.get(0));
            assertTrue(errors.get(5).contains("still running past their deadline"), errors.get(5));
        } finally {
            end.countDown();
        }
    }

    @Test
    void closeIsIdempotentUnderConcurrentCallsAndEachReturnsClosed() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = wire.on(PolicyServer.builder(gated)).host("127.0.0.1").port(0).build().start();
        int port = server.port();
        WireSocket w = open.add(WireSocket.open(wire, port));
        w.sendFrame(WireSocket.BINARY, rawStep(1));
        assertTrue(gated.entered.await(10, TimeUnit.SECONDS));
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> closedWhenReturned = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                closedWhenReturned.add(callers.submit(() -> {
                    server.close();
                    return refuses(port);
                }));
            }
            Thread.sleep(200);
            gated.release.countDown(); // the request in flight ends; close goes on
            for (Future<Boolean> f : closedWhenReturned) {
                assertTrue(f.get(20, TimeUnit.SECONDS), "a close() returned while the server was still open");
            }
            assertEquals(Optional.empty(), server.awaitClose());
        } finally {
            callers.shutdownNow();
        }
    }

    private static boolean refuses(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void connectionsCountFromAcceptHandshakeOrNot() throws Exception {
        // All from one address and silent: the per-address and first-byte bounds lifted, so that
        // the slots are what stops them (FloodHealthTest covers those bounds).
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()).maxConnections(2)
                .handshakeTimeout(Duration.ofSeconds(2)).maxHandshakesPerAddress(1000));
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            silent.add(open.add(new Socket("127.0.0.1", server.port())));
        }
        int limit = 2 + ConnectionSlots.HANDSHAKE_SLACK;
        assertTrue(Probes.await(() -> server.acceptedConnections() >= limit, Duration.ofSeconds(10)));
        Thread.sleep(300);
        // Each pause still lets the accept already asked for through: a few over, never the 100.
        assertTrue(server.acceptedConnections() <= limit + 4, server.acceptedConnections() + " accepted");
        for (Socket s : silent) {
            s.close();
        }
        assertTrue(Probes.await(() -> server.acceptedConnections() == 0, Duration.ofSeconds(20)));
        Probes.assertServes(server);
    }

    @Test
    void aFailureTheLibraryStopsForReportsTheServerDown() throws Exception {
        PolicyServer server = wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(0).build().start();
        try {
            OutOfMemoryError oom = new OutOfMemoryError("Java heap space (test)");
            // What the library's decoder thread does with an Error: tell the server, then stop it.
            server.endpoint().onError(null, new Exception(oom));
            ExecutorService waiter = Executors.newSingleThreadExecutor();
            try {
                Future<Optional<Throwable>> closed = waiter.submit(server::awaitClose);
                assertEquals(Optional.of(oom), closed.get(20, TimeUnit.SECONDS));
            } finally {
                waiter.shutdownNow();
            }
            assertEquals(Optional.of(oom), server.failure());
            assertTrue(refuses(server.port()), "the port is closed");
        } finally {
            server.close();
        }
    }

    @Test
    void textQuotedFromARequestIsCutInTheReplyAndTheLog() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        Map<String, Object> hostile = new LinkedHashMap<>();
        hostile.put(Envelope.OP, "x\r\n2026-11-29 00:00:00 [main] ERROR forged line " + "y".repeat(1 << 20));
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        String reply;
        try (java.io.PrintStream tee = new java.io.PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setErr(tee);
            WireSocket w = wire(server);
            w.sendFrame(WireSocket.BINARY, codec.pack(hostile));
            reply = w.readMessage().text();
            assertEquals(1011, closeCode(w));
            Thread.sleep(100);
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        err.print(log);
        assertTrue(reply.length() < 1000, "the error reply quotes " + reply.length() + " characters");
        assertTrue(log.contains("failed; closing the connection"), log);
        assertTrue(log.length() < 4000, "the log got " + log.length() + " characters");
        assertFalse(log.contains("\n2026-11-29"), "a forged line in the log");
    }

    @Test
    void protocolViolationsAreLoggedUnderOneRateLimitWithoutStackTraces() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        try (java.io.PrintStream tee = new java.io.PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setErr(tee);
            for (int i = 0; i < 100; i++) {
                try (WireSocket w = WireSocket.open(wire, server.port())) {
                    // RSV1 set with no extension negotiated: 1002 (a stack trace per frame from the library before)
                    w.write(new byte[] {(byte) 0xc2, (byte) 0x80, 1, 2, 3, 4});
                    closeCode(w);
                }
            }
            Thread.sleep(100);
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        long lines = log.lines().count();
        assertFalse(log.contains("\tat org.java_websocket"), "a library stack trace in the log");
        assertTrue(lines <= 2L * ClientLog.LINES_PER_SECOND * 5, lines + " log lines for 100 bad connections");
        System.out.println("FIGURE log: 100 protocol violations, " + lines + " log lines");
        Probes.assertServes(server);
    }

    @Test
    void aBadHandshakeGets400AndAWrongVersion426() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        String good = WireSocket.upgradeRequest("");
        assertStatus(server, good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), "400");
        assertStatus(server, good.replace("dGhlIHNhbXBsZSBub25jZQ==", "not-a-key"), "400");
        assertStatus(server, good.replace("Upgrade: websocket\r\n", ""), "400");
        assertStatus(server, good.replace("GET / HTTP/1.1", "POST / HTTP/1.1"), "400");
        assertStatus(server, good.replace("GET / HTTP/1.1", "GET / HTTP/1.0"), "400");
        String wrongVersion = assertStatus(server, good.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), "426");
        assertTrue(wrongVersion.contains("Sec-WebSocket-Version: 13"), wrongVersion);
        String upgraded = assertStatus(server, good, "101");
        assertTrue(upgraded.contains(Headers.REQUEST_ID + ": " + Headers.ECHO), upgraded);
        assertTrue(upgraded.contains(Headers.PROTOCOL + ": " + Headers.ENVELOPE), upgraded);
        Probes.assertServes(server);
    }

    private String assertStatus(PolicyServer server, String request, String status) throws IOException {
        try (WireSocket w = WireSocket.tcp(wire, server.port())) {
            w.write(request.getBytes(StandardCharsets.US_ASCII));
            String head = w.readHttpHead();
            assertTrue(head.startsWith("HTTP/1.1 " + status), "expected " + status + " for\n" + request + "got\n" + head);
            return head;
        }
    }

    @Test
    void theInboundBudgetRefusesAConnectionNotTheServer() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()).inboundMemoryBytes(4 << 20));
        List<WireSocket> fillers = new ArrayList<>();
        // Each sends 1.5 MiB of a 3 MiB frame: their buffers grow with the bytes until the budget is spent.
        int refused = 0;
        for (int i = 0; i < 6; i++) {
            WireSocket w = wire(server);
            fillers.add(w);
            try {
                w.write(WireSocket.frameHeader(WireSocket.BINARY, 3 << 20, true, new byte[3 << 19]));
            } catch (IOException e) {
                // refused while still writing: the close code is read below, if it arrived
            }
        }
        for (WireSocket w : fillers) {
            w.socket.setSoTimeout(2000);
            try {
                int code = closeCode(w);
                assertTrue(code == 1013 || code == -1, "closed with " + code);
                refused++;
            } catch (java.net.SocketTimeoutException e) {
                // still receiving: holds its part of the budget
            } catch (IOException e) {
                refused++; // reset after the refusal, before its close frame could be read
            }
        }
        assertTrue(refused >= 1, "no connection was refused (1013)");
        assertTrue(server.inboundBytes() <= 4 << 20, server.inboundBytes() + " bytes held");
        for (WireSocket w : fillers) {
            w.close();
        }
        assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)), "the budget is given back");
        Probes.assertServes(server);
    }

}
