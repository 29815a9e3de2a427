package org.webpolicy.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.webpolicy.array.NdArray;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/**
 * The warm-up benchmark (scripts/bench_warmup): a fresh server JVM per round, with its default
 * warm-up or none, and one client (this JVM, warmed by a first round not reported) stepping
 * ALOHA-sized observations back to back; reports the p50 and p99 of the first requests after
 * {@code start()} returned against those of the steady state later in the same connection, per
 * round, both kinds of server alternating in one run.
 *
 * <p>{@code WarmUpBench serve REQUESTS} is the server side: it prints {@code READY port ms cpu}
 * once started (from JVM start to ready: wall-clock ms and the JVM's CPU ms), and closes when its
 * standard input ends.
 */
public final class WarmUpBench {

    private static final int FIRST = 1000;
    private static final int STEADY_FROM = 5000;
    private static final int STEADY_TO = 6000;

    private WarmUpBench() {
    }

    /**
     * Runs the benchmark, or the server side.
     *
     * @param args {@code [ROUNDS]}, or {@code serve REQUESTS}
     * @throws Exception when a round fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve(Integer.parseInt(args[1]));
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Map<String, Object> obs = aloha(new Random(1));
        System.out.println("Warm-up benchmark: fresh server JVM per round, 1 client, ALOHA (~600 KB) back to back, "
                + STEADY_TO + " requests per round");
        System.out.printf(Locale.ROOT, "%-22s %9s %9s %12s %12s %14s %14s %8s %8s%n", "server", "ready ms", "cpu ms",
                "first p50", "first p99", "steady p50", "steady p99", "p50 x", "p99 x");
        System.out.println("(first: requests 1-" + FIRST + " after start() returned; steady: requests " + (STEADY_FROM + 1) + "-"
                + STEADY_TO + " of the same connection; x: first over steady, same server)");
        System.out.print("(client JVM warm-up, not counted) ");
        round(obs, -1);
        List<double[]> cold = new ArrayList<>();
        List<double[]> warm = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            cold.add(round(obs, 0));
            warm.add(round(obs, -1));
        }
        System.out.printf(Locale.ROOT, "%nMedian over rounds: no warm-up first-%d p50 %.2fx its steady state; default warm-up %.2fx"
                + " (target <= 1.5x)%n", FIRST, median(cold, 5), median(warm, 5));
        System.out.printf(Locale.ROOT, "                    no warm-up first-%d p99 %.2fx its steady state; default warm-up %.2fx%n",
                FIRST, median(cold, 6), median(warm, 6));
        System.out.printf(Locale.ROOT, "Against the steady state of the servers without warm-up (median %.3f ms p50, %.3f ms p99):"
                + " warmed first-%d p50 %.2fx, p99 %.2fx; unwarmed first-%d p50 %.2fx, p99 %.2fx%n",
                median(cold, 3), median(cold, 4), FIRST, median(warm, 1) / median(cold, 3), median(warm, 2) / median(cold, 4),
                FIRST, median(cold, 1) / median(cold, 3), median(cold, 2) / median(cold, 4));
        System.out.printf(Locale.ROOT, "From JVM start to ready (median): %.0f ms (%.0f ms CPU) with warm-up, %.0f ms (%.0f ms CPU) without%n",
                median(warm, 0), median(warm, 7), median(cold, 0), median(cold, 7));
    }

    private static double median(List<double[]> rows, int column) {
        double[] v = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
        return v[v.length / 2];
    }

    /** One fresh server JVM ({@code warmUp} requests, -1 for the default) and 6 000 steps; returns ready ms, p50s, p99s, ratios, CPU ms. */
    private static double[] round(Map<String, Object> obs, int warmUp) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), WarmUpBench.class.getName(), "serve", Integer.toString(warmUp)));
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("READY ")) {
                throw new IllegalStateException("The server JVM did not start: " + line);
            }
            String[] ready = line.split(" ");
            long[] nanos = new long[STEADY_TO];
            try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(Integer.parseInt(ready[1])).build().connect()) {
                for (int i = 0; i < nanos.length; i++) {
                    long t0 = System.nanoTime();
                    client.step(obs);
                    nanos[i] = System.nanoTime() - t0;
                }
            }
            double[] first = Arrays.stream(nanos, 0, FIRST).mapToDouble(n -> n / 1e6).sorted().toArray();
            double[] steady = Arrays.stream(nanos, STEADY_FROM, STEADY_TO).mapToDouble(n -> n / 1e6).sorted().toArray();
            double[] row = {Double.parseDouble(ready[2]), pct(first, 50), pct(first, 99), pct(steady, 50), pct(steady, 99), 0, 0,
                Double.parseDouble(ready[3])};
            row[5] = row[1] / row[3];
            row[6] = row[2] / row[4];
            System.out.printf(Locale.ROOT, "%-22s %9.0f %9.0f %9.3f ms %9.3f ms %11.3f ms %11.3f ms %7.2fx %7.2fx%n",
                    warmUp == 0 ? "no warm-up" : "default warm-up", row[0], row[7], row[1], row[2], row[3], row[4], row[5], row[6]);
            return row;
        } finally {
            server.getOutputStream().close();
            server.waitFor();
        }
    }

    private static double pct(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static void serve(int warmUp) throws Exception {
        Random random = new Random(2);
        var builder = PolicyServer.builder(o -> {
            float[] chunk = new float[50 * 14];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = random.nextFloat();
            }
            return Map.of("actions", NdArray.ofFloat32(chunk, 50, 14));
        }).host("127.0.0.1").port(0);
        if (warmUp >= 0) {
            builder.warmUp(warmUp);
        }
        try (PolicyServer server = builder.build().start()) {
            long sinceJvmStart = System.currentTimeMillis() - ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
            long cpuMs = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis()).orElse(-1L);
            System.out.println("READY " + server.port() + " " + sinceJvmStart + " " + cpuMs);
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the benchmark closes our input
            }
        }
    }

    private static Map<String, Object> aloha(Random random) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(random.doubles(14).toArray()));
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : new String[] {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}) {
            byte[] b = new byte[3 * 224 * 224];
            random.nextBytes(b);
            images.put(cam, NdArray.ofUint8(b, 3, 224, 224));
        }
        obs.put("images", images);
        obs.put("prompt", "do something");
        return obs;
    }
}
