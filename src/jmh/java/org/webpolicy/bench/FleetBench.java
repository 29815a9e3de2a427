package org.webpolicy.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.transport.MetricsCost;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.PolicyServerBuilder;

/**
 * The fleet benchmark (scripts/bench_fleet): 16 robots against one server whose policy costs what
 * a GPU's does, a fixed 8 ms per call plus 0.5 ms per observation, with and without batching,
 * in one run on loopback. Prints steps per second and latency percentiles for robots stepping as
 * fast as they can, then each robot's achieved rate at 50 Hz, then the metrics' cost per request.
 * Every reply is checked against its own robot and step.
 */
public final class FleetBench {

    static final int ROBOTS = 16;

    private FleetBench() {
    }

    /** 8 ms per call plus 0.5 ms per observation, waited out without a CPU spinning. */
    static final class GpuLikePolicy implements BatchPolicy {
        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            long until = System.nanoTime() + 8_000_000L + 500_000L * observations.size();
            long left;
            while ((left = until - System.nanoTime()) > 0) {
                LockSupport.parkNanos(left);
            }
            List<Map<String, Object>> actions = new ArrayList<>(observations.size());
            for (Map<String, Object> obs : observations) {
                Map<String, Object> action = new LinkedHashMap<>();
                action.put("robot", obs.get("robot"));
                action.put("step", obs.get("step"));
                action.put("actions", NdArray.ofFloat32(new float[14 * 10], 10, 14));
                actions.add(action);
            }
            return actions;
        }
    }

    /** What one run measured. */
    record Run(double stepsPerSecond, long[] latencyNanos, double[] robotHz, double meanBatch, int lateSteps) {
        double percentileMs(double p) {
            long[] sorted = latencyNanos.clone();
            Arrays.sort(sorted);
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
        }
    }

    static Run run(boolean batching, double hz, Duration length, Duration maxWait) throws Exception {
        PolicyServerBuilder builder = PolicyServer.builder(new GpuLikePolicy()).host("127.0.0.1").port(0);
        if (batching) {
            builder.batching(ROBOTS, maxWait);
        }
        try (PolicyServer server = builder.build().start()) {
            List<PolicyClient> clients = new ArrayList<>();
            for (int r = 0; r < ROBOTS; r++) {
                PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                        .requestTimeout(Duration.ofSeconds(30)).build();
                client.connect();
                clients.add(client);
            }
            // Warm-up: every robot's first steps, then the measured window.
            List<long[]> latencies = new ArrayList<>();
            int[] steps = new int[ROBOTS];
            CountDownLatch done = new CountDownLatch(ROBOTS);
            long start = System.nanoTime() + 500_000_000L;
            long end = start + length.toNanos();
            long periodNanos = hz > 0 ? (long) (1e9 / hz) : 0;
            Thread[] robots = new Thread[ROBOTS];
            long[][] perRobot = new long[ROBOTS][];
            java.util.concurrent.atomic.AtomicInteger late = new java.util.concurrent.atomic.AtomicInteger();
            for (int r = 0; r < ROBOTS; r++) {
                int robot = r;
                robots[r] = new Thread(() -> {
                    long[] mine = new long[1 << 16];
                    int n = 0;
                    long step = 0;
                    long next = System.nanoTime();
                    try {
                        while (true) {
                            long now = System.nanoTime();
                            if (now >= end) {
                                break;
                            }
                            if (periodNanos > 0) {
                                while ((now = System.nanoTime()) < next) {
                                    LockSupport.parkNanos(next - now);
                                }
                                next += periodNanos;
                            }
                            Map<String, Object> obs = new LinkedHashMap<>();
                            obs.put("robot", (long) robot);
                            obs.put("step", step);
                            obs.put("state", NdArray.ofFloat32(new float[14], 14));
                            obs.put("prompt", "fold the towel");
                            long t0 = System.nanoTime();
                            Map<String, Object> action = clients.get(robot).step(obs);
                            long t1 = System.nanoTime();
                            if (!Long.valueOf(robot).equals(action.get("robot")) || !Long.valueOf(step).equals(action.get("step"))) {
                                throw new IllegalStateException("robot " + robot + " step " + step + " got " + action);
                            }
                            step++;
                            if (t0 >= start && n < mine.length) {
                                mine[n++] = t1 - t0;
                                // Paced: the action came after the robot's next tick was due.
                                if (periodNanos > 0 && t1 > next) {
                                    late.incrementAndGet();
                                }
                            }
                        }
                    } finally {
                        perRobot[robot] = Arrays.copyOf(mine, n);
                        done.countDown();
                    }
                }, "robot-" + r);
                robots[r].start();
            }
            done.await();
            for (Thread t : robots) {
                t.join();
            }
            for (PolicyClient c : clients) {
                c.close();
            }
            double seconds = length.toNanos() / 1e9;
            double[] robotHz = new double[ROBOTS];
            long total = 0;
            for (int r = 0; r < ROBOTS; r++) {
                if (perRobot[r] == null) {
                    throw new IllegalStateException("robot " + r + " failed");
                }
                robotHz[r] = perRobot[r].length / seconds;
                total += perRobot[r].length;
                latencies.add(perRobot[r]);
            }
            long[] all = latencies.stream().flatMapToLong(Arrays::stream).toArray();
            return new Run(total / seconds, all, robotHz, MetricsCost.meanBatchSize(server), late.get());
        }
    }

    private static String line(String name, Run run) {
        double minHz = Arrays.stream(run.robotHz()).min().orElse(0);
        double maxHz = Arrays.stream(run.robotHz()).max().orElse(0);
        return String.format(Locale.ROOT, "%-34s %9.1f %8.1f %8.1f %8.1f   %6.1f-%6.1f %8.1f", name, run.stepsPerSecond(),
                run.percentileMs(0.50), run.percentileMs(0.99), run.percentileMs(1.0), minHz, maxHz, run.meanBatch());
    }

    /**
     * Runs the benchmark.
     *
     * @param args optional: seconds per run (default 5), the batch's maxWait in ms (default 10)
     * @throws Exception when a run fails (a robot got another robot's action, or an error)
     */
    public static void main(String[] args) throws Exception {
        Duration length = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 5);
        Duration maxWait = Duration.ofMillis(args.length > 1 ? Long.parseLong(args[1]) : 10);
        String batched16 = "batched (16, " + maxWait.toMillis() + " ms)";
        System.out.printf(Locale.ROOT, "Policy: 8 ms + 0.5 ms per observation per call; %d robots; %d s per run; loopback%n",
                ROBOTS, length.toSeconds());
        System.out.printf(Locale.ROOT, "%-34s %9s %8s %8s %8s   %-13s %8s%n", "run", "steps/s", "p50 ms", "p99 ms", "max ms",
                "robot Hz (min-max)", "batch");
        Run unbatched = run(false, 0, length, maxWait);
        System.out.println(line("as fast as possible, unbatched", unbatched));
        Run batched = run(true, 0, length, maxWait);
        System.out.println(line("as fast as possible, " + batched16, batched));
        System.out.printf(Locale.ROOT, "batching / unbatched steps per second: %.2fx%n",
                batched.stepsPerSecond() / unbatched.stepsPerSecond());
        Run paced = run(true, 50, length, maxWait);
        System.out.println(line("50 Hz each, " + batched16, paced));
        Run pacedUnbatched = run(false, 50, length, maxWait);
        System.out.println(line("50 Hz each, unbatched", pacedUnbatched));
        double slowest = Arrays.stream(paced.robotHz()).min().orElse(0);
        long scheduled = ROBOTS * 50L * length.toSeconds();
        System.out.printf(Locale.ROOT, "50 Hz batched: slowest robot %.2f Hz; %d of %d steps answered after the robot's next"
                + " tick was due (%.2f%%)%n", slowest, paced.lateSteps(), scheduled, 100.0 * paced.lateSteps() / scheduled);

        MetricsCost.recordingNanosPerRequest(2_000_000, 1);
        double one = MetricsCost.recordingNanosPerRequest(5_000_000, 1);
        double two = MetricsCost.recordingNanosPerRequest(2_000_000, 2);
        System.out.printf(Locale.ROOT, "metrics recorded per request: %.0f ns (1 thread), %.0f ns (2 threads at once)%n",
                one, two);
        try (PolicyServer server = PolicyServer.builder(new GpuLikePolicy()).host("127.0.0.1").port(0).build().start()) {
            for (int i = 0; i < 2000; i++) {
                server.metricsText();
            }
            int n = 20_000;
            long t0 = System.nanoTime();
            int bytes = 0;
            for (int i = 0; i < n; i++) {
                bytes += server.metricsText().length();
            }
            System.out.printf(Locale.ROOT, "GET /metrics text built: %.1f us per scrape, %d bytes%n",
                    (System.nanoTime() - t0) / 1e3 / n, bytes / n);
        }
    }
}
