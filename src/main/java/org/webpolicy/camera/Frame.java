package org.webpolicy.camera;

import java.util.Objects;
import org.webpolicy.array.NdArray;

/**
 * One captured frame: OpenCV's pixels as a uint8 array {@code [h, w, c]} in OpenCV's channel order
 * (BGR for colour), its number in the camera's stream and when it was captured.
 *
 * <p>The image is a view of OpenCV's own buffer (no copy) when OpenCV's frame is contiguous, which
 * is what {@code VideoCapture} returns; otherwise it is a copy. The buffer stays valid as long as
 * the image array, or any view of it, is reachable, and is released after that (a
 * {@link java.lang.ref.Cleaner Cleaner} owns it). Immutable.
 *
 * @param camera the name of the camera
 * @param sequence the frame's number in this camera's stream, from 1; a gap means frames were
 *     replaced by newer ones before anyone took them
 * @param captureNanos when the grab returned, on {@link System#nanoTime()}'s clock
 * @param image the pixels, {@code [h, w, c]} uint8, BGR for colour
 */
public record Frame(String camera, long sequence, long captureNanos, NdArray image) {

    /**
     * Checks the value.
     *
     * @param camera the name of the camera
     * @param sequence the frame's number, from 1
     * @param captureNanos when the grab returned ({@link System#nanoTime()})
     * @param image the pixels
     * @throws NullPointerException if {@code camera} or {@code image} is null
     * @throws IllegalArgumentException if {@code sequence} is below 1
     */
    public Frame {
        Objects.requireNonNull(camera, "camera");
        Objects.requireNonNull(image, "image");
        if (sequence < 1) {
            throw new IllegalArgumentException("Frame sequence starts at 1, got " + sequence);
        }
    }

    /**
     * How long ago the frame was captured.
     *
     * @return nanoseconds since the grab returned
     */
    public long ageNanos() {
        return System.nanoTime() - captureNanos;
    }
}
