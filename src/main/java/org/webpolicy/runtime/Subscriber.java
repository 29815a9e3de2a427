package org.webpolicy.runtime;

/**
 * Watches a {@link ControlLoop} (logging, recording, latency statistics). Every method is called on
 * the loop's thread, between steps, so a slow subscriber delays the robot. Every method does
 * nothing by default.
 */
public interface Subscriber {

    /** After the environment and agent were reset, before the first step. */
    default void onEpisodeStart() {
    }

    /**
     * After each step's action was applied.
     *
     * @param step what happened in the step
     */
    default void onStep(StepInfo step) {
    }

    /** After the last step of an episode (also when the loop was stopped). */
    default void onEpisodeEnd() {
    }
}
