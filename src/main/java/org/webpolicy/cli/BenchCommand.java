package org.webpolicy.cli;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyClientBuilder;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Round trips of a Java client against a Java server on loopback, each size next to the floor: a
 * raw TCP ping-pong of the same frame sizes ({@link RawSocketFloor}) measured in the same run, so a
 * shared, noisy machine moves both alike. Process CPU time per round trip is printed too: it is far
 * steadier than wall time. Nothing is compared with a figure from another run: the Python peers
 * cannot run in this process, and a ratio against another day's machine and load would mislead.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure client-server round trips and throughput on loopback.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--steps", description = "Measured round trips per observation size (default: ${DEFAULT-VALUE}).")
    int steps = 2000;

    @Option(names = "--large-steps", description = "Measured round trips for the large observation (default: ${DEFAULT-VALUE}).")
    int largeSteps = 200;

    @Option(names = "--warmup", description = "Unmeasured round trips of each size first (default: ${DEFAULT-VALUE}).")
    int warmup = 6000;

    @Option(names = "--clients", description = "Concurrent clients for the throughput run (default: ${DEFAULT-VALUE}).")
    int clients = 8;

    @Option(names = "--duration-s", description = "Length of the throughput run (default: ${DEFAULT-VALUE}).")
    int durationSeconds = 5;

    @Option(names = "--threads", description = "Also print each row's CPU per round trip by thread (digits stripped from names).")
    boolean threads;

    @Option(names = "--tls", description = "Client and server over TLS (wss://), with a self-signed certificate made for the run;"
            + " the floor stays plain TCP.")
    boolean tls;

    @Option(names = "--reuse-buffers", description = "Serve with PolicyServerBuilder.reuseMessageBuffers(true): request buffers"
            + " pooled instead of a new array per message.")
    boolean reuseBuffers;

    @Option(names = "--answer-on-workers", description = "Serve with PolicyServerBuilder.answerOnLoopThreads(false): every"
            + " request handed to a worker thread instead of answered by the I/O loop's thread that read it.")
    boolean answerOnWorkers;

    @Spec
    CommandSpec spec;

    /** The run's TLS setup under --tls, else null. */
    private BenchTls tlsSetup;

    @Override
    public Integer call() throws Exception {
        new Arguments(spec).atLeast("--steps", steps, 1).atLeast("--large-steps", largeSteps, 1).atLeast("--warmup", warmup, 0)
                .between("--clients", clients, 1, 256).atLeast("--duration-s", durationSeconds, 1);
        tlsSetup = tls ? BenchTls.make() : null;
        try (PolicyServer server = PolicyServer.builder(ServePolicies.random(50, 14, Map.of()))
                .host("127.0.0.1").port(0).sslContext(tls ? tlsSetup.server() : null).reuseMessageBuffers(reuseBuffers)
                .answerOnLoopThreads(!answerOnWorkers).build().start()) {
            Random random = new Random(0);
            Map<String, Object> tiny = Map.of("state", Observations.doubles(random, 14));
            Map<String, Object> aloha = Observations.ALOHA.random(random);
            Map<String, Object> large = new LinkedHashMap<>();
            large.put("state", Observations.doubles(random, 14));
            Map<String, Object> cams = new LinkedHashMap<>();
            for (String cam : new String[] {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}) {
                cams.put(cam, Observations.pixels(random, 3, 480, 640));
            }
            large.put("images", cams);
            large.put("prompt", "do something");

            Policy policy = ServePolicies.random(50, 14, Map.of());
            int reply = frameBytes(CODEC.pack(policy.step(tiny)).length, false);
            List<Size> sizes = List.of(new Size("tiny (state only)", tiny, steps),
                    new Size("ALOHA (~600 KB)", aloha, steps),
                    new Size("large (4x3x480x640, 3.7 MB)", large, largeSteps));
            System.out.println("Java client <-> Java server, loopback" + (tls ? ", wss:// (TLS)" : "")
                    + (reuseBuffers ? ", request buffers reused" : "")
                    + ", raw form, random 50x14 action; floor: raw TCP"
                    + " ping-pong of the same frame sizes, measured in the same run");
            System.out.println("cpu: process CPU time per round trip (client and server, both in this process);"
                    + " caller: the calling thread's CPU per round trip");
            System.out.printf("%-28s %9s %9s %6s %9s %9s %6s %9s %9s %6s %9s %9s%n", "observation", "median ms",
                    "floor med", "ratio", "p99 ms", "floor p99", "ratio", "cpu us", "floor cpu", "ratio", "caller us", "floor clr");
            try (PolicyClient client = client(server)) {
                // Warm every path up before measuring any, so the JIT has compiled what each size uses.
                for (int i = 0; i < warmup; i++) {
                    client.step(tiny);
                    client.step(aloha);
                    if (i % 10 == 0) {
                        client.step(large);
                    }
                }
                for (Size size : sizes) {
                    int request = frameBytes(CODEC.pack(size.observation).length, true);
                    try (RawSocketFloor floor = new RawSocketFloor(request, reply);
                            RawSocketFloor.Client raw = floor.client()) {
                        for (int i = 0; i < Math.min(warmup, 500); i++) {
                            raw.roundTrip();
                        }
                        settleHeap();
                        Run floorRun = roundTrips(raw::roundTrip, size.steps);
                        Map<String, Long> before = threadCpu();
                        Run ours = roundTrips(() -> client.step(size.observation), size.steps);
                        Map<String, Long> after = threadCpu();
                        row(size, ours, floorRun);
                        if (threads) {
                            printThreadCpu(before, after, size.steps, ours.cpuMicros);
                        }
                    }
                }
            }
            int request = frameBytes(CODEC.pack(aloha).length, true);
            try (RawSocketFloor floor = new RawSocketFloor(request, reply)) {
                Rate floorRate = throughput(() -> {
                    RawSocketFloor.Client c = floor.client();
                    return new Stepper(c::roundTrip, c::close);
                });
                Rate ours = throughput(() -> {
                    PolicyClient c = client(server);
                    return new Stepper(() -> c.step(aloha), c::close);
                });
                System.out.printf("%nThroughput, %d clients on ALOHA: %.0f steps/s, floor %.0f steps/s (%.0f%% of the floor);"
                        + " cpu %.0f us/step, floor %.0f us/step (%.1fx)%n",
                        clients, ours.perSecond, floorRate.perSecond, 100 * ours.perSecond / floorRate.perSecond,
                        ours.cpuMicros, floorRate.cpuMicros, ours.cpuMicros / floorRate.cpuMicros);
                if (threads) {
                    printThreadCpu(ours.threadsBefore, ours.threadsAfter, (int) Math.max(1, ours.steps), ours.cpuMicros);
                }
            }
        }
        return 0;
    }

    private PolicyClient client(PolicyServer server) {
        PolicyClientBuilder builder = tls
                ? PolicyClient.builder().uri("wss://127.0.0.1:" + server.port()).sslContext(tlsSetup.client())
                : PolicyClient.builder().host("127.0.0.1").port(server.port());
        return builder.protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10)).build().connect();
    }

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final OperatingSystemMXBean OS = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** One observation size of the latency table. */
    private record Size(String name, Map<String, Object> observation, int steps) {
    }

    /** Latencies of a run, with process and calling-thread CPU per round trip in microseconds. */
    private record Run(Latencies latencies, double cpuMicros, double callerMicros) {
    }

    /** Throughput of a run, with process CPU per step in microseconds. */
    private record Rate(double perSecond, double cpuMicros, long steps, Map<String, Long> threadsBefore,
            Map<String, Long> threadsAfter) {
    }

    /** One connection's round trip and how to close it, for the floor and ours alike. */
    private record Stepper(Runnable step, AutoCloseable closer) {
    }

    private interface StepperFactory {
        Stepper open() throws Exception;
    }

    /** Bytes of a WebSocket frame carrying {@code payload} bytes (RFC 6455 5.2). */
    private static int frameBytes(int payload, boolean masked) {
        int size = payload <= 125 ? 0 : payload <= 65535 ? 2 : 8;
        return 2 + size + (masked ? 4 : 0) + payload;
    }

    /**
     * A full collection before each measurement, so a row does not pay for the garbage of the rows
     * before it: the 3.7 MB messages of the large row left ~200 MB in the old generation, and its
     * concurrent marking ran inside the 8-client run (~50 us of the JVM's threads per step).
     */
    private static void settleHeap() {
        System.gc();
    }

    /** CPU nanoseconds of every live thread, summed by name with its digits removed. */
    private static Map<String, Long> threadCpu() {
        Map<String, Long> cpu = new java.util.TreeMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            java.lang.management.ThreadInfo info = THREADS.getThreadInfo(id);
            long t = THREADS.getThreadCpuTime(id);
            if (info != null && t > 0) {
                cpu.merge(info.getThreadName().replaceAll("[0-9]+", "#"), t, Long::sum);
            }
        }
        return cpu;
    }

    /**
     * Each thread's CPU per round trip, then what the process spent outside Java threads (the
     * JVM's own: garbage collection, the JIT compilers), which the thread list cannot show.
     */
    private static void printThreadCpu(Map<String, Long> before, Map<String, Long> after, int n, double processMicros) {
        double javaThreads = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            double us = (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e3 / n;
            javaThreads += us;
            if (us >= 1) {
                System.out.printf("    %-40s %8.0f us%n", e.getKey(), us);
            }
        }
        System.out.printf("    %-40s %8.0f us%n", "(JVM: GC, JIT, other)", processMicros - javaThreads);
    }

    private static Run roundTrips(Runnable step, int n) {
        Latencies latencies = new Latencies();
        long cpu0 = OS.getProcessCpuTime();
        long caller0 = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step.run();
            latencies.add(System.nanoTime() - t0);
        }
        double cpu = (OS.getProcessCpuTime() - cpu0) / 1e3 / n;
        double caller = (THREADS.getCurrentThreadCpuTime() - caller0) / 1e3 / n;
        return new Run(latencies, cpu, caller);
    }

    private static void row(Size size, Run ours, Run floor) {
        double median = Latencies.millis(ours.latencies.summary().p50());
        double floorMedian = Latencies.millis(floor.latencies.summary().p50());
        double p99 = Latencies.millis(ours.latencies.summary().p99());
        double floorP99 = Latencies.millis(floor.latencies.summary().p99());
        System.out.printf("%-28s %9.3f %9.3f %5.1fx %9.3f %9.3f %5.1fx %9.0f %9.0f %5.1fx %9.0f %9.0f%n", size.name, median,
                floorMedian, median / floorMedian, p99, floorP99, p99 / floorP99, ours.cpuMicros,
                floor.cpuMicros, ours.cpuMicros / floor.cpuMicros, ours.callerMicros, floor.callerMicros);
    }

    private Rate throughput(StepperFactory factory) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<Long>> counts = new ArrayList<>();
        List<Stepper> open = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                Stepper stepper = factory.open();
                open.add(stepper);
                counts.add(pool.submit(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        stepper.step.run();
                        if (measuring.get()) {
                            n++;
                        }
                    }
                    return n;
                }));
            }
            Thread.sleep(3000); // warm-up: the JIT compiles what eight clients at once use
            settleHeap();
            Map<String, Long> threadsBefore = threads ? threadCpu() : Map.of();
            long cpu0 = OS.getProcessCpuTime();
            measuring.set(true);
            long t0 = System.nanoTime();
            Thread.sleep(durationSeconds * 1000L);
            measuring.set(false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long cpu = OS.getProcessCpuTime() - cpu0;
            Map<String, Long> threadsAfter = threads ? threadCpu() : Map.of();
            stop.set(true);
            long total = 0;
            for (Future<Long> f : counts) {
                total += f.get();
            }
            return new Rate(total / seconds, cpu / 1e3 / Math.max(1, total), total, threadsBefore, threadsAfter);
        } finally {
            stop.set(true);
            pool.shutdown();
            pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            for (Stepper s : open) {
                s.closer.close();
            }
        }
    }
}
