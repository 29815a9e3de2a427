package org.webpolicy.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.BatchPolicy;

/**
 * {@code scripts/bench_batching}: how full batches are and how fairly connections are served,
 * each figure against what the same run measured without the disturbance.
 * <ol>
 * <li><b>Fill</b> (issue 22): 4 robots, a serialized batch policy taking 30 ms a call,
 * {@code batching(4, 20 ms)}: the batch sizes seen in steady state and the share of full ones.</li>
 * <li><b>Fairness</b> (issue 19): 8 robots sharing one shape against a policy of 2 ms a call,
 * {@code batching(8, 20 ms)}, alone and then with 16 connections each stepping a shape of its
 * own: the 8 robots' steps per second and latency p50/p99 in each phase, and each side's steps
 * per connection. Once with a serialized policy (connections take turns at it), once with a
 * thread-safe one (batches of different shapes run at once).</li>
 * </ol>
 * Usage: {@code scripts/bench_batching [SECONDS per phase]} (default 5).
 */
public final class BatchingBench {

    /** Answers each observation's "id" back after sleeping {@code callMillis}; records batch sizes. */
    static final class Sleeping implements BatchPolicy {
        final Map<Integer, Integer> sizes = Collections.synchronizedMap(new TreeMap<>());
        private final long callMillis;
        private final boolean threadSafe;
        volatile boolean recording;

        Sleeping(long callMillis, boolean threadSafe) {
            this.callMillis = callMillis;
            this.threadSafe = threadSafe;
        }

        @Override
        public boolean isThreadSafe() {
            return threadSafe;
        }

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            try {
                Thread.sleep(callMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            if (recording) {
                sizes.merge(observations.size(), 1, Integer::sum);
            }
            List<Map<String, Object>> actions = new ArrayList<>(observations.size());
            for (Map<String, Object> obs : observations) {
                actions.add(Map.of("id", obs.get("id")));
            }
            return actions;
        }
    }

    /** Robots stepping in a loop until stopped, each checking that its reply carries its own id. */
    private static final class Robots {
        final List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        volatile boolean measuring;
        long crossed;

        Robots(int port, int count, int firstId, int stateLength) {
            for (int r = 0; r < count; r++) {
                long base = (firstId + r) * 10_000_000L;
                Thread t = new Thread(() -> {
                    try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port)
                            .connectTimeout(Duration.ofSeconds(10)).build()) {
                        client.connect(); // outside the measured steps
                        for (long id = base; running.get(); id++) {
                            long t0 = System.nanoTime();
                            Object got = client.step(observation(id, stateLength)).get("id");
                            if (measuring) {
                                latencies.add(System.nanoTime() - t0);
                            }
                            if (!Long.valueOf(id).equals(got)) {
                                synchronized (this) {
                                    crossed++;
                                }
                            }
                        }
                    }
                }, "robot-" + firstId + "-" + r);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }

    private BatchingBench() {
    }

    static Map<String, Object> observation(long id, int stateLength) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("id", id);
        obs.put("state", NdArray.ofFloat32(new float[stateLength]));
        return obs;
    }

    /**
     * Runs both measurements and prints a FIGURE line for each.
     *
     * @param args seconds per measured phase (default 5)
     * @throws Exception when a server cannot start
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        fill(seconds);
        fairness(seconds, false);
        fairness(seconds, true);
        System.exit(0);
    }

    private static void fill(int seconds) throws Exception {
        Sleeping policy = new Sleeping(30, false);
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0)
                .batching(4, Duration.ofMillis(20)).build().start()) {
            Robots robots = new Robots(server.port(), 4, 1, 8);
            Thread.sleep(2000); // steady state: connected, JIT warm
            policy.recording = true;
            robots.measuring = true;
            Thread.sleep(seconds * 1000L);
            policy.recording = false;
            robots.stop();
            Map<Integer, Integer> sizes;
            synchronized (policy.sizes) {
                sizes = new TreeMap<>(policy.sizes);
            }
            int calls = sizes.values().stream().mapToInt(Integer::intValue).sum();
            int full = sizes.getOrDefault(4, 0);
            System.out.printf("FIGURE batching fill: 4 robots, serialized 30 ms policy, batching(4, 20 ms), %d s: batch sizes %s,"
                    + " %.1f%% of %d calls full; %.0f steps/s; robot p50/p99 %.1f/%.1f ms; crossed %d%n", seconds, sizes,
                    calls == 0 ? 0.0 : 100.0 * full / calls, calls, robots.latencies.size() / (double) seconds,
                    pct(robots.latencies, 50), pct(robots.latencies, 99), robots.crossed);
        }
    }

    private static void fairness(int seconds, boolean threadSafe) throws Exception {
        Sleeping policy = new Sleeping(2, threadSafe);
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0)
                .batching(8, Duration.ofMillis(20)).maxConcurrentRequests(32).build().start()) {
            Robots honest = new Robots(server.port(), 8, 1, 8);
            Thread.sleep(1000);
            honest.measuring = true;
            Thread.sleep(seconds * 1000L);
            honest.measuring = false;
            List<Long> alone;
            synchronized (honest.latencies) {
                alone = new ArrayList<>(honest.latencies);
                honest.latencies.clear();
            }
            List<Robots> odd = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                odd.add(new Robots(server.port(), 1, 100 + i, 100 + i)); // a shape of its own each
            }
            Thread.sleep(1000);
            honest.measuring = true;
            odd.forEach(r -> r.measuring = true);
            Thread.sleep(seconds * 1000L);
            honest.measuring = false;
            odd.forEach(r -> r.measuring = false);
            long oddSteps = odd.stream().mapToLong(r -> r.latencies.size()).sum();
            List<Long> underOdd;
            synchronized (honest.latencies) {
                underOdd = new ArrayList<>(honest.latencies);
            }
            for (Robots r : odd) {
                r.stop();
            }
            honest.stop();
            double before = alone.size() / (double) seconds;
            double after = underOdd.size() / (double) seconds;
            System.out.printf("FIGURE batching fairness: 8 robots, " + (threadSafe ? "thread-safe" : "serialized")
                    + " 2 ms policy, batching(8, 20 ms), %d s each:"
                    + " alone %.0f steps/s p50/p99 %.1f/%.1f ms; with 16 odd-shape connections %.0f steps/s (%.2fx)"
                    + " p50/p99 %.1f/%.1f ms; per connection: honest %.1f, odd %.1f steps/s; crossed %d%n", seconds, before,
                    pct(alone, 50), pct(alone, 99), after, before == 0 ? 0.0 : after / before, pct(underOdd, 50),
                    pct(underOdd, 99), after / 8, oddSteps / (double) seconds / 16, honest.crossed);
        }
    }

    private static double pct(List<Long> nanos, int p) {
        List<Long> sorted;
        synchronized (nanos) {
            sorted = new ArrayList<>(nanos);
        }
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
    }
}
