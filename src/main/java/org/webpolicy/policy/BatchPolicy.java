package org.webpolicy.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link Policy} that can compute the actions of several observations in one call, as a model
 * on a GPU does for about the price of one. A {@code PolicyServer} built with
 * {@code batching(maxBatch, maxWait)} gathers observations from different connections and calls
 * {@link #stepBatch} once for them; clients see nothing different on the wire.
 *
 * <p>The observations of one batch agree on their keys, and on the dtype and shape of every
 * array (the server groups them so); an implementation may stack them. {@link #step} is this
 * call with a batch of one, so a batch policy serves unbatched callers unchanged.
 *
 * <p>Threading as for {@link Policy}: unless {@link #isThreadSafe()} says so, the server never
 * runs {@code stepBatch} or {@code reset} of one policy at the same time.
 */
public interface BatchPolicy extends Policy {

    /**
     * Computes one action per observation, in the order given. Failures are thrown as unchecked
     * exceptions; the server then calls again with halves of the batch, down to single
     * observations, so that only an observation that fails alone fails: the same observation may
     * reach this method more than once.
     *
     * @param observations one or more observations of the same keys, dtypes and shapes
     * @return the actions, as many as observations, {@code i}-th for the {@code i}-th
     */
    List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations);

    /**
     * Computes one action per observation, each continuing its own robot's chunk (see
     * {@link Policy#step(Map, Continuation)}). The default ignores the continuations.
     *
     * @param observations one or more observations of the same keys, dtypes and shapes
     * @param continuations one per observation, in the same order; an element is null for a
     *     robot with no chunk under way
     * @return the actions, as many as observations, {@code i}-th for the {@code i}-th
     */
    default List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations, List<Continuation> continuations) {
        return stepBatch(observations);
    }

    /**
     * The action of one observation: {@link #stepBatch} with a batch of one.
     *
     * @param observation a map of wire values
     * @return the action, a map of wire values
     * @throws IllegalStateException when {@link #stepBatch} returns other than one action
     */
    @Override
    default Map<String, Object> step(Map<String, Object> observation) {
        List<Map<String, Object>> actions = stepBatch(List.of(observation));
        if (actions == null || actions.size() != 1) {
            throw new IllegalStateException("stepBatch returned " + (actions == null ? "null" : actions.size() + " actions")
                    + " for 1 observation");
        }
        return actions.get(0);
    }

    /**
     * The action of one observation with its continuation: {@link #stepBatch(List, List)} with a
     * batch of one.
     *
     * @param observation a map of wire values
     * @param continuation the robot's chunk under way, or null
     * @return the action, a map of wire values
     * @throws IllegalStateException when {@link #stepBatch(List, List)} returns other than one action
     */
    @Override
    default Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        List<Continuation> continuations = new ArrayList<>(1);
        continuations.add(continuation); // List.of refuses the null of a robot with no chunk under way
        List<Map<String, Object>> actions = stepBatch(List.of(observation), continuations);
        if (actions == null || actions.size() != 1) {
            throw new IllegalStateException("stepBatch returned " + (actions == null ? "null" : actions.size() + " actions")
                    + " for 1 observation");
        }
        return actions.get(0);
    }
}
