package org.webpolicy.camera;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_videoio;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_videoio.VideoCapture;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * One camera: an OpenCV {@code VideoCapture} read by its own grab thread, which keeps only the
 * newest {@link Frame}. A slow consumer never builds a queue: a frame not taken before the next
 * one arrives is dropped and counted ({@link #droppedFrames()}), and {@link #next} never returns
 * the same frame twice (its sequence number says how many were skipped).
 *
 * <p>Failures never hang the caller: {@link #next} waits at most its timeout. A file that ends,
 * a read that fails, or {@link Options#maxEmptyReads()} empty reads in a row (a device that
 * vanished, a stream that stalls) stop the camera, and {@link #next} then throws a
 * {@link CameraException} naming the camera, its source and the reason. Empty reads below that
 * count are counted ({@link #emptyReads()}) and skipped.
 *
 * <p>Lifecycle: {@link #open} opens the source and starts the grab thread (a daemon named after
 * the camera); {@link #close} stops it, and the grab thread releases the capture itself once its
 * current read returns, so a read stuck inside a driver cannot make {@code close} hang.
 * Thread-safe.
 */
public final class Camera implements AutoCloseable {

    /** Frames' OpenCV buffers are released when their arrays become unreachable. */
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * How a camera reads.
     *
     * @param maxEmptyReads empty reads in a row after which a device or stream counts as stopped
     * @param fileFramesPerSecond how fast a video file plays: its own frame rate when NaN, as fast
     *     as it decodes when 0 (tests), else this rate
     */
    public record Options(int maxEmptyReads, double fileFramesPerSecond) {

        /** 30 empty reads in a row (about a second at 30 Hz); files at their own frame rate. */
        public static final Options DEFAULT = new Options(30, Double.NaN);

        /**
         * Checks the values.
         *
         * @param maxEmptyReads at least 1
         * @param fileFramesPerSecond NaN, 0 or a positive rate
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
    }

    private final String name;
    private final CameraSource source;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private Frame newest;
    private long taken;
    private long dropped;
    private long emptyReads;
    private String stopReason;
    private volatile boolean running = true;

    private Camera(String name, CameraSource source, VideoCapture capture, Options options) {
        this.name = name;
        this.source = source;
        double fps = options.fileFramesPerSecond();
        if (source.kind() == CameraSource.Kind.FILE && Double.isNaN(fps)) {
            double own = capture.get(opencv_videoio.CAP_PROP_FPS);
            fps = own > 0 && own < 1000 ? own : 30;
        }
        long periodNanos = source.kind() == CameraSource.Kind.FILE && fps > 0 ? (long) (1e9 / fps) : 0;
        this.thread = new Thread(() -> grabLoop(capture, options.maxEmptyReads(), periodNanos), "camera-" + name);
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

    private void grabLoop(VideoCapture capture, int maxEmptyReads, long periodNanos) {
        long sequence = 0;
        int emptyInARow = 0;
        long nextDue = System.nanoTime();
        try {
            while (running) {
                Mat mat = new Mat();
                boolean ok = capture.read(mat);
                long now = System.nanoTime();
                if (!ok || mat.empty()) {
                    mat.close();
                    if (source.kind() == CameraSource.Kind.FILE) {
                        stop("end of file after " + sequence + " frames");
                        return;
                    }
                    emptyInARow++;
                    countEmptyRead();
                    if (emptyInARow >= maxEmptyReads) {
                        stop(emptyInARow + " empty reads in a row after " + sequence
                                + " frames: the camera stopped or vanished");
                        return;
                    }
                    TimeUnit.MILLISECONDS.sleep(5);
                    continue;
                }
                emptyInARow = 0;
                Frame frame;
                try {
                    frame = toFrame(mat, ++sequence, now);
                } catch (CameraException e) {
                    mat.close();
                    stop(e.getMessage());
                    return;
                }
                publish(frame);
                if (periodNanos > 0) {
                    nextDue += periodNanos;
                    long wait = nextDue - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    } else {
                        nextDue = System.nanoTime();
                    }
                }
            }
            stop("closed");
        } catch (InterruptedException e) {
            stop("closed");
        } catch (RuntimeException | Error e) {
            stop("the grab failed: " + e);
            throw e;
        } finally {
            capture.release();
            capture.close();
        }
    }

    /** OpenCV's frame as an array: a view of its buffer when contiguous (no copy), else one copy. */
    private Frame toFrame(Mat mat, long sequence, long captureNanos) {
        if (mat.depth() != opencv_core.CV_8U || mat.dims() != 2 || mat.channels() < 1 || mat.channels() > 4) {
            throw new CameraException("Camera '" + name + "' (" + source + ") gave a frame of OpenCV type " + mat.type()
                    + " (" + mat.channels() + " channels); only 8-bit images are supported");
        }
        Mat owned = mat;
        if (!mat.isContinuous()) {
            owned = mat.clone(); // the one copy, for a frame OpenCV does not hold contiguously
            mat.close();
        }
        long bytes = (long) owned.rows() * owned.cols() * owned.channels();
        ByteBuffer view = owned.data().capacity(bytes).asByteBuffer();
        Mat keep = owned;
        CLEANER.register(view, keep::close); // the action holds the Mat, never the buffer
        NdArray image = NdArray.wrap(DType.UINT8, Shape.of(owned.rows(), owned.cols(), owned.channels()), view);
        return new Frame(name, sequence, captureNanos, image);
    }

    private void publish(Frame frame) {
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

    private void countEmptyRead() {
        lock.lock();
        try {
            emptyReads++;
        } finally {
            lock.unlock();
        }
    }

    private void stop(String reason) {
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
            while (newest == null || newest.sequence() <= taken) {
                if (stopReason != null) {
                    throw new CameraException("Camera '" + name + "' (" + source + ") stopped: " + stopReason);
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
            taken = newest.sequence();
            return newest;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The newest frame without waiting, which may be one already returned (compare sequences).
     *
     * @return the newest frame, or empty before the first
     */
    public Optional<Frame> latest() {
        lock.lock();
        try {
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
        lock.lock();
        try {
            return dropped;
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
        lock.lock();
        try {
            return emptyReads;
        } finally {
            lock.unlock();
        }
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
