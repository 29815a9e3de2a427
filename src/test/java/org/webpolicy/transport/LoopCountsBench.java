package org.webpolicy.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Policy;

/**
 * {@code scripts/bench_loop_counts}: what the server's threads do per ALOHA round trip, in counts
 * rather than times (issue 22: the machine is shared, times are noisy, counts much less). Clients
 * step a 600 KB ALOHA observation against a random 50x14 policy in this process; over the
 * measured window it prints, per thread group, voluntary and involuntary context switches (from
 * {@code /proc/self/task/}), and, when {@code perf} can attach to the process, syscalls
 * ({@code epoll_wait}, {@code read}, {@code write}), futex wakes and waits, and wake-ups by the
 * woken thread (a loop thread, a worker, a client), each divided by the round trips in perf's
 * window (the clients' request writes: one per round trip).
 *
 * <p>Usage: {@code scripts/bench_loop_counts on|off CLIENTS [WARMUP steps per client] [SECONDS]};
 * {@code off} serves with {@code answerOnLoopThreads(false)}.
 */
public final class LoopCountsBench {

    private static final String[] PERF_COLUMNS = {"epoll_wait", "read", "write", "futex wake", "futex wait",
        "wakes loop", "wakes worker", "wakes client"};
    private static final String[] PERF_EVENTS = {
        "-e", "raw_syscalls:sys_enter", "--filter", "id==232",
        "-e", "raw_syscalls:sys_enter", "--filter", "id==0",
        "-e", "raw_syscalls:sys_enter", "--filter", "id==1",
        "-e", "syscalls:sys_enter_futex", "--filter", "op==129||op==1",
        "-e", "syscalls:sys_enter_futex", "--filter", "op==137||op==9||op==393||op==265||op==128||op==0",
        "-e", "sched:sched_wakeup", "--filter", "comm~\"webpolicy-io*\"",
        "-e", "sched:sched_wakeup", "--filter", "comm~\"webpolicy-worke*\"",
        "-e", "sched:sched_wakeup", "--filter", "comm~\"client-*\"",
    };

    private LoopCountsBench() {
    }

