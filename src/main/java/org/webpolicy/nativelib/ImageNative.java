package org.webpolicy.nativelib;

import java.nio.ByteBuffer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code native/include/webpolicy_native.h}: the C++ image kernels of
 * {@code native/src}, compiled by the JavaCPP Maven plugin into {@code libjniwebpolicy.so} and
 * packed into the jar.
 *
 * <p>Not for direct use: call the methods only after {@link NativeLibrary#isLoaded()} returned
 * true, and go through {@code org.webpolicy.image.ImageTools}, which checks every size and bound
 * in Java before calling (the C++ side checks them again and returns a status). Buffers must be
 * direct: the C++ code reads and writes their memory in place, without a copy (and without
 * holding up the garbage collector, as pinned heap arrays would). Thread-safe.
 */
@Platform(value = "linux-x86_64", compiler = "cpp17", include = "webpolicy_native.h",
        link = {":libopencv_imgproc.so.413", ":libopencv_core.so.413"}, library = "jniwebpolicy")
public final class ImageNative {

    /** The native layer version this binding expects ({@code wp_native_version()}). */
    public static final int VERSION = 1;

    public static final int OK = 0;
    public static final int OPENCV_LINEAR = 0;
    public static final int OPENCV_AREA = 1;

    private ImageNative() {
    }

    public static native int wp_native_version();

    public static native int wp_simd_level();

    public static native void wp_set_simd_enabled(int enabled);

    public static native int wp_resize_with_pad_u8(
            @Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff,
            int inH, int inW, int channels, int resizedH, int resizedW, int top, int left, int outH, int outW,
            @Cast("uint8_t*") ByteBuffer dst, @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff);

    public static native int wp_resize_with_pad_u8_opencv(
            @Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff,
            int inH, int inW, int channels, int resizedH, int resizedW, int top, int left, int outH, int outW,
            @Cast("uint8_t*") ByteBuffer dst, @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff,
            int interpolation);

    public static native int wp_float_to_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                            int itemSize, @Cast("int64_t") long count,
                                            @Cast("uint8_t*") ByteBuffer dst, @Cast("int64_t") long dstLen);
}
