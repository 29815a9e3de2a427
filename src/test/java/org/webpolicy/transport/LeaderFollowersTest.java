package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * The I/O loop's thread that read a request answers it itself once a follower has taken the
 * selector (leader/followers): a call held in the policy on such a thread stalls no other
 * connection of the loop (replies, pings), replies stay in order per connection however requests
 * are split between loop threads and workers, requests read together in one turn go to workers
 * (the leader keeps the selector), requests answered at once stay within
 * {@code maxConcurrentRequests} and threads stay bounded, and a server closing with such a call in
 * flight answers it first. Each test first makes sure the path it means ran: the policy records
 * the thread of every call. Over {@code ws://} and {@code wss://}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class LeaderFollowersTest {

    private static final String LOOP_THREAD = "webpolicy-io-";
    /** Observations tagged at or past this are held in the policy when they run on a loop thread. */
    private static final float HOLD = 1_000_000;

    private final Wire wire;
    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    LeaderFollowersTest(Wire wire) {
        this.wire = wire;
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /**
     * Thread-safe: echoes the observation's tag and the thread that ran it. A call tagged
     * {@link #HOLD} or more that runs on a loop thread (or any call, when {@code holdAll}) waits
     * for {@link #release}. Counts calls running at once.
     */
    static final class Holding implements Policy {
        final boolean holdAll;
        final CountDownLatch release = new CountDownLatch(1);
        /** The thread of each call, as it starts. */
        final BlockingQueue<String> started = new LinkedBlockingQueue<>();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostRunning = new AtomicInteger();

        Holding(boolean holdAll) {
            this.holdAll = holdAll;
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            String thread = Thread.currentThread().getName();
            mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                started.add(thread);
                float tag = ((NdArray) observation.get("state")).getFloat(0);
                if (holdAll || (tag >= HOLD && thread.startsWith(LOOP_THREAD))) {
                    try {
                        if (!release.await(30, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the test never released the call");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted");
                    }
                }
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("tag", NdArray.ofFloat32(new float[] {tag}));
                out.put("thread", thread);
                return out;
            } finally {
                running.decrementAndGet();
            }
        }

        @Override
        public boolean isThreadSafe() {
            return true;
        }
    }

    private byte[] step(float tag) {
        return codec.pack(TestPolicies.observation(tag));
    }

    private Map<?, ?> reply(WireSocket.Frame frame) {
        assertNotNull(frame, "the server closed the connection instead of replying");
        assertEquals(WireSocket.BINARY, frame.opcode(), () -> "expected a reply, got " + frame.text());
        return (Map<?, ?>) codec.unpack(frame.payload());
    }

    private static float tag(Map<?, ?> reply) {
        return ((NdArray) reply.get("tag")).getFloat(0);
    }

    private PolicyServer serve(Policy policy, int maxConcurrentRequests) {
        return serve(PolicyServer.builder(policy).warmUp(0).maxConcurrentRequests(maxConcurrentRequests)
                .maxQueuedRequests(256).shutdownGrace(Duration.ofSeconds(20)));
    }

    /**
     * Loop threads alive before this test's server started: servers of earlier tests in the same
     * JVM use the same thread names, and some of their threads may still be alive.
     */
    private List<Thread> loopThreadsBefore = List.of();

    private PolicyServer serve(PolicyServerBuilder builder) {
        loopThreadsBefore = loopThreads();
        return open.serve(wire, builder);
    }

    /** The live loop threads this test's server made. */
    private List<Thread> ownLoopThreads() {
        List<Thread> own = loopThreads();
        own.removeAll(loopThreadsBefore);
        return own;
    }

    private static List<Thread> loopThreads() {
        return new ArrayList<>(serverThreads().stream().filter(t -> t.getName().startsWith(LOOP_THREAD)).toList());
    }

    private WireSocket connect(PolicyServer server) throws Exception {
        return open.add(WireSocket.open(wire, server.port()));
    }

    /**
     * Sends held requests on {@code w} until one runs on a loop thread (one that ran on a worker
     * because no follower was parked at that moment comes straight back); returns that thread.
     */
    private String holdOnLoopThread(WireSocket w, Holding policy) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            w.sendFrame(WireSocket.BINARY, step(HOLD + attempt));
            String thread = policy.started.poll(20, TimeUnit.SECONDS);
            assertNotNull(thread, "the request reached the policy");
            if (thread.startsWith(LOOP_THREAD)) {
                return thread;
            }
            assertEquals(HOLD + attempt, tag(reply(w.readMessage())));
        }
        throw new AssertionError("no request of 50 was answered on the I/O loop's thread that read it");
    }

    private static void awaitOwned(PolicyServer server, int connections) throws InterruptedException {
        assertTrue(Probes.await(() -> server.ownedConnections() == connections, Duration.ofSeconds(20)),
                "expected " + connections + " connections on the server's I/O loop, found " + server.ownedConnections());
    }

    @Test
    void aCallHeldOnALoopThreadStallsNoOtherConnection() throws Exception {
        Holding policy = new Holding(false);
        PolicyServer server = serve(policy, 16);
        WireSocket held = connect(server);
        WireSocket other = connect(server);
        awaitOwned(server, 2);
        String thread = holdOnLoopThread(held, policy);

        for (int i = 0; i < 50; i++) {
            other.sendFrame(WireSocket.BINARY, step(i));
            assertEquals(i, tag(reply(other.readMessage())), "another connection's step is answered");
            policy.started.take();
        }
        other.sendFrame(WireSocket.PING, new byte[] {7});
        WireSocket.Frame pong = other.readFrame();
        assertEquals(WireSocket.PONG, pong.opcode(), "another connection's ping is answered");
        held.sendFrame(WireSocket.PING, new byte[] {8});
        pong = held.readFrame();
        assertEquals(WireSocket.PONG, pong.opcode(), "the held connection's own ping is answered");
        assertEquals(8, pong.payload()[0]);
        WireSocket late = connect(server);
        late.sendFrame(WireSocket.BINARY, step(3));
        assertEquals(3, tag(reply(late.readMessage())), "a connection opened meanwhile is served");
        assertEquals(1, policy.release.getCount(), "all of it while the call on " + thread + " was held");

        policy.release.countDown();
        Map<?, ?> last = reply(held.readMessage());
        assertEquals(thread, last.get("thread"), "the held call was answered by the loop thread that read it");
        held.sendFrame(WireSocket.BINARY, step(5));
        assertEquals(5, tag(reply(held.readMessage())), "and its connection goes on");
    }

    @Test
    void withAnswersOnWorkersNoRequestRunsOnALoopThread() throws Exception {
        Holding policy = new Holding(false);
        PolicyServer server = serve(PolicyServer.builder(policy).warmUp(0).maxConcurrentRequests(4)
                .answerOnLoopThreads(false));
        WireSocket w = connect(server);
        awaitOwned(server, 1);
        for (int i = 0; i < 200; i++) {
            w.sendFrame(WireSocket.BINARY, step(i));
            Map<?, ?> r = reply(w.readMessage());
            assertEquals(i, tag(r));
            String thread = (String) r.get("thread");
            assertFalse(thread.startsWith(LOOP_THREAD), "request " + i + " was answered on " + thread);
        }
        assertEquals(1, ownLoopThreads().size(), "the loop has its one thread and no followers: " + ownLoopThreads());
    }

    @Test
    void repliesStayInOrderPerConnectionUnderPipelining() throws Exception {
        Holding policy = new Holding(false);
        PolicyServer server = serve(policy, 16);
        int connections = 4;
        int requests = 200;
        List<WireSocket> sockets = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            sockets.add(connect(server));
        }
        awaitOwned(server, connections);
        // Connection 0's first request is held on the loop thread that read it: the requests
        // pipelined behind it queue in its connection's turn, and go to workers or loop threads.
        String thread = holdOnLoopThread(sockets.get(0), policy);
        for (int c = 0; c < connections; c++) {
            // Bursts of several frames per write: a turn of the loop completes several requests
            // of one connection, and of several connections.
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < requests; i++) {
                burst.write(WireSocket.frame(WireSocket.BINARY, step(c * 10_000 + i), true));
                if (i % 7 == 6 || i == requests - 1) {
                    sockets.get(c).write(burst.toByteArray());
                    burst.reset();
                }
            }
        }
        policy.release.countDown();
        Map<?, ?> held = reply(sockets.get(0).readMessage());
        assertTrue(tag(held) >= HOLD, "connection 0's held request is answered first");
        assertEquals(thread, held.get("thread"), "by the loop thread that read it");
        Map<String, Integer> threads = new TreeMap<>();
        for (int c = 0; c < connections; c++) {
            for (int i = 0; i < requests; i++) {
                Map<?, ?> r = reply(sockets.get(c).readMessage());
                assertEquals(c * 10_000 + i, tag(r), "connection " + c + "'s replies in the order of its requests");
                threads.merge(((String) r.get("thread")).startsWith(LOOP_THREAD) ? "loop" : "worker", 1, Integer::sum);
            }
        }
        assertTrue(threads.getOrDefault("worker", 0) > 0, "requests completed together went to workers: " + threads);
    }

    @Test
    void requestsCompletedInOneTurnGoToWorkers() throws Exception {
        Holding policy = new Holding(false);
        PolicyServer server = serve(policy, 16);
        WireSocket w = connect(server);
        awaitOwned(server, 1);
        // Requests read in one turn mean clients are waiting on each other: each goes to a
        // worker, and the leader keeps the selector, even on a server otherwise idle.
        for (int round = 0; round < 20; round++) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write(WireSocket.frame(WireSocket.BINARY, step(2 * round), true));
            both.write(WireSocket.frame(WireSocket.BINARY, step(2 * round + 1), true));
            w.write(both.toByteArray());
            for (int i = 0; i < 2; i++) {
                Map<?, ?> r = reply(w.readMessage());
                assertEquals(2 * round + i, tag(r));
                String thread = (String) r.get("thread");
                assertFalse(thread.startsWith(LOOP_THREAD), "round " + round + ": request " + i + " of a pair read"
                        + " together was answered on " + thread);
            }
        }
    }

    @Test
    void callsAndThreadsStayBoundedUnderManyConnectionsWithSlowCalls() throws Exception {
        int maxConcurrent = 3;
        Holding policy = new Holding(true);
        PolicyServer server = serve(policy, maxConcurrent);
        List<Thread> before = serverThreads();
        int connections = 24;
        List<WireSocket> sockets = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            sockets.add(connect(server));
        }
        awaitOwned(server, connections);
        for (int c = 0; c < connections; c++) {
            sockets.get(c).sendFrame(WireSocket.BINARY, step(c));
        }
        assertTrue(Probes.await(() -> server.metricsText().contains("webpolicy_requests_total " + connections),
                Duration.ofSeconds(20)), "every request reached the server");
        List<String> threads = new ArrayList<>();
        for (int i = 0; i < maxConcurrent; i++) {
            threads.add(policy.started.poll(20, TimeUnit.SECONDS));
        }
        WireSocket pinger = connect(server);
        pinger.sendFrame(WireSocket.PING, new byte[] {1});
        assertEquals(WireSocket.PONG, pinger.readFrame().opcode(), "the loop still answers pings with every slot held");
        assertEquals(maxConcurrent, policy.running.get(), "calls running with all " + connections + " requests in: " + threads);
        assertEquals(maxConcurrent, policy.mostRunning.get(), "never more than maxConcurrentRequests at once");
        assertTrue(policy.started.isEmpty(), "no call started past the bound: " + policy.started);

        // Threads made since the server started (threads of servers closed earlier may linger;
        // only new ones count): workers only, within the bound; the loop's are there from its start.
        List<Thread> made = serverThreads();
        made.removeAll(before);
        List<String> names = made.stream().map(Thread::getName).toList();
        assertTrue(made.size() <= maxConcurrent, "threads made while the calls are held: " + names);
        assertTrue(names.stream().allMatch(n -> n.startsWith("webpolicy-worker-")), "only workers: " + names);
        long loop = ownLoopThreads().size();
        int followers = Math.min(maxConcurrent, Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
        assertTrue(loop <= 1 + followers, "the loop's threads: " + loop);

        policy.release.countDown();
        for (int c = 0; c < connections; c++) {
            assertEquals(c, tag(reply(sockets.get(c).readMessage())), "connection " + c + " gets its reply");
        }
        assertEquals(maxConcurrent, policy.mostRunning.get());
    }

    @Test
    void closingWithACallInFlightOnALoopThreadAnswersItFirst() throws Exception {
        Holding policy = new Holding(false);
        PolicyServer server = serve(policy, 16);
        List<Thread> loopThreads = ownLoopThreads();
        WireSocket held = connect(server);
        awaitOwned(server, 1);
        String thread = holdOnLoopThread(held, policy);
        assertTrue(loopThreads.stream().anyMatch(t -> t.getName().equals(thread)), thread + " is one of " + loopThreads);
        Thread closer = new Thread(server::close, "test-closer");
        closer.start();
        // The closer waits for the answer under way (its grace is 20 s), not for a worker.
        assertTrue(Probes.await(() -> closer.getState() == Thread.State.TIMED_WAITING, Duration.ofSeconds(20)),
                "close() is waiting");
        assertTrue(closer.isAlive(), "close() does not return while a call runs");

        policy.release.countDown();
        Map<?, ?> last = reply(held.readMessage());
        assertEquals(thread, last.get("thread"), "the call in flight is answered before the connection closes");
        WireSocket.Frame close = held.readMessage();
        assertNotNull(close, "then a close frame");
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertEquals(1001, ((close.payload()[0] & 0xff) << 8) | (close.payload()[1] & 0xff), "going away");
        closer.join(20_000);
        assertTrue(!closer.isAlive(), "close() returned");
        assertTrue(Probes.await(() -> loopThreads.stream().noneMatch(Thread::isAlive), Duration.ofSeconds(20)),
                "the loop's threads are gone");
    }

    /** The live threads servers make. */
    private static List<Thread> serverThreads() {
        List<Thread> threads = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("webpolicy-")) {
                threads.add(t);
            }
        }
        return threads;
    }
}
