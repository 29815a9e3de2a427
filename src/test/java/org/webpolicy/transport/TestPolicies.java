package org.webpolicy.transport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Policy;

/** Small policies the transport tests serve. */
final class TestPolicies {

    private TestPolicies() {
    }

    /** Answers {"echo": observation} and records resets. */
    static final class Echo implements Policy {
        final List<Map<String, Object>> resets = new ArrayList<>();
        final AtomicInteger steps = new AtomicInteger();

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            steps.incrementAndGet();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("echo", observation);
            return out;
        }

        @Override
        public synchronized void reset(Map<String, Object> payload) {
            resets.add(payload);
        }

        @Override
        public Map<String, Object> metadata() {
            return Map.of("policy", "echo");
        }
    }

    /** Blocks each step until released, counting calls that have started. */
    static final class Gated implements Policy {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("test never released the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
            return Map.of("actions", NdArray.ofFloat32(new float[] {1, 2}));
        }
    }

    static Map<String, Object> observation(float value) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat32(new float[] {value, value + 1}));
        obs.put("prompt", "pick");
        return obs;
    }
}
