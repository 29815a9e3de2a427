package org.webpolicy.camera;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_videoio;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_videoio.VideoCapture;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * A camera's grab thread: reads its {@code VideoCapture}, turns each frame into a {@link Frame}
 * and hands it to the {@link Camera}, paces a file at its frame rate from the first read, loops
 * it when asked, and stops the camera with the reason when the source ends or fails. Owns the
 * capture and releases it when it returns, so {@link Camera#close} never waits on a driver.
 */
final class Grabber {

    /** Frames' OpenCV buffers are released when their arrays become unreachable. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final Camera camera;
    private final VideoCapture capture;
    private final int maxEmptyReads;
    private final long periodNanos;
    private final boolean loop;

    Grabber(Camera camera, VideoCapture capture, int maxEmptyReads, long periodNanos, boolean loop) {
        this.camera = camera;
        this.capture = capture;
        this.maxEmptyReads = maxEmptyReads;
        this.periodNanos = periodNanos;
        this.loop = loop;
    }

    void run() {
        long sequence = 0;
        long inThisPass = 0;
        int emptyInARow = 0;
        long nextDue = 0;
        try {
            while (camera.isRunning()) {
                Mat mat = new Mat();
                boolean ok = capture.read(mat);
                long now = System.nanoTime();
                if (!ok || mat.empty()) {
                    mat.close();
                    if (camera.source().kind() == CameraSource.Kind.FILE) {
                        if (loop && inThisPass > 0 && rewind()) {
                            camera.countLoop();
                            inThisPass = 0;
                            continue;
                        }
                        camera.stop(!loop ? "end of file after " + sequence + " frames"
                                : sequence == 0 ? "end of file after 0 frames: nothing to loop"
                                : "end of file after " + sequence + " frames: it could not be rewound for the loop");
                        return;
                    }
                    emptyInARow++;
                    camera.countEmptyRead();
                    if (emptyInARow >= maxEmptyReads) {
                        camera.stop(emptyInARow + " empty reads in a row after " + sequence
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
                    camera.stop(e.getMessage());
                    return;
                }
                camera.publish(frame);
                inThisPass++;
                if (periodNanos > 0) {
                    // The first frame waits for the reader; the file's clock starts at the first read.
                    nextDue = (sequence == 1 ? camera.awaitFirstRead() : nextDue) + periodNanos;
                    long wait = nextDue - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    } else {
                        nextDue = System.nanoTime();
                    }
                }
            }
            camera.stop("closed");
        } catch (InterruptedException e) {
            camera.stop("closed");
        } catch (RuntimeException | Error e) {
            camera.stop("the grab failed: " + e);
            throw e;
        } finally {
            capture.release();
            capture.close();
        }
    }

    /** Back to the first frame: a seek, or opening the file again where the seek is refused. */
    private boolean rewind() {
        if (capture.set(opencv_videoio.CAP_PROP_POS_FRAMES, 0)) {
            return true;
        }
        capture.release();
        return capture.open(camera.source().spec(), opencv_videoio.CAP_ANY) && capture.isOpened();
    }

    /** OpenCV's frame as an array: a view of its buffer when contiguous (no copy), else one copy. */
    private Frame toFrame(Mat mat, long sequence, long captureNanos) {
        if (mat.depth() != opencv_core.CV_8U || mat.dims() != 2 || mat.channels() < 1 || mat.channels() > 4) {
            throw new CameraException("Camera '" + camera.name() + "' (" + camera.source() + ") gave a frame of OpenCV type " + mat.type()
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
        return new Frame(camera.name(), sequence, captureNanos, image);
    }
}
