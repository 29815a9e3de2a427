package org.webpolicy.policy;

import java.util.Map;

/**
 * The one policy interface: something that turns an observation into an action. A model running
 * in this JVM, a remote server reached through {@code PolicyClient}, and the brokers that wrap
 * either all implement it, so each can stand in for the others.
 *
 * <p>Observations and actions are maps of wire values: {@code NdArray}, {@code NpScalar},
 * {@code String}, {@code byte[]}, {@code Long}, {@code Double}, {@code Boolean}, {@code null},
 * {@code List} and nested maps (see {@code MsgpackCodec} for the full mapping).
 *
 * <p>Threading: unless {@link #isThreadSafe()} says so, callers must not call one policy from
 * two threads at once; {@code PolicyServer} serializes calls for such policies.
 */
public interface Policy extends AutoCloseable {

    /**
     * Computes the action for one observation. Failures are thrown as unchecked exceptions.
     *
     * @param observation a map of wire values (see the interface doc)
     * @return the action, a map of wire values
     */
    Map<String, Object> step(Map<String, Object> observation);

    /**
     * Computes the action for one observation, continuing the chunk the robot is executing
     * (real-time chunking). Called only when {@link #acceptsContinuation()} is true and the
     * caller has a chunk under way; the default ignores the continuation.
     *
     * @param observation a map of wire values (see the interface doc)
     * @param continuation what the robot will still execute of its current chunk; null when it
     *     has none (the first step of an episode)
     * @return the action, a map of wire values
     */
    default Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        return step(observation);
    }

    /**
     * Starts a new episode. {@code payload} is empty when the caller sent none; it may carry
     * e.g. a new task prompt.
     *
     * @param payload what the caller sent with the reset; never null
     */
    default void reset(Map<String, Object> payload) {
    }

    /**
     * What the policy tells clients when they connect (sent as the metadata frame).
     *
     * @return a map of wire values; empty by default
     */
    default Map<String, Object> metadata() {
        return Map.of();
    }

    /**
     * True when this policy uses the {@link Continuation} given to
     * {@link #step(Map, Continuation)}: a robot then sends one with each step. A client is true
     * when its server said so in the handshake; a wrapper passes on what it wraps.
     *
     * @return false by default
     */
    default boolean acceptsContinuation() {
        return false;
    }

    /**
     * True when {@link #step} may be called from several threads at once.
     *
     * @return false by default: callers serialize their calls
     */
    default boolean isThreadSafe() {
        return false;
    }

    /** Releases what the policy holds (connections, native memory). The default holds nothing. */
    @Override
    default void close() {
    }
}
