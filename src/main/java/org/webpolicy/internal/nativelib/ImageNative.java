package org.webpolicy.internal.nativelib;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code native/include/webpolicy_native.h}: the C++ image kernels of
 * {@code native/src}, compiled by the JavaCPP Maven plugin into {@code libjniwebpolicy.so} for
 * linux-x86_64 and linux-arm64 and packed into the jar. The library needs only the C and C++
 * runtimes (no OpenCV).
 *
 * <p>Call the methods only after {@link NativeLibrary#isLoaded()} returned true; applications go
 * through {@code org.webpolicy.image.ImageTools}. Every method is safe with any argument: the
 * buffers' lengths are taken from the buffers themselves, never from the caller, and the C++ code
 * checks every size, offset and length against them before touching memory, so a wrong call
 * ends in an exception, never in a crash. Buffers must be direct: the C++ code reads and writes
 * their memory in place, without a copy. The region used is the buffer's remaining bytes
 * (position to limit) when the call starts, and must not be changed by another thread during
 * the call. Thread-safe.
 */
@Platform(value = {"linux-x86_64", "linux-arm64"}, compiler = "cpp17", include = "webpolicy_native.h",
        library = "jniwebpolicy")
public final class ImageNative {

    /** The native layer version this binding expects ({@code wp_native_version()}). */
    public static final int VERSION = 4;

    /** {@code wp_simd_level()}: the scalar kernels run. */
    public static final int SIMD_SCALAR = 0;
    /** {@code wp_simd_level()}: the NEON kernels run (aarch64). */
    public static final int SIMD_NEON = 1;
    /** {@code wp_simd_level()}: the AVX2 kernels run (x86-64). */
    public static final int SIMD_AVX2 = 2;

    private static final int OK = 0;
    private static final int EINVAL = -1;
    private static final int EBOUNDS = -2;
    private static final int ENOMEM = -3;

    private ImageNative() {
    }

    /**
     * The version of the loaded native layer.
     *
     * @return {@code wp_native_version()}, {@link #VERSION} when library and binding match
     */
    public static native int wp_native_version();

    /**
     * Which kernels run now.
     *
     * @return {@link #SIMD_AVX2} or {@link #SIMD_NEON} where the CPU has them and SIMD is
     *     enabled, {@link #SIMD_SCALAR} otherwise
     */
    public static native int wp_simd_level();

    /**
     * Enables or disables the SIMD kernels for the whole process (tests and benchmarks); both
     * give the same bytes.
     *
     * @param enabled 1 to use SIMD where the CPU has it, 0 for the scalar kernels
     */
    public static native void wp_set_simd_enabled(int enabled);

    /**
     * The name of a SIMD level, for logs.
     *
     * @param level a value of {@link #wp_simd_level()}
     * @return {@code "AVX2"}, {@code "NEON"} or {@code "scalar"}
     */
    public static String simdName(int level) {
        return switch (level) {
            case SIMD_AVX2 -> "AVX2";
            case SIMD_NEON -> "NEON";
            default -> "scalar";
        };
    }

    /**
     * Pillow-exact BILINEAR resize of one uint8 image pasted on zeros: reads {@code inH x inW x
     * channels} bytes at {@code srcOffset} of {@code src}, resizes them to {@code resizedH x
     * resizedW} and writes them at {@code (top, left)} of the {@code outH x outW x channels}
     * frame at {@code dstOffset} of {@code dst}, whose other bytes become 0. Offsets count from
     * each buffer's position.
     *
     * @param src the input image bytes: a direct buffer
     * @param srcOffset where the image starts in {@code src}'s remaining bytes
     * @param inH input height, at least 1
     * @param inW input width, at least 1
     * @param channels 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA); alpha is premultiplied as Pillow does
     * @param resizedH resized height, at least 1
     * @param resizedW resized width, at least 1
     * @param top first row of the pasted image in the frame
     * @param left first column of the pasted image in the frame
     * @param outH frame height, at least {@code top + resizedH}
     * @param outW frame width, at least {@code left + resizedW}
     * @param dst the frame: a writable direct buffer
     * @param dstOffset where the frame starts in {@code dst}'s remaining bytes
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if a buffer is not direct or {@code dst} is read-only, a
     *     size is out of range, or a buffer is too small for the sizes and offsets given
     * @throws IllegalStateException if the native code cannot allocate its scratch memory
     */
    public static void resizeWithPad(ByteBuffer src, long srcOffset, int inH, int inW, int channels,
                                     int resizedH, int resizedW, int top, int left, int outH, int outW,
                                     ByteBuffer dst, long dstOffset) {
        ByteBuffer in = region(src, "src", false);
        ByteBuffer out = region(dst, "dst", true);
        int status = wp_resize_with_pad_u8(in, in.capacity(), srcOffset, inH, inW, channels, resizedH, resizedW,
                top, left, outH, outW, out, out.capacity(), dstOffset);
        check(status, () -> "resize of " + inH + "x" + inW + "x" + channels + " at offset " + srcOffset + " of "
                + in.capacity() + " bytes to " + resizedH + "x" + resizedW + " at (" + top + ", " + left + ") of a "
                + outH + "x" + outW + " frame at offset " + dstOffset + " of " + out.capacity() + " bytes");
    }

    /**
     * {@link #resizeWithPad(ByteBuffer, long, int, int, int, int, int, int, int, int, int, ByteBuffer, long)}
     * into a heap array: the native code writes into {@code dst} itself (pinned for the call, no
     * copy), so a caller's own output array needs no direct buffer in between.
     *
     * @param src the input image bytes: a direct buffer
     * @param srcOffset where the image starts in {@code src}'s remaining bytes
     * @param inH input height, at least 1
     * @param inW input width, at least 1
     * @param channels 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA); alpha is premultiplied as Pillow does
     * @param resizedH resized height, at least 1
     * @param resizedW resized width, at least 1
     * @param top first row of the pasted image in the frame
     * @param left first column of the pasted image in the frame
     * @param outH frame height, at least {@code top + resizedH}
     * @param outW frame width, at least {@code left + resizedW}
     * @param dst the frame's array
     * @param dstOffset where the frame starts in {@code dst}
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException as the direct-buffer form
     * @throws IllegalStateException if the native code cannot allocate its scratch memory
     */
    public static void resizeWithPad(ByteBuffer src, long srcOffset, int inH, int inW, int channels,
                                     int resizedH, int resizedW, int top, int left, int outH, int outW,
                                     byte[] dst, long dstOffset) {
        ByteBuffer in = region(src, "src", false);
        Objects.requireNonNull(dst, "dst");
        int status = wp_resize_with_pad_u8(in, in.capacity(), srcOffset, inH, inW, channels, resizedH, resizedW,
                top, left, outH, outW, dst, dst.length, dstOffset);
        check(status, () -> "resize of " + inH + "x" + inW + "x" + channels + " at offset " + srcOffset + " of "
                + in.capacity() + " bytes to " + resizedH + "x" + resizedW + " at (" + top + ", " + left + ") of a "
                + outH + "x" + outW + " frame at offset " + dstOffset + " of a " + dst.length + "-byte array");
    }

    /**
     * Rewrites {@code count} uint8 images of {@code h x w x c}, one after the other, as
     * {@code c x h x w} (HWC to CHW), exchanging channels 0 and 2 on the way when
     * {@code swapRedBlue} (BGR to RGB).
     *
     * @param src the images, from its position: a direct buffer
     * @param count how many images
     * @param h image height
     * @param w image width
     * @param c channels, 1 to 4
     * @param swapRedBlue also exchange channels 0 and 2 (needs 3 or 4 channels)
     * @param dst the result, from index 0 (pinned for the call, written in place)
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if {@code src} is not direct, a buffer is too small or a
     *     size is out of range
     */
    public static void hwcToChw(ByteBuffer src, long count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        ByteBuffer in = region(src, "src", false);
        Objects.requireNonNull(dst, "dst");
        int status = wp_hwc_to_chw_u8(in, in.capacity(), count, h, w, c, swapRedBlue ? 1 : 0, dst, dst.length);
        check(status, () -> "HWC to CHW of " + count + " images of " + h + "x" + w + "x" + c + " from "
                + in.capacity() + " into " + dst.length + " bytes");
    }

    /**
     * Rewrites {@code count} uint8 images of {@code c x h x w}, one after the other, as
     * {@code h x w x c} (CHW to HWC), exchanging channels 0 and 2 on the way when
     * {@code swapRedBlue}.
     *
     * @param src the images, from its position: a direct buffer
     * @param count how many images
     * @param h image height
     * @param w image width
     * @param c channels, 1 to 4
     * @param swapRedBlue also exchange channels 0 and 2 (needs 3 or 4 channels)
     * @param dst the result, from index 0 (pinned for the call, written in place)
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if {@code src} is not direct, a buffer is too small or a
     *     size is out of range
     */
    public static void chwToHwc(ByteBuffer src, long count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        ByteBuffer in = region(src, "src", false);
        Objects.requireNonNull(dst, "dst");
        int status = wp_chw_to_hwc_u8(in, in.capacity(), count, h, w, c, swapRedBlue ? 1 : 0, dst, dst.length);
        check(status, () -> "CHW to HWC of " + count + " images of " + h + "x" + w + "x" + c + " from "
                + in.capacity() + " into " + dst.length + " bytes");
    }

    /**
     * Exchanges channels 0 and 2 of {@code pixels} interleaved pixels of {@code c} uint8 channels
     * (RGB to BGR and back, RGBA to BGRA).
     *
     * @param src the pixels, from its position: a direct buffer
     * @param pixels how many pixels
     * @param c channels, 3 or 4
     * @param dst the result, from index 0 (pinned for the call, written in place)
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if {@code src} is not direct, a buffer is too small or a
     *     size is out of range
     */
    public static void swapRedBlue(ByteBuffer src, long pixels, int c, byte[] dst) {
        ByteBuffer in = region(src, "src", false);
        Objects.requireNonNull(dst, "dst");
        int status = wp_swap_rb_u8(in, in.capacity(), pixels, c, dst, dst.length);
        check(status, () -> "red/blue swap of " + pixels + " pixels of " + c + " channels from " + in.capacity()
                + " into " + dst.length + " bytes");
    }

    /**
     * numpy's {@code (255 * x).astype(uint8)} on x86-64 for {@code count} little-endian floats
     * of {@code itemSize} bytes: the product in the input's precision, truncated; NaN or outside
     * int32 gives 0, anything else keeps its low byte.
     *
     * @param src the floats, from its position: a direct buffer
     * @param itemSize 2 (float16), 4 (float32) or 8 (float64)
     * @param count how many floats to convert
     * @param dst one byte per float, from its position: a writable direct buffer
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if a buffer is not direct or {@code dst} is read-only,
     *     {@code itemSize} is not 2, 4 or 8, {@code count} is negative, or a buffer is too small
     */
    public static void floatsToUint8(ByteBuffer src, int itemSize, long count, ByteBuffer dst) {
        ByteBuffer in = region(src, "src", false);
        ByteBuffer out = region(dst, "dst", true);
        int status = wp_float_to_u8(in, in.capacity(), itemSize, count, out, out.capacity());
        check(status, () -> "conversion of " + count + " floats of " + itemSize + " bytes from " + in.capacity()
                + " bytes into " + out.capacity() + " bytes");
    }

    /**
     * The remaining bytes of a caller's buffer as a buffer of this call only: position 0 and
     * capacity fixed, so the length the C++ code checks against is the memory it may touch.
     */
    private static ByteBuffer region(ByteBuffer b, String name, boolean writable) {
        Objects.requireNonNull(b, name);
        if (!b.isDirect()) {
            throw new IllegalArgumentException(name + " must be a direct ByteBuffer (the native code works in place)");
        }
        if (writable && b.isReadOnly()) {
            throw new IllegalArgumentException(name + " must be writable");
        }
        return b.slice();
    }

    private static void check(int status, java.util.function.Supplier<String> call) {
        switch (status) {
            case OK -> {
            }
            case EINVAL -> throw new IllegalArgumentException("Native " + call.get() + ": a size or parameter is out of range");
            case EBOUNDS -> throw new IllegalArgumentException("Native " + call.get() + ": a buffer is too small");
            case ENOMEM -> throw new IllegalStateException("Native " + call.get() + ": out of memory");
            default -> throw new IllegalStateException("Native " + call.get() + ": unknown status " + status);
        }
    }

    // The C functions. Private: only the methods above call them, with lengths that describe
    // the buffers passed.

    private static native int wp_resize_with_pad_u8(
            @Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff,
            int inH, int inW, int channels, int resizedH, int resizedW, int top, int left, int outH, int outW,
            @Cast("uint8_t*") ByteBuffer dst, @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff);

    @CriticalRegion
    private static native int wp_resize_with_pad_u8(
            @Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff,
            int inH, int inW, int channels, int resizedH, int resizedW, int top, int left, int outH, int outW,
            @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff);

    @CriticalRegion
    private static native int wp_hwc_to_chw_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                               @Cast("int64_t") long count, int h, int w, int c, int swapRb,
                                               @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    @CriticalRegion
    private static native int wp_chw_to_hwc_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                               @Cast("int64_t") long count, int h, int w, int c, int swapRb,
                                               @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    @CriticalRegion
    private static native int wp_swap_rb_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                            @Cast("int64_t") long pixels, int c,
                                            @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    private static native int wp_float_to_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                             int itemSize, @Cast("int64_t") long count,
                                             @Cast("uint8_t*") ByteBuffer dst, @Cast("int64_t") long dstLen);
}
