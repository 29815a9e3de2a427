package org.webpolicy.demo;

import java.util.Objects;

/**
 * What one camera of a demo run did.
 *
 * @param name the observation key it fed ({@code cam_high}, ...)
 * @param source its source as given ({@code file run1.avi}, {@code device 0}, ...)
 * @param framesPerSecond the rate the source reports, NaN when it reports none
 * @param framesRead frames read from the source, dropped ones included
 * @param reusedFrames steps that got this camera's previous frame again (the camera slower than the loop)
 * @param droppedFrames frames replaced by a newer one before a step took them (the loop slower than the camera)
 * @param loops times a looped file started over
 * @param endReason why it ended the run (its own message), or null when it ran to the end
 */
public record CameraReport(String name, String source, double framesPerSecond, long framesRead, long reusedFrames,
        long droppedFrames, long loops, String endReason) {

    /**
     * Checks the names.
     *
     * @param name the observation key it fed
     * @param source its source as given
     * @param framesPerSecond the rate the source reports, NaN when it reports none
     * @param framesRead frames read from the source
     * @param reusedFrames steps that got its previous frame again
     * @param droppedFrames frames replaced before a step took them
     * @param loops times a looped file started over
     * @param endReason why it ended the run, or null
     * @throws NullPointerException when name or source is null
     */
    public CameraReport {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
    }
}
