package org.webpolicy.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.webpolicy.array.NdArray;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ProtocolMode;

/**
 * The asynchronous-call benchmark (scripts/bench_async): rounds of {@code CALLS} steps of one
 * 224x224x3 camera observation against a local server, three ways in the same run, rounds
 * interleaved: {@code step} one after the other, {@code stepAsync} pipelined on one connection
 * (our server echoes ids), and {@code stepAsync} over the raw form (one at a time). Prints each
 * way's round time, p50 and p99, and its ratio to sequential {@code step}.
 */
public final class AsyncBench {

    private AsyncBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        long policyMicros = args.length > 2 ? Long.parseLong(args[2]) : 1000;
        PolicyServer server = PolicyServer.builder(obs -> {
            long end = System.nanoTime() + policyMicros * 1000;
            while (System.nanoTime() < end) {
                Thread.onSpinWait(); // a model's compute, without sleep's coarse granularity
            }
            return Map.of("actions", NdArray.ofFloat32(new float[50 * 14], 50, 14));
        }).host("127.0.0.1").port(0).build().start();
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("image", NdArray.ofUint8(new byte[224 * 224 * 3], 224, 224, 3));
        obs.put("state", NdArray.ofFloat64(new double[14], 14));
        try (server;
                PolicyClient envelope = client(server, ProtocolMode.AUTO);
                PolicyClient raw = client(server, ProtocolMode.RAW)) {
            long[][] times = new long[3][rounds];
            for (int warm = 0; warm < 50; warm++) {
                sequential(envelope, obs, calls);
                async(envelope, obs, calls);
                async(raw, obs, calls);
            }
            for (int r = 0; r < rounds; r++) {
                times[0][r] = sequential(envelope, obs, calls);
                times[1][r] = async(envelope, obs, calls);
                times[2][r] = async(raw, obs, calls);
            }
            String[] names = {"step, one after the other", "stepAsync, pipelined (ids)", "stepAsync, raw form (one at a time)"};
            double base = percentile(times[0], 50);
            System.out.printf(Locale.ROOT, "%d rounds of %d calls, policy %d us, 224x224x3 uint8 + 14 float64%n", rounds, calls,
                    policyMicros);
            for (int i = 0; i < 3; i++) {
                double p50 = percentile(times[i], 50);
                System.out.printf(Locale.ROOT, "%-38s p50 %7.3f ms  p99 %7.3f ms  p50 ratio to step %.2f%n", names[i],
                        p50 / 1e6, percentile(times[i], 99) / 1e6, p50 / base);
            }
        }
    }

    private static PolicyClient client(PolicyServer server, ProtocolMode mode) {
        return PolicyClient.builder().host("127.0.0.1").port(server.port()).protocolMode(mode)
                .connectTimeout(Duration.ofSeconds(10)).build().connect();
    }

    private static long sequential(PolicyClient client, Map<String, Object> obs, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            client.step(obs);
        }
        return System.nanoTime() - start;
    }

    private static long async(PolicyClient client, Map<String, Object> obs, int calls) {
        long start = System.nanoTime();
        List<CompletableFuture<Map<String, Object>>> futures = new ArrayList<>(calls);
        for (int i = 0; i < calls; i++) {
            futures.add(client.stepAsync(obs));
        }
        futures.forEach(CompletableFuture::join);
        return System.nanoTime() - start;
    }

    private static double percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
