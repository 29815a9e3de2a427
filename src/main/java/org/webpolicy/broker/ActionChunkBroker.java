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
 */
public final class ActionChunkBroker implements Policy {

    private final Policy policy;
    private final int actionHorizon;
    private ActionChunk chunk;
    private int nextStep;
    private long chunksRequested;

    /**
     * @param policy the policy answering with chunks
     * @param actionHorizon how many steps of each chunk to use, at least 1
     */
    public ActionChunkBroker(Policy policy, int actionHorizon) {
        this.policy = Objects.requireNonNull(policy, "policy");
        if (actionHorizon < 1) {
            throw new IllegalArgumentException("actionHorizon must be at least 1, got " + actionHorizon);
        }
        this.actionHorizon = actionHorizon;
    }

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

    /** Resets the wrapped policy and drops the cached chunk. */
    @Override
    public void reset(Map<String, Object> payload) {
        policy.reset(payload);
        chunk = null;
        nextStep = 0;
    }

    @Override
    public Map<String, Object> metadata() {
        return policy.metadata();
    }

    /** How many times the wrapped policy has been asked for a chunk. */
    public long chunksRequested() {
        return chunksRequested;
    }

    public int actionHorizon() {
        return actionHorizon;
    }

    @Override
    public void close() {
        policy.close();
    }
}
