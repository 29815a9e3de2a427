package org.webpolicy.demo;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;

/**
 * A stand-in for an ALOHA model: checks that the observation has the layout
 * {@link SimulatedAlohaEnvironment} sends, then answers {@code {"actions": float32 (50, 14),
 * "chunk_id": int64 (50,)}} after pretending to think for {@code inferenceTime}.
 *
 * <p>The actions are a smooth motion predicted from the joints: the 14 joints are read as 7
 * pairs, and each pair moves around a circle of radius 0.3 at a quarter turn per second,
 * continuing from its observed angle (and spiralling out from the centre at the start). Each
 * chunk is a little off (its phase and radius by a small random error, as a learned policy's
 * chunks differ), so seams between chunks show unless the policy honours the robot's
 * {@link Continuation}: then it freezes the chunk's first {@code delay} rows to the given ones and
 * blends into its own plan over the next rows ({@link Inpainting}). {@code chunk_id} is the call
 * number, so a subscriber can find the seams.
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

    private static final double RADIUS = 0.3;
    /** Radians per control step at 50 Hz: a quarter turn per second. */
    private static final double STEP_ANGLE = 2 * Math.PI * 0.25 / 50;

    private final Duration inferenceTime;
    private final boolean honour;
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();
    private final java.util.SplittableRandom random = new java.util.SplittableRandom(7);

    /**
     * A policy that honours continuations.
     *
     * @param inferenceTime how long each chunk pretends to take (slept on the calling thread)
     */
    public DemoPolicy(Duration inferenceTime) {
        this(inferenceTime, true);
    }

    /**
     * @param inferenceTime how long each chunk pretends to take (slept on the calling thread)
     * @param honour whether it accepts and honours continuations (false: seams show)
     */
    public DemoPolicy(Duration inferenceTime, boolean honour) {
        this.inferenceTime = inferenceTime;
        this.honour = honour;
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return step(observation, null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        long started = System.nanoTime();
        double[] state = checkedState(observation);
        long call = calls.incrementAndGet();
        int dim = SimulatedAlohaEnvironment.STATE_DIM;
        double phaseError;
        double radiusError;
        synchronized (random) {
            phaseError = 0.3 * (random.nextDouble() - 0.5);
            radiusError = 0.03 * (random.nextDouble() - 0.5);
        }
        double[][] rows = new double[CHUNK_LENGTH][dim];
        for (int p = 0; p < dim / 2; p++) {
            double x = state[p];
            double y = state[p + dim / 2];
            double angle = Math.atan2(y, x) + phaseError;
            double r = Math.hypot(x, y);
            for (int i = 0; i < CHUNK_LENGTH; i++) {
                double radius = RADIUS + radiusError + (r - RADIUS - radiusError) * Math.exp(-(i + 1) / 10.0);
                double a = angle + STEP_ANGLE * (i + 1);
                rows[i][p] = radius * Math.cos(a);
                rows[i][p + dim / 2] = radius * Math.sin(a);
            }
        }
        if (honour) {
            Inpainting.apply(rows, continuation, 8);
        }
        float[] actions = new float[CHUNK_LENGTH * dim];
        long[] ids = new long[CHUNK_LENGTH];
        for (int i = 0; i < CHUNK_LENGTH; i++) {
            for (int j = 0; j < dim; j++) {
                actions[i * dim + j] = (float) rows[i][j];
            }
            ids[i] = call;
        }
        sleep(inferenceTime.minusNanos(System.nanoTime() - started));
        return Map.of("actions", NdArray.ofFloat32(actions, CHUNK_LENGTH, dim), "chunk_id", NdArray.ofInt64(ids, CHUNK_LENGTH));
    }

    @Override
    public boolean acceptsContinuation() {
        return honour;
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
