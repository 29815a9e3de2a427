package org.webpolicy.runtime;

import java.util.Arrays;

/**
 * Measures how smooth a stream of commanded actions is across chunk switches ("seams"): the
 * jump at each seam against the median step inside a chunk, and backward-motion events. The
 * chunk scheduler and {@link ChunkQualitySubscriber} both feed it one action vector per
 * executed action, saying whether it is the first of a new chunk.
 *
 * <p>A step is the largest absolute change of any component between consecutive actions. A seam
 * is a backward-motion event when, for some component, the first action of the new chunk moves
 * against the direction the old chunk was moving ({@code s * v < 0}, {@code s} the seam step,
 * {@code v} the step before it) by more than both that last step and the median in-chunk step:
 * the robot pulled back, as it does when a chunk planned from a stale observation is used from
 * its start. Turning points of a smooth motion reverse by about one step and do not count.
 *
 * <p>Keeps the last {@value #KEPT_STEPS} in-chunk steps for the median. Not thread-safe.
 */
public final class MotionMeter {

    /** In-chunk steps kept for the median. */
    public static final int KEPT_STEPS = 1 << 14;

    private double[] previous;
    private double[] beforePrevious;
    private final double[] inChunk = new double[KEPT_STEPS];
    private long inChunkCount;
    private double[] seamJumps = new double[64];
    /** Per seam: the largest backward move of a component, 0 when none moved backward. */
    private double[] seamBackward = new double[64];
    private int seams;

    /** A meter that has seen no action yet. */
    public MotionMeter() {
    }

    /**
     * Records one executed action.
     *
     * @param action the action's components (copied where kept)
     * @param firstOfChunk true when this action is the first used of a new chunk
     */
    public void add(double[] action, boolean firstOfChunk) {
        if (previous != null && previous.length == action.length) {
            double step = 0;
            double backward = 0;
            for (int j = 0; j < action.length; j++) {
                double s = action[j] - previous[j];
                step = Math.max(step, Math.abs(s));
                if (beforePrevious != null) {
                    double v = previous[j] - beforePrevious[j];
                    if (s * v < 0 && Math.abs(s) > Math.abs(v)) {
                        backward = Math.max(backward, Math.abs(s));
                    }
                }
            }
            if (firstOfChunk) {
                if (seams == seamJumps.length) {
                    seamJumps = Arrays.copyOf(seamJumps, seams * 2);
                    seamBackward = Arrays.copyOf(seamBackward, seams * 2);
                }
                seamJumps[seams] = step;
                seamBackward[seams] = backward;
                seams++;
            } else {
                inChunk[(int) (inChunkCount++ % KEPT_STEPS)] = step;
            }
        }
        beforePrevious = previous;
        previous = action.clone();
    }

    /** Forgets the motion so far (a new episode starts from rest); the figures are kept. */
    public void breakMotion() {
        previous = null;
        beforePrevious = null;
    }

    /**
     * The figures so far.
     *
     * @return seams, jumps, the median in-chunk step and backward events
     */
    public Figures figures() {
        int kept = (int) Math.min(inChunkCount, KEPT_STEPS);
        double median = 0;
        if (kept > 0) {
            double[] sorted = Arrays.copyOf(inChunk, kept);
            Arrays.sort(sorted);
            median = kept % 2 == 1 ? sorted[kept / 2] : (sorted[kept / 2 - 1] + sorted[kept / 2]) / 2;
        }
        double maxJump = 0;
        int backward = 0;
        for (int i = 0; i < seams; i++) {
            maxJump = Math.max(maxJump, seamJumps[i]);
            if (seamBackward[i] > median) {
                backward++;
            }
        }
        return new Figures(seams, maxJump, median, backward);
    }

    /**
     * Smoothness at chunk switches.
     *
     * @param seams chunk switches seen (between two executed actions)
     * @param maxSeamJump the largest step at a switch
     * @param medianInChunkStep the median step between actions of the same chunk
     * @param backwardEvents switches at which the robot moved backward (see the class doc)
     */
    public record Figures(int seams, double maxSeamJump, double medianInChunkStep, int backwardEvents) {

        /**
         * The largest seam jump in median in-chunk steps; 0 when no step was measured.
         *
         * @return {@code maxSeamJump / medianInChunkStep}
         */
        public double jumpRatio() {
            return medianInChunkStep > 0 ? maxSeamJump / medianInChunkStep : 0;
        }
    }
}
