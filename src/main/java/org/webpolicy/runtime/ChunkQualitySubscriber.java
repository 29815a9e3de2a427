package org.webpolicy.runtime;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;
import org.webpolicy.array.NdArray;

/**
 * Chunk-quality figures of the executed actions, for any broker: the jump at each chunk switch
 * against the median step inside a chunk, backward-motion events (see {@link MotionMeter}), and
 * repeated actions (a scheduler holding its last action, or a broker handing out one twice).
 *
 * <p>It finds the switches by a chunk number per step: {@link #byChunkKey} reads one the policy
 * puts in its reply (an array of H equal numbers, sliced with the actions), or pass a function,
 * e.g. {@code step -> scheduler.chunkSequence()}. Figures accumulate over episodes; the motion
 * restarts at each episode (no seam across a reset).
 *
 * <p>Thread-safe: the loop's thread records, any thread may read {@link #summary()}.
 */
public final class ChunkQualitySubscriber implements Subscriber {

    private final String actionKey;
    private final ToLongFunction<StepInfo> chunkOf;
    private final MotionMeter meter = new MotionMeter();
    private double[] previous;
    private long previousChunk;
    private boolean started;
    private long steps;
    private long repeats;

    /**
     * @param actionKey the action's key holding its vector (a float or integer array)
     * @param chunkOf the number of the chunk a step's action came from
     */
    public ChunkQualitySubscriber(String actionKey, ToLongFunction<StepInfo> chunkOf) {
        this.actionKey = Objects.requireNonNull(actionKey, "actionKey");
        this.chunkOf = Objects.requireNonNull(chunkOf, "chunkOf");
    }

    /**
     * Finds switches by a chunk number the policy puts in each reply under {@code chunkKey} (an
     * array of H equal integers, which brokers slice with the actions).
     *
     * @param actionKey the action's key holding its vector
     * @param chunkKey the action's key holding the chunk number
     * @return the subscriber
     */
    public static ChunkQualitySubscriber byChunkKey(String actionKey, String chunkKey) {
        Objects.requireNonNull(chunkKey, "chunkKey");
        return new ChunkQualitySubscriber(actionKey, step -> {
            Object v = step.action().get(chunkKey);
            if (v instanceof NdArray a && a.size() == 1) {
                return a.getLong(0);
            }
            if (v instanceof Number n) {
                return n.longValue();
            }
            throw new IllegalArgumentException("The action has no chunk number under '" + chunkKey + "' (got "
                    + (v == null ? "nothing" : v.getClass().getSimpleName()) + ")");
        });
    }

    @Override
    public synchronized void onEpisodeStart() {
        meter.breakMotion();
        previous = null;
        started = false;
    }

    @Override
    public synchronized void onStep(StepInfo step) {
        Object value = step.action().get(actionKey);
        if (!(value instanceof NdArray array)) {
            throw new IllegalArgumentException("The action has no array under '" + actionKey + "'");
        }
        double[] values = array.toDoubleArray();
        long chunk = chunkOf.applyAsLong(step);
        steps++;
        if (previous != null && chunk == previousChunk && java.util.Arrays.equals(values, previous)) {
            repeats++;
            return; // a held action is no motion: it would pull the median step down
        }
        meter.add(values, started && chunk != previousChunk);
        started = true;
        previous = values;
        previousChunk = chunk;
    }

    /**
     * The figures so far.
     *
     * @return steps, repeats and the seam figures
     */
    public synchronized Summary summary() {
        return new Summary(steps, repeats, meter.figures());
    }

    /**
     * Chunk quality over the steps seen.
     *
     * @param steps steps seen
     * @param repeats steps whose action repeated the one before (held)
     * @param motion seams, largest jump, median in-chunk step, backward events
     */
    public record Summary(long steps, long repeats, MotionMeter.Figures motion) {

        /** For example {@code 12 seams, max jump 0.0123 = 1.40x the median in-chunk step 0.0088, 0 backward, 0 repeated}. */
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d seams, max jump %.4f = %.2fx the median in-chunk step %.4f, %d backward,"
                    + " %d repeated", motion.seams(), motion.maxSeamJump(), motion.jumpRatio(), motion.medianInChunkStep(),
                    motion.backwardEvents(), repeats);
        }
    }
}
