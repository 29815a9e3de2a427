package org.webpolicy.demo;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.policy.Policy;

/**
 * A stand-in for an ALOHA model: checks that the observation has the layout
 * {@link SimulatedAlohaEnvironment} sends, then answers {@code {"actions": float32 (50, 14)}}, a
 * smooth path from the current joints, after pretending to think for {@code inferenceTime}.
 *
 * <p>Thread-safe (the server may call it from several connections).
 */
public final class DemoPolicy implements Policy {

    public static final int CHUNK_LENGTH = 50;

    private final Duration inferenceTime;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();

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

    /** Chunks answered so far. */
    public long calls() {
        return calls.get();
    }

    /** Resets received so far. */
    public long resets() {
        return resets.get();
    }

    private static double[] checkedState(Map<String, Object> obs) {
        if (!(obs.get("state") instanceof NdArray state) || !state.dtype().equals(DType.FLOAT64)
                || !state.shape().equals(Shape.of(SimulatedAlohaEnvironment.STATE_DIM))) {
            throw new IllegalArgumentException("'state' must be float64 (14,), got " + obs.get("state"));
        }
        if (!(obs.get("images") instanceof Map<?, ?> images)) {
            throw new IllegalArgumentException("'images' must be a map of cameras, got " + obs.get("images"));
        }
        Shape chw = Shape.of(3, SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE, SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE);
        for (String cam : SimulatedAlohaEnvironment.CAMERAS) {
            if (!(images.get(cam) instanceof NdArray image) || !image.dtype().equals(DType.UINT8)
                    || !image.shape().equals(chw)) {
                throw new IllegalArgumentException("'images/" + cam + "' must be uint8 " + chw + ", got " + images.get(cam));
            }
        }
        if (!(obs.get("prompt") instanceof String)) {
            throw new IllegalArgumentException("'prompt' must be a string, got " + obs.get("prompt"));
        }
        return state.toDoubleArray();
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
