package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * Faults on either side: policies that throw, hang or answer what cannot be sent, clients that
 * vanish at every stage, a server restarted under a running client. The faulty request's client
 * is told; everyone else is served; no reply ever answers the wrong request.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class FaultTest {

    private final Wire wire;

    FaultTest(Wire wire) {
        this.wire = wire;
    }

    private final TestResources open = new TestResources();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        pool.shutdownNow();
        open.close();
    }

    private PolicyServer serve(PolicyServerBuilder builder) {
        return open.serve(wire, builder);
    }

    private PolicyClient client(int port) {
        PolicyClient c = wire.client(port).connectTimeout(Duration.ofSeconds(20))
                .retryInterval(Duration.ofMillis(50)).requestTimeout(Duration.ofSeconds(30)).build();
        open.add(c);
        return c;
    }

    /** Steps {@code {"seq": n}} and checks the echo is of that very request. */
    private static void stepChecked(PolicyClient client, long seq) {
        Map<String, Object> action = client.step(Map.of("seq", seq));
        Object echoed = ((Map<?, ?>) action.get("echo")).get("seq");
        if (!Long.valueOf(seq).equals(echoed)) {
            throw new AssertionError("request " + seq + " was answered with the reply to " + echoed);
        }
    }

    /** Echoes, except when the observation says what to do wrong. */
    static final class Faulty implements Policy {
        final CountDownLatch hanging = new CountDownLatch(1);
        final AtomicLong steps = new AtomicLong();

        @Override
        public Map<String, Object> step(Map<String, Object> obs) {
            steps.incrementAndGet();
            Object fault = obs.get("fault");
            if ("throw".equals(fault)) {
                throw new IllegalStateException("policy failure on purpose");
            }
            if ("hang".equals(fault)) {
                hanging.countDown();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < until) { // ignores interrupts, as a stuck native call would
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        // keep hanging
                    }
                    if (obs.containsKey("release") && ((AtomicBoolean) obs.get("release")).get()) {
                        break;
                    }
                }
                return Map.of("late", true);
            }
            if ("object".equals(fault)) {
                return Map.of("action", new Object());
            }
            if ("int[]".equals(fault)) {
                return Map.of("action", new int[] {1, 2, 3});
            }
            if ("nested".equals(fault)) {
                // A plain Thread, whichever of the server's threads (a worker, a loop thread) answers.
                return Map.of("a", Map.of("b", List.of(1L, new Thread(() -> { }))));
            }
            if ("large".equals(fault)) {
                return Map.of("big", NdArray.zeros(DType.FLOAT32, 16, 1024, 1024)); // 64 MiB
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("echo", obs);
            return out;
        }

        @Override
        public boolean isThreadSafe() {
            return true;
        }
    }

    @Test
    void throwingAndUnencodableRepliesReachOnlyTheirClient() throws Exception {
        Faulty policy = new Faulty();
        PolicyServer server = serve(PolicyServer.builder(policy));
        PolicyClient bystander = client(server.port());
        AtomicBoolean stop = new AtomicBoolean();
        Future<Long> steady = pool.submit(() -> {
            long seq = 0;
            while (!stop.get()) {
                stepChecked(bystander, seq++);
            }
            return seq;
        });
        PolicyClient victim = client(server.port());
        for (String fault : List.of("throw", "object", "int[]", "nested")) {
            RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> victim.step(Map.of("fault", fault)));
            String expected = switch (fault) {
                case "throw" -> "IllegalStateException: policy failure on purpose";
                case "object" -> "$.action";
                case "int[]" -> "int[]";
                default -> "a.b[1]: cannot encode a java.lang.Thread";
            };
            assertTrue(e.serverText().contains(expected), fault + ": " + e.serverText());
            stepChecked(victim, 1000); // the victim reconnects and is served
        }
        stop.set(true);
        long steps = steady.get(30, TimeUnit.SECONDS);
        assertTrue(steps > 0, "the bystander kept stepping");
        System.out.printf("FIGURE faults: a bystander made %d checked steps while 4 faulty replies were answered%n", steps);
    }

    @Test
    void aPolicyHangingPastTheDeadlineFailsOnlyItsRequest() throws Exception {
        Faulty policy = new Faulty();
        PolicyServer server = serve(PolicyServer.builder(policy).policyTimeout(Duration.ofMillis(300)));
        PolicyClient victim = client(server.port());
        AtomicBoolean release = new AtomicBoolean();
        Map<String, Object> hang = new LinkedHashMap<>();
        hang.put("fault", "hang");
        Future<?> hung = pool.submit(() -> policy.step(Map.of("fault", "hang", "release", release))); // holds a thread, as the abandoned call does
        RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> victim.step(hang));
        assertTrue(e.serverText().contains("exceeded its deadline of 300 ms"), e.serverText());
        PolicyClient other = client(server.port());
        for (long i = 0; i < 20; i++) {
            stepChecked(other, i);
        }
        stepChecked(victim, 7);
        release.set(true);
        hung.get(30, TimeUnit.SECONDS);
    }

    @Test
    void clientsVanishingWhileALargeReplyIsSentLeaveTheServerServing() throws Exception {
        Faulty policy = new Faulty();
        PolicyServer server = serve(PolicyServer.builder(policy));
        byte[] request = new MsgpackCodec().pack(Map.of("fault", "large"));
        long rssBefore = Probes.rssKiB();
        for (int i = 0; i < 5; i++) {
            WireSocket w = WireSocket.open(wire, server.port());
            w.socket.setReceiveBufferSize(4096);
            w.sendFrame(WireSocket.BINARY, request);
            byte[] head = w.socket.getInputStream().readNBytes(2); // the reply has begun
            assertEquals(2, head.length);
            w.close(); // ... and the client is gone
        }
        assertTrue(Probes.await(() -> server.connectionCount() == 0, Duration.ofSeconds(20)),
                "vanished clients are let go: " + server.connectionCount());
        Probes.assertServes(server);
        System.out.printf("FIGURE vanish: 5 clients left mid-way through 64 MiB replies; RSS %d -> %d MiB%n",
                rssBefore / 1024, Probes.rssKiB() / 1024);
    }

    @Test
    void aServerRestartUnderARunningClientLosesNoCallAfterItIsBackAndMixesNoReplies() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        PolicyServer first = wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(port).build().start();
        PolicyClient client = client(port);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        Future<?> loop = pool.submit(() -> {
            long seq = 0;
            while (!stop.get()) {
                try {
                    stepChecked(client, seq++);
                    ok.incrementAndGet();
                } catch (PolicyConnectionException | RemotePolicyException e) {
                    // the call in flight when the server went away (lost, or refused as it shut down)
                    failed.incrementAndGet();
                }
            }
            return null;
        });
        assertTrue(Probes.await(() -> ok.get() > 50, Duration.ofSeconds(20)));
        first.close();
        long okAtRestart = ok.get();
        PolicyServer second = wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(port).build().start();
        open.add(second);
        assertTrue(Probes.await(() -> ok.get() > okAtRestart + 50, Duration.ofSeconds(30)),
                "the client steps again once the server is back");
        stop.set(true);
        loop.get(30, TimeUnit.SECONDS);
        assertTrue(failed.get() <= 2, "at most the call in flight fails: " + failed.get());
        stepChecked(client, 1_000_000);
        System.out.printf("FIGURE restart: %d checked steps, %d failed across the restart, %d connections now%n", ok.get(),
                failed.get(), second.connectionCount());
    }
}
