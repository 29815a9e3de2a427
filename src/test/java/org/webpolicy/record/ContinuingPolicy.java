package org.webpolicy.record;

import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;

/**
 * A test policy that takes a continuation; its action's first value is the continuation's cursor
 * (or -1 without one), so a test reads back which continuation a step carried.
 */
public final class ContinuingPolicy implements Policy {
    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return step(observation, null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        float first = continuation == null ? -1 : continuation.cursor();
        return Map.of("actions", NdArray.ofFloat32(new float[] {first, 1, 2, 3}, 2, 2));
    }

    @Override
    public boolean acceptsContinuation() {
        return true;
    }
}