    /** Answers {@code {"actions": float32 (50, 14)}} of noise, as the CLI's random policy. */
    static Policy randomPolicy() {
        return new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                float[] values = new float[50 * 14];
                for (int i = 0; i < values.length; i++) {
                    values[i] = random.nextFloat() * 2 - 1;
                }
                return Map.of("actions", NdArray.ofFloat32(values, 50, 14));
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        };
    }

    /** ALOHA: 4 cameras uint8 (3, 224, 224), state float64 (14,), a prompt. */
    static Map<String, Object> aloha(Random random) {
        Map<String, Object> obs = new LinkedHashMap<>();
        double[] state = new double[14];
        for (int i = 0; i < state.length; i++) {
            state[i] = random.nextDouble();
        }
        obs.put("state", NdArray.ofFloat64(state, 14));
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : new String[] {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}) {
            byte[] pixels = new byte[3 * 224 * 224];
            random.nextBytes(pixels);
            images.put(cam, NdArray.ofUint8(pixels, 3, 224, 224));
        }
        obs.put("images", images);
        obs.put("prompt", "do something");
        return obs;
    }

    /** Context switches of one thread, from {@code /proc/self/task/ID/status}. */
    private record Switches(String group, long voluntary, long involuntary) {
    }

    private static Map<String, Switches> switches() throws IOException {
        Map<String, Switches> out = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String group = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "#");
                    long voluntary = 0;
                    long involuntary = 0;
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            voluntary = Long.parseLong(line.split("\\s+")[1]);
                        } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                            involuntary = Long.parseLong(line.split("\\s+")[1]);
                        }
                    }
                    out.put(task.getFileName().toString(), new Switches(group, voluntary, involuntary));
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return out;
    }

    /**
     * Runs the benchmark.
     *
     * @param args on|off, clients, warm-up steps per client, seconds measured
     * @throws Exception when the server or a client fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("on") || args[0].equals("off"))) {
            throw new IllegalArgumentException("usage: on|off CLIENTS [WARMUP] [SECONDS]; got " + List.of(args));
        }
        boolean onLoop = args[0].equals("on");
        int clients = Integer.parseInt(args[1]);
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 8000;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Map<String, Object> observation = aloha(new Random(0));
        try (PolicyServer server = PolicyServer.builder(randomPolicy()).host("127.0.0.1").port(0)
                .reuseMessageBuffers(true).answerOnLoopThreads(onLoop).warmUp(0).build().start()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            CyclicBarrier warm = new CyclicBarrier(clients + 1);
            long[] steps = new long[clients];
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int me = c;
                Thread t = new Thread(() -> {
                    try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                            .protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10)).build().connect()) {
                        for (int i = 0; i < warmup; i++) {
                            client.step(observation);
                        }
                        warm.await();
                        while (!stop.get()) {
                            client.step(observation);
                            synchronized (steps) {
                                steps[me]++;
                            }
                        }
                    } catch (Exception e) {
                        failed.set(e);
                        warm.reset();
                    }
                }, "client-" + c);
                t.start();
                threads.add(t);
            }
            warm.await();
            Path perfOut = Files.createTempFile("loop-counts", ".csv");
            Process perf = startPerf(perfOut);
            Map<String, Switches> before = switches();
            long stepsBefore = total(steps);
            Thread.sleep(seconds * 1000L);
            long n = total(steps) - stepsBefore;
            Map<String, Switches> after = switches();
            if (perf != null) {
                // SIGINT: perf stat prints its counts and exits
                new ProcessBuilder("kill", "-INT", Long.toString(perf.pid())).start().waitFor();
                perf.waitFor();
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            if (failed.get() != null) {
                throw new IllegalStateException("a client failed", failed.get());
            }
            System.out.printf("leader/followers %s, %d clients, ALOHA, %d round trips in %d s (%.0f/s), load %s%n",
                    onLoop ? "on" : "off", clients, n, seconds, n / (double) seconds,
                    Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            printSwitches(before, after, n);
            if (perf != null) {
                printPerf(perfOut);
            }
            Files.deleteIfExists(perfOut);
        }
    }

    private static long total(long[] steps) {
        synchronized (steps) {
            long n = 0;
            for (long s : steps) {
                n += s;
            }
            return n;
        }
    }

    private static Process startPerf(Path out) throws InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("perf", "stat", "--per-thread", "-x", ",", "-o", out.toString()));
        cmd.addAll(List.of(PERF_EVENTS));
        cmd.addAll(List.of("-p", Long.toString(ProcessHandle.current().pid())));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            Thread.sleep(500);
            if (!p.isAlive()) {
                System.out.println("perf stat did not attach (exit " + p.exitValue() + "): context switches only");
                return null;
            }
            return p;
        } catch (IOException e) {
            System.out.println("no perf (" + e.getMessage() + "): context switches only");
            return null;
        }
    }

    private static void printSwitches(Map<String, Switches> before, Map<String, Switches> after, long n) {
        Map<String, double[]> groups = new TreeMap<>();
        for (Map.Entry<String, Switches> e : after.entrySet()) {
            Switches a = e.getValue();
            Switches b = before.getOrDefault(e.getKey(), new Switches(a.group(), 0, 0));
            double[] g = groups.computeIfAbsent(a.group(), k -> new double[2]);
            g[0] += (a.voluntary() - b.voluntary()) / (double) n;
            g[1] += (a.involuntary() - b.involuntary()) / (double) n;
        }
        System.out.printf("%-20s %12s %12s   (per round trip)%n", "threads", "voluntary", "involuntary");
        groups.forEach((group, g) -> {
            if (g[0] + g[1] >= 0.01) {
                System.out.printf("%-20s %12.2f %12.2f%n", group, g[0], g[1]);
            }
        });
    }

    /** perf's CSV lists each event for every thread, event after event, in {@link #PERF_EVENTS}' order. */
    private static void printPerf(Path csv) throws IOException {
        Map<String, long[]> groups = new TreeMap<>();
        Map<String, Integer> seen = new TreeMap<>();
        for (String line : Files.readAllLines(csv)) {
            String[] f = line.split(",");
            if (line.startsWith("#") || f.length < 4) {
                continue;
            }
            String thread = f[0];
            int column = seen.merge(thread, 1, Integer::sum) - 1;
            if (column >= PERF_COLUMNS.length) {
                continue;
            }
            String group = thread.replaceAll("-[0-9]+$", "").replaceAll("[0-9]+", "#");
            long v = f[1].matches("[0-9]+") ? Long.parseLong(f[1]) : 0;
            groups.computeIfAbsent(group, k -> new long[PERF_COLUMNS.length])[column] += v;
        }
        long[] client = groups.get("client-#");
        if (client == null || client[2] == 0) {
            System.out.println("perf counted no client writes: no syscall counts");
            return;
        }
        double trips = client[2];
        System.out.printf("%nperf stat over %.0f round trips (the clients' request writes), per round trip:%n%-20s", trips,
                "threads");
        for (String c : PERF_COLUMNS) {
            System.out.printf(" %12s", c);
        }
        System.out.println();
        long[] server = new long[PERF_COLUMNS.length];
        groups.forEach((group, v) -> {
            boolean isServer = group.startsWith("webpolicy-io") || group.startsWith("webpolicy-worke");
            if (!isServer && !group.equals("client-#")) {
                return;
            }
            System.out.printf("%-20s", group);
            for (int i = 0; i < v.length; i++) {
                System.out.printf(" %12.2f", v[i] / trips);
                if (isServer) {
                    server[i] += v[i];
                }
            }
            System.out.println();
        });
        System.out.printf("%-20s", "server in all");
        for (long v : server) {
            System.out.printf(" %12.2f", v / trips);
        }
        System.out.println();
    }
}
