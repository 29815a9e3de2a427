package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

/**
 * Churn and soak: many short connections, then many steps over a few long ones, after which the
 * process's threads, file descriptors, heap and resident memory are back near where they began.
 *
 * <p>{@code -Dchurn.cycles} (default 1000) and {@code -Dsoak.steps} (default 20 000, over 8
 * clients) size them; {@code scripts/soak} runs 100 000 steps.
 */
@Tag("load")
@Tag("campaign") // runs with -Pcampaigns (CI and the scripts), not in the default build
class LoadTest {

    private static final int CYCLES = Integer.getInteger("churn.cycles", 1000);
    private static final int SOAK_STEPS = Integer.getInteger("soak.steps", 20_000);
    private static final int SOAK_CLIENTS = 8;

    @Test
    void connectStepDisconnectCyclesLeaveNothingBehind() throws Exception {
        // Warm up what is created once per JVM (class loading, the codec, thread pools' first threads).
        try (PolicyServer warm = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0).build().start()) {
            for (int i = 0; i < 20; i++) {
                Probes.assertServes(warm);
            }
        }
        Thread.sleep(100); // let closed sockets' threads exit before the baseline
        int threads0 = Probes.liveThreads();
        int fds0 = Probes.openFds();
        long heap0 = Probes.usedHeapAfterGc();

        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0).build().start()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < CYCLES; i++) {
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(20)).build()) {
                    float tag = i;
                    Map<?, ?> echo = (Map<?, ?>) client.step(TestPolicies.observation(tag)).get("echo");
                    if (((NdArray) echo.get("state")).getFloat(0) != tag) {
                        throw new AssertionError("cycle " + i + " got another request's reply");
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(Probes.await(() -> server.connectionCount() == 0, Duration.ofSeconds(30)),
                    server.connectionCount() + " connections still open after every client closed");
            int threadsDuring = Probes.liveThreads();
            int fdsDuring = Probes.openFds();
            System.out.printf("FIGURE churn: %d connect/step/disconnect cycles in %.1f s; with the server still up:"
                    + " threads %d -> %d, fds %d -> %d%n", CYCLES, seconds, threads0, threadsDuring, fds0, fdsDuring);
            // The server is up: its own threads and sockets are there, the clients' are gone.
            assertTrue(Probes.await(() -> Probes.openFds() <= fds0 + 24, Duration.ofSeconds(30)),
                    "descriptors leak: " + fds0 + " -> " + Probes.openFds());
        }
        // Server closed too: back to the baseline.
        assertTrue(Probes.await(() -> Probes.liveThreads() <= threads0 + 4, Duration.ofSeconds(60)),
                "threads leak: " + threads0 + " -> " + Probes.liveThreads());
        assertTrue(Probes.await(() -> Probes.openFds() <= fds0 + 4, Duration.ofSeconds(30)),
                "descriptors leak: " + fds0 + " -> " + Probes.openFds());
        long heap1 = Probes.usedHeapAfterGc();
        System.out.printf("FIGURE churn after close: threads %d -> %d, fds %d -> %d, heap after GC %s -> %s%n", threads0,
                Probes.liveThreads(), fds0, Probes.openFds(), Probes.mib(heap0), Probes.mib(heap1));
        assertTrue(heap1 <= heap0 + (16L << 20), "heap grew from " + Probes.mib(heap0) + " to " + Probes.mib(heap1));
    }

    @Test
    void soakOfManyStepsOverEightClientsDoesNotGrowMemory() throws Exception {
        int perClient = Math.max(100, SOAK_STEPS / SOAK_CLIENTS);
        int warmupPerClient = Math.max(50, perClient / 10);
        ExecutorService pool = Executors.newFixedThreadPool(SOAK_CLIENTS);
        List<PolicyClient> clients = new ArrayList<>();
        try (PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0).build().start()) {
            for (int c = 0; c < SOAK_CLIENTS; c++) {
                clients.add(PolicyClient.builder().host("127.0.0.1").port(server.port())
                        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(30)).build());
            }
            AtomicLong steps = new AtomicLong();
            run(pool, clients, warmupPerClient, steps);
            long heapWarm = Probes.usedHeapAfterGc();
            long rssWarm = Probes.rssKiB();
            long nativeWarm = Probes.committedOutsideHeapKiB();
            int threadsWarm = Probes.liveThreads();
            int fdsWarm = Probes.openFds();

            long t0 = System.nanoTime();
            int slices = 5;
            long[] heapSamples = new long[slices];
            for (int s = 0; s < slices; s++) {
                run(pool, clients, perClient / slices, steps);
                heapSamples[s] = Probes.usedHeapAfterGc();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long heapEnd = heapSamples[slices - 1];
            long rssEnd = Probes.rssKiB();
            long nativeEnd = Probes.committedOutsideHeapKiB();
            StringBuilder samples = new StringBuilder();
            for (long h : heapSamples) {
                samples.append(samples.length() == 0 ? "" : ", ").append(Probes.mib(h));
            }
            System.out.printf("FIGURE soak: %d clients, %d steps (%d after warm-up) in %.1f s (%.0f steps/s);"
                    + " heap after GC: warm %s, then %s; RSS %d -> %d MiB; JVM memory outside the heap %d -> %d MiB; threads %d -> %d; fds %d -> %d%n", SOAK_CLIENTS,
                    steps.get(), steps.get() - (long) warmupPerClient * SOAK_CLIENTS, seconds,
                    (steps.get() - (long) warmupPerClient * SOAK_CLIENTS) / seconds, Probes.mib(heapWarm), samples,
                    rssWarm / 1024, rssEnd / 1024, nativeWarm / 1024, nativeEnd / 1024, threadsWarm, Probes.liveThreads(), fdsWarm, Probes.openFds());
            assertTrue(heapEnd <= heapWarm + (16L << 20),
                    "heap grew from " + Probes.mib(heapWarm) + " to " + Probes.mib(heapEnd));
            // Native memory: what the JVM has committed outside the heap (native memory tracking; RSS
            // would also count heap pages touched for the first time). 32 MiB is far below what a
            // leak of one buffer per step would show (1 KB a step is 20 MB here, one 100 KB message
            // buffer a step 2 GB).
            assertTrue(nativeEnd <= nativeWarm + 32 * 1024,
                    "memory outside the heap grew from " + nativeWarm / 1024 + " to " + nativeEnd / 1024 + " MiB");
            assertTrue(Probes.liveThreads() <= threadsWarm + 4, "threads grew: " + threadsWarm + " -> " + Probes.liveThreads());
            assertTrue(Probes.openFds() <= fdsWarm + 4, "descriptors grew: " + fdsWarm + " -> " + Probes.openFds());
        } finally {
            clients.forEach(PolicyClient::close);
            pool.shutdownNow();
        }
    }

    private static void run(ExecutorService pool, List<PolicyClient> clients, int perClient, AtomicLong steps)
            throws Exception {
        List<Future<?>> runs = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            PolicyClient client = clients.get(c);
            int id = c;
            runs.add(pool.submit(() -> {
                for (int i = 0; i < perClient; i++) {
                    float tag = id * 1_000_000 + i;
                    Map<?, ?> echo = (Map<?, ?>) client.step(TestPolicies.observation(tag)).get("echo");
                    if (((NdArray) echo.get("state")).getFloat(0) != tag) {
                        throw new AssertionError("client " + id + " step " + i + " got another request's reply");
                    }
                    steps.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> r : runs) {
            r.get(10, TimeUnit.MINUTES);
        }
    }
}
