package org.webpolicy.camera;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.bytedeco.opencv.global.opencv_videoio;
import org.bytedeco.opencv.opencv_videoio.VideoCapture;

/**
 * One camera: an OpenCV {@code VideoCapture} read by its own grab thread, which keeps only the
 * newest {@link Frame}. A slow consumer never builds a queue: a frame not taken before the next
 * one arrives is dropped and counted ({@link #droppedFrames()}), and {@link #next} never returns
 * the same frame twice (its sequence number says how many were skipped).
 *
 * <p>A control loop faster than the camera calls {@link #newest} instead: it returns the newest
 * frame at once, again if no newer one came (counted by {@link #reusedFrames()}), so the loop
 * keeps its rate and the reuse is visible rather than a wait.
 *
 * <p>A video file plays at its own frame rate (or {@link Options#fileFramesPerSecond()}) from
 * the first read ({@link #next}, {@link #newest} or {@link #latest}), not from {@link #open}: its
 * first frame waits for the reader, so a program that takes seconds to start loses no video.
 * With {@link Options#loop()} it starts over at its end ({@link #loops()} counts the passes).
 *
 * <p>Failures never hang the caller: {@link #next} waits at most its timeout. A file that ends
 * (unless looped), a read that fails, or {@link Options#maxEmptyReads()} empty reads in a row (a
 * device that vanished, a stream that stalls) stop the camera, and {@link #next} then throws a
 * {@link CameraException} naming the camera, its source and the reason. Empty reads below that
 * count are counted ({@link #emptyReads()}) and skipped.
 *
 * <p>Lifecycle: {@link #open} opens the source and starts the grab thread (a daemon named after
 * the camera); {@link #close} stops it, and the grab thread releases the capture itself once its
 * current read returns, so a read stuck inside a driver cannot make {@code close} hang.
 * Thread-safe.
 */
public final class Camera implements AutoCloseable {

    /**
     * How a camera reads.
     *
     * @param maxEmptyReads empty reads in a row after which a device or stream counts as stopped
     * @param fileFramesPerSecond how fast a video file plays: its own frame rate when NaN, as fast
     *     as it decodes when 0 (tests), else this rate
     * @param loop whether a video file starts over at its end instead of stopping the camera
     */
    public record Options(int maxEmptyReads, double fileFramesPerSecond, boolean loop) {

        /** 30 empty reads in a row (about a second at 30 Hz); files at their own frame rate, once. */
        public static final Options DEFAULT = new Options(30, Double.NaN, false);

        /**
         * Checks the values.
         *
         * @param maxEmptyReads at least 1
         * @param fileFramesPerSecond NaN, 0 or a positive rate
         * @param loop whether a video file starts over at its end
         * @throws IllegalArgumentException for values out of range
         */
        public Options {
            if (maxEmptyReads < 1) {
                throw new IllegalArgumentException("maxEmptyReads must be at least 1, got " + maxEmptyReads);
            }
            if (fileFramesPerSecond < 0 || Double.isInfinite(fileFramesPerSecond)) {
                throw new IllegalArgumentException("fileFramesPerSecond must be NaN, 0 or positive, got "
                        + fileFramesPerSecond);
            }
        }

        /**
         * Options whose files play once.
         *
         * @param maxEmptyReads at least 1
         * @param fileFramesPerSecond NaN, 0 or a positive rate
         * @throws IllegalArgumentException for values out of range
         */
        public Options(int maxEmptyReads, double fileFramesPerSecond) {
            this(maxEmptyReads, fileFramesPerSecond, false);
        }

        /**
         * These options with files looped or not.
         *
         * @param loop whether a video file starts over at its end
         * @return the options
         */
        public Options withLoop(boolean loop) {
            return new Options(maxEmptyReads, fileFramesPerSecond, loop);
        }
    }

    private final String name;
    private final CameraSource source;
    private final double sourceFps;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private Frame newest;
    private long taken;
    private long dropped;
    private long reused;
    private long emptyReads;
    private long loops;
    /** When the first read came, 0 before: a file's playback clock starts there. */
    private long firstReadNanos;
    private String stopReason;
    private volatile boolean running = true;

