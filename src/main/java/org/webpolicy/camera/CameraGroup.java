package org.webpolicy.camera;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Several cameras read together: {@link #next} returns one new frame per camera for a control
 * step and the skew between their capture times. Closing the group closes its cameras.
 * Thread-safe as its cameras are; one consumer at a time is the intended use.
 */
public final class CameraGroup implements AutoCloseable {

    /**
     * One step's frames.
     *
     * @param frames each camera's frame, by camera name, in the group's order
     * @param skewNanos the newest capture time minus the oldest
     */
    public record Step(Map<String, Frame> frames, long skewNanos) {

        /**
         * Copies the map.
         *
         * @param frames each camera's frame, by camera name
         * @param skewNanos the newest capture time minus the oldest, 0 or more
         * @throws NullPointerException if {@code frames} is null
         */
        public Step {
            frames = Collections.unmodifiableMap(new LinkedHashMap<>(frames));
        }
    }

    private final List<Camera> cameras;

    private CameraGroup(List<Camera> cameras) {
        this.cameras = List.copyOf(cameras);
    }

    /**
     * Opens every camera; if one fails, those already open are closed.
     *
     * @param sources each camera's source, by name (the observation key it feeds)
     * @param options how every camera reads
     * @return the running group
     * @throws CameraException naming the camera that could not be opened
     * @throws IllegalStateException when OpenCV's video natives cannot be loaded
     * @throws IllegalArgumentException for an empty map
     */
    public static CameraGroup open(Map<String, CameraSource> sources, Camera.Options options) {
        Objects.requireNonNull(sources, "sources");
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("A camera group needs at least one camera");
        }
        List<Camera> opened = new ArrayList<>();
        try {
            sources.forEach((name, source) -> opened.add(Camera.open(name, source, options)));
        } catch (RuntimeException e) {
            opened.forEach(Camera::close);
            throw e;
        }
        return new CameraGroup(opened);
    }

    /**
     * The cameras, in the group's order.
     *
     * @return an unmodifiable list
     */
    public List<Camera> cameras() {
        return cameras;
    }

    /**
     * Waits for one new frame from every camera, all within one {@code timeout}.
     *
     * @param timeout the longest wait for the whole step
     * @return the frames and their skew
     * @throws CameraException from the first camera that stopped or gave no frame in time
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    public Step next(Duration timeout) throws InterruptedException {
        return step(timeout, Camera::next);
    }

    /**
     * Every camera's newest frame at once, for a loop faster than its cameras: a camera with no
     * frame newer than its last gives that one again ({@link Camera#newest}, counted by
     * {@link Camera#reusedFrames()}). Waits only for each camera's very first frame.
     *
     * @param timeout the longest wait for the first frames, all cameras together
     * @return the frames and their skew
     * @throws CameraException from the first camera that stopped with no newer frame, or gave
     *     no first frame in time
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    public Step newest(Duration timeout) throws InterruptedException {
        return step(timeout, Camera::newest);
    }

    @FunctionalInterface
    private interface Read {
        Frame from(Camera camera, Duration timeout) throws InterruptedException;
    }

    private Step step(Duration timeout, Read read) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Frame> frames = new LinkedHashMap<>();
        long oldest = Long.MAX_VALUE;
        long newest = Long.MIN_VALUE;
        for (Camera camera : cameras) {
            Frame f = read.from(camera, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            frames.put(camera.name(), f);
            oldest = Math.min(oldest, f.captureNanos());
            newest = Math.max(newest, f.captureNanos());
        }
        return new Step(frames, newest - oldest);
    }

    /** Closes every camera. Idempotent. */
    @Override
    public void close() {
        cameras.forEach(Camera::close);
    }
}
