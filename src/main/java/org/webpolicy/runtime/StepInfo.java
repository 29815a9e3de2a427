package org.webpolicy.runtime;

import java.util.Map;

/**
 * What happened in one step of a {@link ControlLoop}.
 *
 * @param episode the episode, from 0
 * @param stepIndex the step within the episode, from 0
 * @param observation what the environment reported
 * @param action what the agent chose (and the environment executed)
 * @param actionLatencyNanos how long {@link Agent#getAction} took, by the loop's clock
 * @param deadlineMissed true when the step ended after the next tick's deadline (paced runs only)
 * @param ticksSkipped how many tick deadlines were passed over because of that (0 when on time):
 *     the next step starts at the next deadline still ahead rather than catching up
 */
public record StepInfo(int episode, long stepIndex, Map<String, Object> observation, Map<String, Object> action,
        long actionLatencyNanos, boolean deadlineMissed, long ticksSkipped) {
}
