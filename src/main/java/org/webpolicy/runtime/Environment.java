package org.webpolicy.runtime;

import java.util.Map;

/**
 * The robot (real or simulated) as the {@link ControlLoop} sees it. All calls come from the
 * loop's thread, one at a time.
 */
public interface Environment {

    /**
     * Starts an episode; for a real robot, moves it home. Also called once after the last
     * episode.
     */
    void reset();

    /**
     * True when the episode is over (task done, failure, operator said so). Asked after each step.
     *
     * @return whether the episode has ended
     */
    boolean isEpisodeComplete();

    /**
     * The observation for the next action: cameras, joint state, prompt.
     *
     * @return a map of wire values
     */
    Map<String, Object> getObservation();

    /**
     * Executes one action.
     *
     * @param action the agent's action
     */
    void applyAction(Map<String, Object> action);
}
