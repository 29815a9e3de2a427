package org.webpolicy.image;

import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.webpolicy.array.NdArray;

/**
 * The approximate resize ({@link ImageTools#resizeWithPadApproximate}): OpenCV's
 * {@code cv::resize} called through the {@code org.bytedeco:opencv} preset's own binding, with
 * the geometry, alpha handling and padding of the exact resize.
 *
 * <p>Pure preset calls rather than a second library of ours: the preset already is the JNI
 * layer for {@code cv::resize}, so no C++ of ours links OpenCV, nothing is built per platform for
 * it, and the preset's linux-arm64 jar serves arm64 as its linux-x86_64 jar serves x86-64. Each
 * image is copied once into direct memory and its resized pixels once out, which costs little
 * next to the resize. Use only after
 * {@link org.webpolicy.internal.nativelib.OpenCvLibrary#requireLoaded() OpenCvLibrary.requireLoaded}.
 * Stateless and thread-safe.
 */
final class OpenCvResize {

    private OpenCvResize() {
    }

    /** Larger direct buffers are not kept between calls. */
    private static final int MAX_CACHED_BYTES = 16 << 20;

    /**
     * A thread's direct input and output buffers, reused by its next image. A resize never
     * waits inside, so a fork-join worker cannot start a second one on the same thread meanwhile.
     */
    private static final ThreadLocal<ByteBuffer[]> SCRATCH = ThreadLocal.withInitial(() -> new ByteBuffer[2]);

    private static ByteBuffer scratch(int slot, int bytes) {
        ByteBuffer[] buffers = SCRATCH.get();
        ByteBuffer b = buffers[slot];
        if (b == null || b.capacity() < bytes) {
            b = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16));
            buffers[slot] = bytes <= MAX_CACHED_BYTES ? b : null;
        }
        return b;
    }

    /**
     * Resizes each of {@code count} images as {@link ImageKernels#resizeWithPad} does, with
     * OpenCV's interpolation instead of Pillow's filter.
     */
    static void resizeWithPad(NdArray images, int count, int channels, ResizeGeometry g, byte[] out,
                              ApproximateFilter filter) {
        int inBytes = Math.multiplyExact(Math.multiplyExact(g.inHeight(), g.inWidth()), channels);
        int frameBytes = Math.multiplyExact(Math.multiplyExact(g.outHeight(), g.outWidth()), channels);
        if ((long) inBytes * count != images.nbytes() || (long) frameBytes * count != out.length) {
            throw new IllegalArgumentException(count + " images of " + g + " do not match an input of "
                    + images.nbytes() + " bytes and an output of " + out.length + " bytes");
        }
        boolean alpha = channels == 2 || channels == 4;
        byte[] heap = alpha ? images.toByteArray() : null; // premultiplied from a copy
        ByteBuffer data = images.data();
        int interpolation = filter == ApproximateFilter.AREA ? opencv_imgproc.INTER_AREA : opencv_imgproc.INTER_LINEAR;
        ImageTools.forEachImage(count, (long) inBytes * count, i -> {
            ByteBuffer in = scratch(0, inBytes);
            if (alpha) {
                in.put(0, JavaImageKernels.premultiplied(heap, i * inBytes, inBytes / channels, channels), 0, inBytes);
            } else {
                in.put(0, data, i * inBytes, inBytes);
            }
            resizeOne(in, channels, g, out, i * frameBytes, interpolation);
        });
    }

    private static void resizeOne(ByteBuffer in, int c, ResizeGeometry g, byte[] out, int outOffset, int interpolation) {
        int h = g.inHeight();
        int w = g.inWidth();
        int rh = g.resizedHeight();
        int rw = g.resizedWidth();
        ByteBuffer resized = scratch(1, rh * rw * c);
        try (BytePointer inPtr = new BytePointer(in);
             BytePointer outPtr = new BytePointer(resized);
             Mat srcMat = new Mat(h, w, opencv_core.CV_8UC(c), inPtr, (long) w * c);
             Mat dstMat = new Mat(rh, rw, opencv_core.CV_8UC(c), outPtr, (long) rw * c);
             Size size = new Size(rw, rh)) {
            opencv_imgproc.resize(srcMat, dstMat, size, 0, 0, interpolation);
            if (dstMat.data().address() != outPtr.address()) {
                // cv::resize reallocates only when the destination's size or type differ; they do not.
                throw new IllegalStateException("cv::resize did not write into the destination given");
            }
        }
        int stride = g.outWidth() * c;
        int pasteOffset = outOffset + g.top() * stride + g.left() * c;
        for (int y = 0; y < rh; y++) {
            resized.get(y * rw * c, out, pasteOffset + y * stride, rw * c);
        }
        if (c == 2 || c == 4) {
            JavaImageKernels.unpremultiply(out, pasteOffset, stride, rh, rw, c);
        }
    }
}
