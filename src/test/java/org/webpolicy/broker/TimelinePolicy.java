package org.webpolicy.broker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;

/**
 * A chunk policy for the scheduler tests. Call {@code n} (from 0) answers
 * {@code actions: float32 (length, 2)} with row {@code i = [1000 + 100 n + i, 500 + n]} (never a
 * zero) and {@code chunk_id: int64 (length,)} all {@code n}. Each call may wait for a permit,
 * may throw at once what {@code failures} gives for its number, and otherwise advances the
 * test's clock by {@code thinkNanos} (the policy "takes time" on the fake clock).
 */
final class TimelinePolicy implements Policy {

    final AtomicLong clock;
    final long thinkNanos;
    final boolean accepts;
    final List<Continuation> continuations = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger calls = new AtomicInteger();
    final Map<Integer, Integer> lengths = new ConcurrentHashMap<>();
    volatile Semaphore gate;
    volatile IntFunction<RuntimeException> failures = n -> null;
    final int length;

    TimelinePolicy(AtomicLong clock, long thinkNanos, int length, boolean accepts) {
        this.clock = clock;
        this.thinkNanos = thinkNanos;
        this.length = length;
        this.accepts = accepts;
    }

    static double first(Map<String, Object> action) {
        return ((NdArray) action.get("actions")).getFloat(0);
    }

    static double second(Map<String, Object> action) {
        return ((NdArray) action.get("actions")).getFloat(1);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return answer(null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        return answer(continuation);
    }

    private Map<String, Object> answer(Continuation continuation) {
        int n = calls.getAndIncrement();
        continuations.add(continuation);
        Semaphore g = gate;
        if (g != null) {
            g.acquireUninterruptibly();
        }
        RuntimeException failure = failures.apply(n);
        if (failure != null) {
            throw failure; // a refused connection fails at once
        }
        clock.addAndGet(thinkNanos);
        int len = lengths.getOrDefault(n, length);
        float[] values = new float[len * 2];
        long[] ids = new long[len];
        for (int i = 0; i < len; i++) {
            values[2 * i] = 1000 + 100 * n + i;
            values[2 * i + 1] = 500 + n;
            ids[i] = n;
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("actions", NdArray.ofFloat32(values, len, 2));
        reply.put("chunk_id", NdArray.ofInt64(ids, len));
        return reply;
    }

    @Override
    public boolean acceptsContinuation() {
        return accepts;
    }
}
