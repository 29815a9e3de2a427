package org.webpolicy.cli;

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
import org.webpolicy.runtime.LatencySummary;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Round trips of a Java client against a Java server on loopback, with openpi's own pair as the
 * reference (measured on this kind of machine; the figures are in the issue that asked for it).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure client-server round trips and throughput on loopback.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--steps", description = "Measured round trips per observation size (default: ${DEFAULT-VALUE}).")
    int steps = 2000;

    @Option(names = "--large-steps", description = "Measured round trips for the large observation (default: ${DEFAULT-VALUE}).")
    int largeSteps = 200;

    @Option(names = "--warmup", description = "Unmeasured round trips of each size first (default: ${DEFAULT-VALUE}).")
    int warmup = 2000;

    @Option(names = "--clients", description = "Concurrent clients for the throughput run (default: ${DEFAULT-VALUE}).")
    int clients = 8;

    @Option(names = "--duration-s", description = "Length of the throughput run (default: ${DEFAULT-VALUE}).")
    int durationSeconds = 5;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        new Arguments(spec).atLeast("--steps", steps, 1).atLeast("--large-steps", largeSteps, 1).atLeast("--warmup", warmup, 0)
                .between("--clients", clients, 1, 256).atLeast("--duration-s", durationSeconds, 1);
        try (PolicyServer server = PolicyServer.builder(ServePolicies.random(50, 14, Map.of()))
                .host("127.0.0.1").port(0).build().start()) {
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

            System.out.println("Java client <-> Java server, loopback, raw form, random 50x14 action");
            System.out.printf("%-28s %10s %10s %12s %10s%n", "observation", "median ms", "p99 ms", "openpi med", "speed-up");
            try (PolicyClient client = client(server)) {
                // Warm every path up before measuring any, so the JIT has compiled what each size uses.
                for (int i = 0; i < warmup; i++) {
                    client.step(tiny);
                    client.step(aloha);
                    if (i % 10 == 0) {
                        client.step(large);
                    }
                }
                row("tiny (state only)", roundTrips(client, tiny, steps), 0.25);
                row("ALOHA (~600 KB)", roundTrips(client, aloha, steps), 1.3);
                row("large (4x3x480x640, 3.7 MB)", roundTrips(client, large, largeSteps), 17.0);
            }
            double perSecond = throughput(server, aloha);
            System.out.printf("%nThroughput, %d clients on ALOHA observations: %.0f steps/s (openpi: 930-1280, %.1fx of 1280)%n",
                    clients, perSecond, perSecond / 1280);
        }
        return 0;
    }

    private static PolicyClient client(PolicyServer server) {
        return PolicyClient.builder().host("127.0.0.1").port(server.port()).protocolMode(ProtocolMode.RAW)
                .connectTimeout(Duration.ofSeconds(10)).build().connect();
    }

    private static Latencies roundTrips(PolicyClient client, Map<String, Object> obs, int n) {
        Latencies latencies = new Latencies();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            client.step(obs);
            latencies.add(System.nanoTime() - t0);
        }
        return latencies;
    }

    private static void row(String name, Latencies l, double openpiMedianMs) {
        LatencySummary summary = l.summary();
        double median = Latencies.millis(summary.p50());
        System.out.printf("%-28s %10.3f %10.3f %12.2f %9.1fx%n", name, median, Latencies.millis(summary.p99()), openpiMedianMs,
                openpiMedianMs / median);
    }

    private double throughput(PolicyServer server, Map<String, Object> obs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<Long>> counts = new ArrayList<>();
        List<PolicyClient> open = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                PolicyClient client = client(server);
                open.add(client);
                counts.add(pool.submit(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        client.step(obs);
                        if (measuring.get()) {
                            n++;
                        }
                    }
                    return n;
                }));
            }
            Thread.sleep(1000); // warm-up
            measuring.set(true);
            long t0 = System.nanoTime();
            Thread.sleep(durationSeconds * 1000L);
            measuring.set(false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            stop.set(true);
            long total = 0;
            for (Future<Long> f : counts) {
                total += f.get();
            }
            return total / seconds;
        } finally {
            stop.set(true);
            pool.shutdown();
            open.forEach(PolicyClient::close);
        }
    }
}
