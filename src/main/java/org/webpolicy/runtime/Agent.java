package org.webpolicy.runtime;

import java.util.Map;

/** Chooses actions; {@link PolicyAgent} adapts any policy. Called from the runtime's thread. */
public interface Agent {

    /** The action for {@code observation}. */
    Map<String, Object> getAction(Map<String, Object> observation);

    /** Starts a new episode. */
    void reset();
}
