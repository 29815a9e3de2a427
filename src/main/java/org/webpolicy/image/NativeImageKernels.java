package org.webpolicy.image;

import java.nio.ByteOrder;
import java.util.Objects;
import org.webpolicy.array.NdArray;
import org.webpolicy.nativelib.ImageNative;
import org.webpolicy.nativelib.NativeLibrary;

/**
 * The image kernels in C++ ({@link ImageNative}): the same bytes as {@link JavaImageKernels},
 * several times faster (AVX2 where the CPU has it). Every size and bound is checked here before
 * the call, so no argument can make the native code read or write outside the arrays.
 *
 * <p>Use only once {@link NativeLibrary#isLoaded()} is true. Stateless and thread-safe.
 */
final class NativeImageKernels implements ImageKernels {

    static final NativeImageKernels INSTANCE = new NativeImageKernels();

    private NativeImageKernels() {
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public void resizeWithPad(byte[] src, int srcOffset, int channels, ResizeGeometry g, byte[] dst, int dstOffset) {
        checkBounds(src, srcOffset, channels, g, dst, dstOffset);
        int status = ImageNative.wp_resize_with_pad_u8(src, src.length, srcOffset,
                g.inHeight(), g.inWidth(), channels, g.resizedHeight(), g.resizedWidth(), g.top(), g.left(),
                g.outHeight(), g.outWidth(), dst, dst.length, dstOffset);
        check(status, "resize");
    }

    /** The same geometry through OpenCV's {@code cv::resize}: close to Pillow, not equal. */
    void resizeWithPadOpenCv(byte[] src, int srcOffset, int channels, ResizeGeometry g, byte[] dst, int dstOffset,
                             ApproximateFilter filter) {
        checkBounds(src, srcOffset, channels, g, dst, dstOffset);
        int interpolation = filter == ApproximateFilter.AREA ? ImageNative.OPENCV_AREA : ImageNative.OPENCV_LINEAR;
        int status = ImageNative.wp_resize_with_pad_u8_opencv(src, src.length, srcOffset,
                g.inHeight(), g.inWidth(), channels, g.resizedHeight(), g.resizedWidth(), g.top(), g.left(),
                g.outHeight(), g.outWidth(), dst, dst.length, dstOffset, interpolation);
        check(status, "OpenCV resize");
    }

    @Override
    public void floatsToUint8(NdArray src, byte[] dst) {
        int n = (int) src.size();
        Objects.checkFromIndexSize(0, n, dst.length);
        if (src.dtype().byteOrder() != ByteOrder.LITTLE_ENDIAN) {
            // The C++ code reads little-endian floats; big-endian arrays are rare enough for Java.
            JavaImageKernels.INSTANCE.floatsToUint8(src, dst);
            return;
        }
        byte[] bytes = src.toByteArray();
        int status = ImageNative.wp_float_to_u8(bytes, bytes.length, src.dtype().itemSize(), n, dst, dst.length);
        check(status, "float to uint8 conversion");
    }

    private static void checkBounds(byte[] src, int srcOffset, int channels, ResizeGeometry g, byte[] dst,
                                    int dstOffset) {
        if (channels < 1 || channels > 4) {
            throw new IllegalArgumentException("Images must have 1 to 4 channels, not " + channels);
        }
        long inBytes = (long) g.inHeight() * g.inWidth() * channels;
        long outBytes = (long) g.outHeight() * g.outWidth() * channels;
        Objects.checkFromIndexSize(srcOffset, inBytes, src.length);
        Objects.checkFromIndexSize(dstOffset, outBytes, dst.length);
        Objects.checkFromIndexSize(g.top(), g.resizedHeight(), g.outHeight());
        Objects.checkFromIndexSize(g.left(), g.resizedWidth(), g.outWidth());
        if (g.inHeight() <= 0 || g.inWidth() <= 0 || g.resizedHeight() <= 0 || g.resizedWidth() <= 0) {
            throw new IllegalArgumentException("Empty image in " + g);
        }
    }

    private static void check(int status, String what) {
        if (status != ImageNative.OK) {
            String meaning = switch (status) {
                case -1 -> "invalid argument";
                case -2 -> "buffer too small";
                case -3 -> "out of memory";
                case -4 -> "OpenCV error";
                default -> "unknown status";
            };
            throw new IllegalStateException("Native " + what + " failed with status " + status + " (" + meaning + ")");
        }
    }
}
