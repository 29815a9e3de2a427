package org.webpolicy.runtime;

import java.util.Map;

/** Chooses actions; {@link PolicyAgent} adapts any policy. Called from the loop's thread. */
public interface Agent {

    /**
     * The action for {@code observation}.
     *
     * @param observation what the environment observed
     * @return the action to apply
     */
    Map<String, Object> getAction(Map<String, Object> observation);

    /** Starts a new episode. */
    void reset();
}
