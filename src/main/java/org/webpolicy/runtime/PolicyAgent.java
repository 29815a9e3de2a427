package org.webpolicy.runtime;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.policy.Policy;

/**
 * An agent that asks a {@link Policy} (a local model, a {@code PolicyClient}, a broker over
 * either) for each action. It does not own the policy: closing it is the caller's job.
 */
public final class PolicyAgent implements Agent {

    private final Policy policy;
    private final Map<String, Object> resetPayload;

    /**
     * Resets the policy with an empty payload at each episode.
     *
     * @param policy the policy asked for every action; the agent does not close it
     */
    public PolicyAgent(Policy policy) {
        this(policy, Map.of());
    }

    /**
     * Resets the policy with {@code resetPayload} (e.g. a new prompt) at each episode.
     *
     * @param policy the policy asked for every action; the agent does not close it
     * @param resetPayload sent with every reset (copied)
     */
    public PolicyAgent(Policy policy, Map<String, Object> resetPayload) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.resetPayload = Collections.unmodifiableMap(new LinkedHashMap<>(resetPayload));
    }

    @Override
    public Map<String, Object> getAction(Map<String, Object> observation) {
        return policy.step(observation);
    }

    @Override
    public void reset() {
        policy.reset(resetPayload);
    }
}
