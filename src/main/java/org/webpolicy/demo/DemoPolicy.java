package org.webpolicy.demo;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;

/**
 * A stand-in for an ALOHA model: checks that the observation has the layout
 * {@link SimulatedAlohaEnvironment} sends, then answers {@code {"actions": float32 (50, 14)}}, a
 * smooth path from the current joints, after pretending to think for {@code inferenceTime}.
 *
 * <p>Thread-safe (the server may call it from several connections).
 */
public final class DemoPolicy implements Policy {

    /** Steps in each chunk the policy answers. */
    public static final int CHUNK_LENGTH = 50;

    /**
     * What the policy expects: the layout {@link SimulatedAlohaEnvironment} sends. Servers of this
     * policy advertise it and check it before calling the policy; the policy checks it too, for
     * callers in the same process.
     */
    public static final ObservationSpec OBSERVATION_SPEC = observationSpec();

    private static ObservationSpec observationSpec() {
        ObservationSpec.Builder spec = ObservationSpec.builder()
                .array("state", DType.FLOAT64, SimulatedAlohaEnvironment.STATE_DIM);
        for (String cam : SimulatedAlohaEnvironment.CAMERAS) {
            spec.array("images/" + cam, DType.UINT8, 3, SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE,
                    SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE);
        }
        return spec.string("prompt").build();
    }

    private final Duration inferenceTime;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();

    /** @param inferenceTime how long each chunk pretends to take (slept on the calling thread) */
    public DemoPolicy(Duration inferenceTime) {
        this.inferenceTime = inferenceTime;
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        double[] state = checkedState(observation);
        long call = calls.incrementAndGet();
        float[] actions = new float[CHUNK_LENGTH * SimulatedAlohaEnvironment.STATE_DIM];
        for (int i = 0; i < CHUNK_LENGTH; i++) {
            for (int j = 0; j < SimulatedAlohaEnvironment.STATE_DIM; j++) {
                double phase = 0.05 * (call * 10 + i) + j;
                actions[i * SimulatedAlohaEnvironment.STATE_DIM + j] = (float) (0.9 * state[j] + 0.1 * Math.sin(phase));
            }
        }
        sleep(inferenceTime);
        return Map.of("actions", NdArray.ofFloat32(actions, CHUNK_LENGTH, SimulatedAlohaEnvironment.STATE_DIM));
    }

    @Override
    public void reset(Map<String, Object> payload) {
        resets.incrementAndGet();
    }

    @Override
    public Map<String, Object> metadata() {
        return Map.of("policy", "webpolicy demo (simulated ALOHA)", "action_horizon", (long) CHUNK_LENGTH,
                "action_dim", (long) SimulatedAlohaEnvironment.STATE_DIM);
    }

    @Override
    public boolean isThreadSafe() {
        return true;
    }

    /**
     * Chunks answered so far.
     *
     * @return the count
     */
    public long calls() {
        return calls.get();
    }

    /**
     * Resets received so far.
     *
     * @return the count
     */
    public long resets() {
        return resets.get();
    }

    private static double[] checkedState(Map<String, Object> observation) {
        OBSERVATION_SPEC.check(observation);
        return ((NdArray) observation.get("state")).toDoubleArray();
    }

    private static void sleep(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while computing a chunk", e);
        }
    }
}