    private Camera(String name, CameraSource source, VideoCapture capture, Options options) {
        this.name = name;
        this.source = source;
        double own = capture.get(opencv_videoio.CAP_PROP_FPS);
        this.sourceFps = own > 0 && own < 1000 ? own : Double.NaN;
        double fps = options.fileFramesPerSecond();
        if (source.kind() == CameraSource.Kind.FILE && Double.isNaN(fps)) {
            fps = Double.isNaN(sourceFps) ? 30 : sourceFps;
        }
        long periodNanos = source.kind() == CameraSource.Kind.FILE && fps > 0 ? (long) (1e9 / fps) : 0;
        boolean loop = options.loop() && source.kind() == CameraSource.Kind.FILE;
        Grabber grabber = new Grabber(this, capture, options.maxEmptyReads(), periodNanos, loop);
        this.thread = new Thread(grabber::run, "camera-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Opens a source with {@link Options#DEFAULT} and starts grabbing.
     *
     * @param name the camera's name (the observation key it feeds, e.g. {@code cam_high})
     * @param source where frames come from
     * @return the running camera
     * @throws CameraException naming the source when it cannot be opened
     * @throws IllegalStateException when OpenCV's video natives cannot be loaded
     */
    public static Camera open(String name, CameraSource source) {
        return open(name, source, Options.DEFAULT);
    }

    /**
     * Opens a source and starts grabbing.
     *
     * @param name the camera's name (the observation key it feeds, e.g. {@code cam_high})
     * @param source where frames come from
     * @param options how to read
     * @return the running camera
     * @throws CameraException naming the source when it cannot be opened
     * @throws IllegalStateException when OpenCV's video natives cannot be loaded
     */
    public static Camera open(String name, CameraSource source, Options options) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(options, "options");
        OpenCvVideo.requireLoaded();
        if (source.kind() == CameraSource.Kind.FILE && !Files.isRegularFile(Path.of(source.spec()))) {
            throw new CameraException("Camera '" + name + "' (" + source + "): no such file");
        }
        VideoCapture capture = new VideoCapture();
        boolean opened = switch (source.kind()) {
            case DEVICE -> capture.open(Integer.parseInt(source.spec()), opencv_videoio.CAP_ANY);
            case GSTREAMER -> capture.open(source.spec(), opencv_videoio.CAP_GSTREAMER);
            case FILE, URL -> capture.open(source.spec(), opencv_videoio.CAP_ANY);
        };
        if (!opened || !capture.isOpened()) {
            capture.release();
            capture.close();
            throw new CameraException("Camera '" + name + "' (" + source + "): OpenCV could not open it (no such device,"
                    + " an unsupported codec, or no OpenCV backend for it" + (source.kind() == CameraSource.Kind.GSTREAMER
                    ? "; this OpenCV build may lack GStreamer" : "") + ")");
        }
        Camera camera = new Camera(name, source, capture, options);
        camera.thread.start();
        return camera;
    }

    /**
     * The camera's name.
     *
     * @return the name given to {@link #open}
     */
    public String name() {
        return name;
    }

    /**
     * The camera's source.
     *
     * @return where its frames come from
     */
    public CameraSource source() {
        return source;
    }

    /**
     * The frame rate the source reports: a file's own rate, a device's nominal one.
     *
     * @return frames per second, NaN when the source reports none
     */
    public double sourceFramesPerSecond() {
        return sourceFps;
    }

    boolean isRunning() {
        return running;
    }

    /** Waits for the first read (or close) and returns when it came. */
    long awaitFirstRead() throws InterruptedException {
        lock.lock();
        try {
            while (firstReadNanos == 0 && running) {
                changed.await();
            }
            return firstReadNanos == 0 ? System.nanoTime() : firstReadNanos;
        } finally {
            lock.unlock();
        }
    }

    /** Starts a file's playback clock at the first read. Called with the lock held. */
    private void markRead() {
        if (firstReadNanos == 0) {
            firstReadNanos = System.nanoTime();
            changed.signalAll();
        }
    }

    void countLoop() {
        locked(() -> loops++);
    }

    void publish(Frame frame) {
        lock.lock();
        try {
            if (newest != null && newest.sequence() > taken) {
                dropped++;
            }
            newest = frame;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void countEmptyRead() {
        locked(() -> emptyReads++);
    }

    void stop(String reason) {
        lock.lock();
        try {
            if (stopReason == null) {
                stopReason = reason;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for a frame newer than the last one this method returned.
     *
     * @param timeout the longest wait
     * @return the newest frame
     * @throws CameraException when the camera has stopped (end of file, vanished, closed) and
     *     has no newer frame, or when no new frame came within {@code timeout}
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    public Frame next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            markRead();
            while (newest == null || newest.sequence() <= taken) {
                awaitChange(deadline, timeout);
            }
            taken = newest.sequence();
            return newest;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The newest frame at once, for a loop that runs faster than the camera: a frame newer than
     * the last one returned when there is one, else that last one again (counted by
     * {@link #reusedFrames()}). Waits only for the very first frame.
     *
     * @param timeout the longest wait for the first frame
     * @return the newest frame, possibly one returned before (compare sequences)
     * @throws CameraException when the camera has stopped (end of file, vanished, closed) and
     *     has no newer frame, or when no first frame came within {@code timeout}
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    public Frame newest(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            markRead();
            while (newest == null) {
                awaitChange(deadline, timeout);
            }
            if (newest.sequence() > taken) {
                taken = newest.sequence();
            } else if (stopReason != null) {
                throw stopped();
            } else {
                reused++;
            }
            return newest;
        } finally {
            lock.unlock();
        }
    }

    /** One wait for a change, or the exception that ends it. Called with the lock held. */
    private void awaitChange(long deadline, Duration timeout) throws InterruptedException {
        if (stopReason != null) {
            throw stopped();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new CameraException("Camera '" + name + "' (" + source + "): no new frame within "
                    + timeout.toMillis() + " ms" + (newest == null ? " (none yet)"
                    : " (the last, number " + newest.sequence() + ", is "
                    + TimeUnit.NANOSECONDS.toMillis(newest.ageNanos()) + " ms old)"));
        }
        changed.awaitNanos(left);
    }

    private CameraException stopped() {
        return new CameraException("Camera '" + name + "' (" + source + ") stopped: " + stopReason);
    }

    /**
     * The newest frame without waiting, which may be one already returned (compare sequences).
     *
     * @return the newest frame, or empty before the first
     */
    public Optional<Frame> latest() {
        lock.lock();
        try {
            markRead();
            return Optional.ofNullable(newest);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frames replaced by a newer one before {@link #next} took them.
     *
     * @return the count so far
     */
    public long droppedFrames() {
        return locked(() -> dropped);
    }

    /**
     * Times {@link #newest} returned a frame it had returned before (the camera slower than its reader).
     *
     * @return the count so far
     */
    public long reusedFrames() {
        return locked(() -> reused);
    }

    /**
     * Frames read from the source so far, dropped ones included (the newest frame's sequence number).
     *
     * @return the count so far
     */
    public long framesRead() {
        return locked(() -> newest == null ? 0 : newest.sequence());
    }

    /**
     * Times a looped file started over.
     *
     * @return the count so far
     */
    public long loops() {
        return locked(() -> loops);
    }

    private long locked(java.util.function.LongSupplier read) {
        lock.lock();
        try {
            return read.getAsLong();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads that returned no frame, skipped.
     *
     * @return the count so far
     */
    public long emptyReads() {
        return locked(() -> emptyReads);
    }

    /**
     * Why the camera stopped.
     *
     * @return the reason, or empty while it runs
     */
    public Optional<String> stopReason() {
        lock.lock();
        try {
            return Optional.ofNullable(stopReason);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops grabbing; waits up to a second for the grab thread, which releases the capture when
     * its current read returns. Frames already returned stay valid. Idempotent.
     */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stop("closed");
    }
}
