package org.webpolicy.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Policy;

/** The policies {@code webpolicy serve} offers for exercising clients. */
final class ServePolicies {

    private ServePolicies() {
    }

    /** Answers {@code {"echo": <the observation exactly as received>}}. */
    static Policy echo(Map<String, Object> metadata) {
        return new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("echo", observation);
                return out;
            }

            @Override
            public Map<String, Object> metadata() {
                return metadata;
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        };
    }

    /** Answers {@code {"actions": float32 (horizon, dim)}} of uniform noise in [-1, 1). */
    static Policy random(int horizon, int dim, Map<String, Object> metadata) {
        return new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                float[] values = new float[horizon * dim];
                for (int i = 0; i < values.length; i++) {
                    values[i] = random.nextFloat() * 2 - 1;
                }
                return Map.of("actions", NdArray.ofFloat32(values, horizon, dim));
            }

            @Override
            public Map<String, Object> metadata() {
                return metadata;
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        };
    }

    /** Echoes the first {@code calls} steps, then throws on every later one. */
    static Policy failAfter(int calls, Map<String, Object> metadata) {
        Policy echo = echo(metadata);
        AtomicInteger count = new AtomicInteger();
        return new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                int n = count.incrementAndGet();
                if (n > calls) {
                    throw new IllegalStateException("fail-after policy: call " + n + " fails (configured to answer " + calls + ")");
                }
                return echo.step(observation);
            }

            @Override
            public Map<String, Object> metadata() {
                return metadata;
            }
        };
    }
}
