package org.webpolicy.camera;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.opencv.opencv_videoio.VideoWriter;
import org.webpolicy.array.NdArray;

/**
 * Short videos made by OpenCV's own {@code VideoWriter} (Motion-JPEG in AVI: the preset's built-in
 * writer, no FFmpeg needed). Frame {@code n} carries its number twice: as text for a person, and
 * as eight 40x40 blocks along the top, pure blue (BGR 255, 0, 0) for a 1 bit and black for a 0,
 * which survive JPEG and a resize to 224x224.
 */
public final class TestVideos {

    static final int WIDTH = 320;
    static final int HEIGHT = 240;
    static final int BLOCK = 40;

    private TestVideos() {
    }

    static Path write(Path file, int frames) {
        return write(file, frames, 30.0);
    }

    /**
     * Writes a test video.
     *
     * @param file where, an {@code .avi}
     * @param frames how many frames
     * @param framesPerSecond the frame rate the file declares (it plays at it)
     * @return {@code file}
     */
    public static Path write(Path file, int frames, double framesPerSecond) {
        OpenCvVideo.requireLoaded();
        VideoWriter writer = new VideoWriter(file.toString(), VideoWriter.fourcc((byte) 'M', (byte) 'J', (byte) 'P',
                (byte) 'G'), framesPerSecond, new Size(WIDTH, HEIGHT), true);
        assertTrue(writer.isOpened(), "VideoWriter cannot write MJPG/AVI here");
        try {
            for (int n = 0; n < frames; n++) {
                Mat m = new Mat(HEIGHT, WIDTH, org.bytedeco.opencv.global.opencv_core.CV_8UC3, new Scalar(0, 90, 0, 0));
                for (int bit = 0; bit < 8; bit++) {
                    if ((n >> bit & 1) != 0) {
                        Mat block = new Mat(m, new Rect(bit * BLOCK, 0, BLOCK, BLOCK));
                        block.put(new Scalar(255, 0, 0, 0));
                        block.close();
                    } else {
                        Mat block = new Mat(m, new Rect(bit * BLOCK, 0, BLOCK, BLOCK));
                        block.put(new Scalar(0, 0, 0, 0));
                        block.close();
                    }
                }
                opencv_imgproc.putText(m, "frame " + n, new Point(20, 150), opencv_imgproc.FONT_HERSHEY_SIMPLEX, 1.5,
                        new Scalar(255, 255, 255, 0));
                writer.write(m);
                m.close();
            }
        } finally {
            writer.release();
            writer.close();
        }
        return file;
    }

    /** The number in a BGR [h, w, 3] frame of the original size. */
    static int numberInBgrFrame(NdArray frame) {
        return decode((x, y) -> frame.data().get((int) ((y * frame.shape().dim(1) + x) * 3)) & 0xFF,
                1.0, 0, 0);
    }

    /**
     * The number in an RGB [3, 224, 224] array made from a frame by resizing with padding
     * (320x240 becomes 224x168, pasted 28 rows down), read from the blue plane.
     */
    static int numberInRgbChw(NdArray chw) {
        int h = (int) chw.shape().dim(1);
        int w = (int) chw.shape().dim(2);
        double scale = 224.0 / WIDTH;
        return decode((x, y) -> chw.data().get(2 * h * w + y * w + x) & 0xFF, scale, 28, 0);
    }

    /** Reads the eight blocks' centres; a value far from both 0 and 255 fails the test. */
    private static int decode(Sampler blue, double scale, int top, int left) {
        int n = 0;
        for (int bit = 0; bit < 8; bit++) {
            int x = left + (int) ((bit * BLOCK + BLOCK / 2) * scale);
            int y = top + (int) ((BLOCK / 2) * scale);
            int v = blue.at(x, y);
            assertTrue(v < 40 || v > 215, "block " + bit + " reads " + v + ", neither 0 nor 255");
            if (v > 215) {
                n |= 1 << bit;
            }
        }
        return n;
    }

    @FunctionalInterface
    private interface Sampler {
        int at(int x, int y);
    }
}
