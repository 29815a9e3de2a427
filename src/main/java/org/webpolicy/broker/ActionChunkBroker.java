package org.webpolicy.broker;

import java.util.Map;
import java.util.Objects;
import org.webpolicy.policy.Policy;

/**
 * Turns a policy that answers with a chunk of actions (say {@code actions: (50, 14)}) into one
 * that answers with one action per call, as openpi's {@code ActionChunkBroker} does.
 *
 * <p>The wrapped policy is called only when no chunk is cached. Call {@code i} after that
 * returns step {@code i} of the chunk: every {@code NdArray} in the (nested) reply replaced by
 * its item {@code i} along the first dimension (a view, no copy), every other value (openpi's
 * {@code server_timing} numbers, strings, nested maps of them) as it was. After
 * {@code actionHorizon} calls the chunk is dropped and the next call asks the policy again, with
 * that call's observation. The actions of a chunk past the horizon are never used.
 *
 * <p>Each reply is checked when it arrives; an {@link ActionChunkException} naming the keys is
 * thrown when an array is 0-d, when arrays disagree on their first dimension, when the chunk has
 * fewer steps than the horizon, or when the reply holds no array at all.
 *
 * <p>Threading: not thread-safe, like most policies; one robot loop calls it. It owns the
 * wrapped policy: {@link #close()} closes it.
 *
 * <p>Built as {@link AsyncActionChunkBroker} is, so that switching between the two changes one
 * word: {@code ActionChunkBroker.builder(client, 25).build()}. Every other configurable type of
 * the library ({@code PolicyServer}, {@code PolicyClient}, {@code ControlLoop},
 * {@code ObservationSpec}) is built the same way.
 */
public final class ActionChunkBroker implements Policy {

    private final Policy policy;
    private final int actionHorizon;
    private ActionChunk chunk;
    private int nextStep;
    private long chunksRequested;

    private ActionChunkBroker(Builder b) {
        this.policy = b.policy;
        this.actionHorizon = b.actionHorizon;
    }

    /**
     * A builder for a broker over {@code policy} using {@code actionHorizon} steps of each chunk.
     *
     * @param policy the policy answering with chunks; the broker owns it
     * @param actionHorizon how many steps of each chunk to use, at least 1
     * @return a builder; {@link Builder#build()} makes the broker
     * @throws NullPointerException when {@code policy} is null
     * @throws IllegalArgumentException when {@code actionHorizon} is below 1
     */
    public static Builder builder(Policy policy, int actionHorizon) {
        return new Builder(policy, actionHorizon);
    }

    /**
     * One action: step {@code i} of the cached chunk, asking the wrapped policy for a new chunk
     * (with this observation) when none is cached.
     *
     * @param observation the robot's observation, passed to the policy only when a chunk is asked for
     * @return the action of this step
     * @throws ActionChunkException when the policy's reply is not a usable chunk
     */
    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        if (chunk == null) {
            chunksRequested++;
            chunk = ActionChunk.of(policy.step(observation), actionHorizon);
            nextStep = 0;
        }
        Map<String, Object> action = chunk.stepAt(nextStep);
        nextStep++;
        if (nextStep >= actionHorizon) {
            chunk = null;
        }
        return action;
    }

    /**
     * Resets the wrapped policy and drops the cached chunk.
     *
     * @param payload passed to the wrapped policy's reset
     */
    @Override
    public void reset(Map<String, Object> payload) {
        policy.reset(payload);
        chunk = null;
        nextStep = 0;
    }

    /**
     * The wrapped policy's metadata.
     *
     * @return what the wrapped policy reports
     */
    @Override
    public Map<String, Object> metadata() {
        return policy.metadata();
    }

    /**
     * How many times the wrapped policy has been asked for a chunk.
     *
     * @return chunks requested since construction
     */
    public long chunksRequested() {
        return chunksRequested;
    }

    /**
     * Steps used of each chunk.
     *
     * @return the action horizon this broker was built with
     */
    public int actionHorizon() {
        return actionHorizon;
    }

    /** Closes the wrapped policy. */
    @Override
    public void close() {
        policy.close();
    }

    /** Options of an {@link ActionChunkBroker}: the policy and the horizon, both required up front. */
    public static final class Builder {
        private final Policy policy;
        private final int actionHorizon;

        private Builder(Policy policy, int actionHorizon) {
            this.policy = Objects.requireNonNull(policy, "policy");
            if (actionHorizon < 1) {
                throw new IllegalArgumentException("actionHorizon must be at least 1, got " + actionHorizon);
            }
            this.actionHorizon = actionHorizon;
        }

        /**
         * Makes the broker.
         *
         * @return a new broker owning the policy
         */
        public ActionChunkBroker build() {
            return new ActionChunkBroker(this);
        }
    }
}
