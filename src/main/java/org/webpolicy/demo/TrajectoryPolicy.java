package org.webpolicy.demo;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;

/**
 * The benchmark's model: it knows a smooth reference trajectory and predicts it from the
 * observation ({@code state}: the joints, {@code time}: seconds), a little wrong in each chunk as
 * a learned policy is. Row {@code i} of a chunk is
 * {@code r(t + i dt) + (x - r(t)) e^(-i/5) + b + n_i}: the reference ahead, starting from where
 * the robot is, with a per-chunk offset {@code b} (the chunk-to-chunk variance that makes seams)
 * and a small per-row noise {@code n_i}. It answers after {@code inference} with a uniform jitter
 * of plus or minus a quarter. Honouring a continuation ({@code honour}) it freezes and blends the
 * chunk's start with {@link Inpainting}. Every reply carries {@code chunk_id} (H,), the call number.
 *
 * <p>Thread-safe.
 */
public final class TrajectoryPolicy implements Policy {

    /** Steps in each chunk. */
    public static final int CHUNK = 50;

    private final ReferenceTrajectory reference;
    private final double dt;
    private final Duration inference;
    private final boolean honour;
    private final double chunkOffset;
    private final double rowNoise;
    private final SplittableRandom random;
    private final AtomicLong calls = new AtomicLong();

    /**
     * @param reference the trajectory to predict
     * @param controlHz the robot's action rate
     * @param inference the mean time per chunk
     * @param honour whether continuations are accepted and honoured
     * @param chunkOffset the standard deviation of the per-chunk offset, in joint units
     * @param rowNoise the standard deviation of the per-row noise
     * @param seed the random seed
     */
    public TrajectoryPolicy(ReferenceTrajectory reference, double controlHz, Duration inference, boolean honour,
            double chunkOffset, double rowNoise, long seed) {
        this.reference = reference;
        this.dt = 1 / controlHz;
        this.inference = inference;
        this.honour = honour;
        this.chunkOffset = chunkOffset;
        this.rowNoise = rowNoise;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return step(observation, null);
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        long started = System.nanoTime();
        double[] x = ((NdArray) observation.get("state")).toDoubleArray();
        double t = ((Number) observation.get("time")).doubleValue();
        long call = calls.getAndIncrement();
        int a = x.length;
        double[][] rows = new double[CHUNK][a];
        double[] now = reference.at(t);
        double jitter;
        synchronized (random) {
            double[] offset = new double[a];
            for (int j = 0; j < a; j++) {
                offset[j] = chunkOffset * gaussian();
            }
            for (int i = 0; i < CHUNK; i++) {
                double[] ahead = reference.at(t + i * dt);
                double pull = Math.exp(-i / 5.0);
                for (int j = 0; j < a; j++) {
                    rows[i][j] = ahead[j] + (x[j] - now[j]) * pull + offset[j] * (1 - pull) + rowNoise * gaussian();
                }
            }
            jitter = 1 + 0.5 * (random.nextDouble() - 0.5);
        }
        if (honour) {
            Inpainting.apply(rows, continuation, 8);
        }
        double[] flat = new double[CHUNK * a];
        long[] ids = new long[CHUNK];
        for (int i = 0; i < CHUNK; i++) {
            System.arraycopy(rows[i], 0, flat, i * a, a);
            ids[i] = call;
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("actions", NdArray.ofFloat64(flat, CHUNK, a));
        reply.put("chunk_id", NdArray.ofInt64(ids, CHUNK));
        sleepUntil(started + (long) (inference.toNanos() * jitter));
        return reply;
    }

    @Override
    public boolean acceptsContinuation() {
        return honour;
    }

    @Override
    public boolean isThreadSafe() {
        return true;
    }

    private double gaussian() {
        // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static void sleepUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while computing a chunk");
            }
        }
    }
}
