package org.webpolicy.policy;

import org.webpolicy.array.NdArray;

/**
 * What a robot running real-time chunking tells its policy with a step: the part of the current
 * action chunk it will still execute, and how many of those actions will be gone by the time the
 * new chunk arrives. A policy that inpaints (freezes its first {@code delay} actions to the given
 * ones and blends over the rest of the overlap) then produces a chunk that continues the motion
 * instead of jumping at the seam.
 *
 * <p>Only policies that say {@link Policy#acceptsContinuation()} get one; across the network the
 * fields travel only when the server said so in its handshake, so peers that know nothing of
 * them see exactly the bytes they always did.
 *
 * @param delay the inference delay in actions: how many actions the robot consumed while its
 *     recent requests were out (measured by consumption, not by a clock); the first
 *     {@code delay} rows of {@code actions} will have executed when the reply arrives
 * @param actions the actions of the current chunk not yet executed when the request left, in
 *     the policy's own action space, shape {@code (H, A)}; padded to the chunk length with the
 *     last action, never with zeros
 * @param cursor the robot's consumption cursor when the request left: actions executed since
 *     the episode began; a reply answers this cursor
 * @param captureNanos when the observation was captured, on the robot's monotonic clock
 *     ({@code System.nanoTime()} there); meaningful only to the robot
 * @param generation the robot's request generation (raised at each reset or restart): a reply
 *     of an older generation is stale
 */
public record Continuation(int delay, NdArray actions, long cursor, long captureNanos, long generation) {

    /**
     * Checks the fields.
     *
     * @param delay the inference delay in actions, within {@code 0..H}
     * @param actions the unexecuted actions, shape {@code (H, A)}
     * @param cursor actions executed since the episode began, not negative
     * @param captureNanos when the observation was captured, on the robot's monotonic clock
     * @param generation the robot's request generation
     * @throws IllegalArgumentException when a field is out of its range, or the actions are
     *     missing or not of rank 2
     */
    public Continuation {
        if (actions == null) {
            throw new IllegalArgumentException("A continuation needs its actions; got null");
        }
        if (actions.shape().rank() != 2) {
            throw new IllegalArgumentException("A continuation's actions have shape (H, A); got " + actions.shape());
        }
        if (delay < 0 || delay > actions.shape().dim(0)) {
            throw new IllegalArgumentException("A continuation's delay must be within 0.." + actions.shape().dim(0)
                    + " (its actions' length); got " + delay);
        }
        if (cursor < 0) {
            throw new IllegalArgumentException("A continuation's cursor counts executed actions and cannot be negative; got "
                    + cursor);
        }
    }
}
