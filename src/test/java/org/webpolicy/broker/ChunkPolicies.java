package org.webpolicy.broker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Policy;

/** Fake chunk policies for the broker tests. */
final class ChunkPolicies {

    private ChunkPolicies() {
    }

    /**
     * Call {@code n} (from 0) answers {@code actions: float32 (length, 2)} with
     * {@code actions[i] = [100 n + i, -n]}, plus {@code server_timing} and a {@code tag} string.
     */
    static Map<String, Object> chunk(int n, int length) {
        float[] values = new float[length * 2];
        for (int i = 0; i < length; i++) {
            values[2 * i] = 100f * n + i;
            values[2 * i + 1] = -n;
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("actions", NdArray.ofFloat32(values, length, 2));
        reply.put("server_timing", Map.of("infer_ms", 1.5));
        reply.put("tag", "call " + n);
        return reply;
    }

    static Map<String, Object> observation(long tick) {
        return Map.of("tick", tick);
    }

    /** The first action value of a step: {@code 100 n + i} for step i of call n. */
    static float first(Map<String, Object> action) {
        return ((NdArray) action.get("actions")).getFloat(0);
    }

    /** Polls {@code condition} for up to 10 s (a liveness bound, not a timing assertion). */
    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 10 s");
            }
            Thread.sleep(1);
        }
    }

    /**
     * Answers {@link #chunk} calls only when the test hands out a permit; records what it saw.
     * A call listed in {@code failing} throws instead of answering.
     */
    static final class Gated implements Policy {
        final Semaphore permits = new Semaphore(0);
        final List<Map<String, Object>> observations = Collections.synchronizedList(new ArrayList<>());
        final List<Map<String, Object>> resets = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger returned = new AtomicInteger();
        final List<Integer> failing = Collections.synchronizedList(new ArrayList<>());
        final int length;
        volatile boolean closed;
        volatile int shortCall = -1;

        Gated(int length) {
            this.length = length;
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            int n = calls.getAndIncrement();
            observations.add(observation);
            permits.acquireUninterruptibly();
            try {
                if (failing.contains(n)) {
                    throw new IllegalArgumentException("model failed on call " + n);
                }
                return chunk(n, n == shortCall ? 3 : length);
            } finally {
                returned.incrementAndGet();
            }
        }

        @Override
        public void reset(Map<String, Object> payload) {
            resets.add(payload);
        }

        @Override
        public Map<String, Object> metadata() {
            return Map.of("policy", "gated");
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
