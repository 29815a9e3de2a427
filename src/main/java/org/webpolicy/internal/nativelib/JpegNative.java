package org.webpolicy.internal.nativelib;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of the JPEG functions of {@code native/include/webpolicy_native.h}:
 * libjpeg-turbo, linked statically into {@code libjniwebpolicy.so} when the build found it
 * (scripts/jpeg_setup installs it). A library built without it answers false to
 * {@link #available()}, and the JDK codec runs.
 *
 * <p>Call only after {@link NativeLibrary#isLoaded()} returned true; applications go through
 * {@code org.webpolicy.image.compression.ImageCompression}. Arrays are pinned for one call (the
 * native code reads and writes them in place: no copy), and a decode pins them for one band of
 * {@value #BAND_ROWS} rows at a time, so the garbage collector is held off for a band, not an
 * image. Thread-safe: every call has its own decoder.
 */
@Platform(value = {"linux-x86_64", "linux-arm64"}, compiler = "cpp17", include = "webpolicy_native.h",
        library = "jniwebpolicy")
public final class JpegNative {

    /** Rows decoded per native call: the stop request is asked between bands. */
    public static final int BAND_ROWS = 64;

    private static final int OK = 0;
    private static final int EINVAL = -1;
    private static final int EBOUNDS = -2;
    private static final int ENOMEM = -3;
    private static final int EJPEG = -4;
    private static final int ENOJPEG = -5;

    /** The most scratch a thread keeps between encodes: a few camera frames' worth. */
    private static final int SCRATCH_KEPT = 4 << 20;
    /** Each thread's encode output, used again: the JPEG is then copied out at its length. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);

    private JpegNative() {
    }

    /**
     * Whether the loaded library has the JPEG codec.
     *
     * @return true when it was built with libjpeg-turbo
     */
    public static boolean available() {
        return wp_jpeg_available() == 1;
    }

    /**
     * Encodes one {@code h x w x c} image as baseline JPEG: JFIF, 4:2:0 for RGB, the IJG tables
     * at {@code quality}, as {@code javax.imageio} writes it.
     *
     * @param hwc the pixels, HWC, channel 0 red (or grey)
     * @param h rows, at least 1
     * @param w columns, at least 1
     * @param c 1 (grey) or 3 (RGB)
     * @param quality 1 to 100
     * @return the JPEG bytes
     * @throws NullPointerException if {@code hwc} is null
     * @throws IllegalArgumentException for sizes, channels or a quality out of range, or too few pixels
     * @throws IllegalStateException when the library has no JPEG codec or runs out of memory
     */
    public static byte[] encode(byte[] hwc, int h, int w, int c, int quality) {
        Objects.requireNonNull(hwc, "hwc");
        return encode(hwc, null, 0, hwc.length, h, w, c, quality);
    }

    /**
     * {@link #encode(byte[], int, int, int, int)} of the pixels from {@code hwc}'s position to its
     * limit, read where they are: a direct buffer by address, a heap buffer (read-only too) in its
     * array, so a camera frame or a decoded message's array is not copied first.
     *
     * @param hwc the pixels, HWC, channel 0 red (or grey), from the position; not changed
     * @param h rows, at least 1
     * @param w columns, at least 1
     * @param c 1 (grey) or 3 (RGB)
     * @param quality 1 to 100
     * @return the JPEG bytes
     * @throws NullPointerException if {@code hwc} is null
     * @throws IllegalArgumentException for sizes, channels or a quality out of range, or too few pixels
     * @throws IllegalStateException when the library has no JPEG codec or runs out of memory
     */
    public static byte[] encode(ByteBuffer hwc, int h, int w, int c, int quality) {
        Objects.requireNonNull(hwc, "hwc");
        ByteBuffer region = hwc.slice();
        if (region.isDirect()) {
            return encode(null, region, 0, region.capacity(), h, w, c, quality);
        }
        byte[] array = MaskingNative.heapArray(region);
        int offset = array == null ? -1 : MaskingNative.heapArrayOffset(region);
        if (array == null || offset < 0) {
            // A JDK that hides a read-only buffer's array even from JNI: one copy.
            byte[] copy = new byte[region.remaining()];
            region.get(copy);
            return encode(copy, null, 0, copy.length, h, w, c, quality);
        }
        return encode(array, null, offset, offset + region.capacity(), h, w, c, quality);
    }

    /** Pixels at {@code [offset, end)} of {@code array}, or of {@code direct} (from 0) when array is null. */
    private static byte[] encode(byte[] array, ByteBuffer direct, int offset, int end, int h, int w, int c, int quality) {
        long raw = (long) h * w * c;
        if (h < 1 || w < 1 || end - offset < raw) {
            throw new IllegalArgumentException("JPEG encode of " + h + "x" + w + "x" + c + " needs " + raw
                    + " bytes of pixels, got " + (end - offset));
        }
        // Quality 90 on camera content takes about a tenth of the raw size, noise at quality 100
        // more than all of it: start where almost everything fits, grow when told it did not.
        long most = Math.min(2 * raw + 65536, Integer.MAX_VALUE - 8);
        long capacity = Math.min(most, Math.max(4096, raw / 2 + 1024));
        byte[] scratch = SCRATCH.get();
        while (true) {
            byte[] out = scratch.length >= capacity ? scratch : new byte[(int) capacity];
            long n = array != null
                    ? wp_jpeg_encode_u8(array, end, offset, h, w, c, quality, out, out.length)
                    : wp_jpeg_encode_u8(direct, end, offset, h, w, c, quality, out, out.length);
            if (n >= 0) {
                if (out != scratch && out.length <= SCRATCH_KEPT) {
                    SCRATCH.set(out);
                }
                return Arrays.copyOf(out, (int) n);
            }
            if (n == EBOUNDS && out.length < most) {
                capacity = Math.min(most, 2L * out.length);
                continue;
            }
            throw failure((int) n, "JPEG encode of " + h + "x" + w + "x" + c + " at quality " + quality + " from "
                    + (end - offset) + " bytes", null);
        }
    }

    /**
     * Decodes a JPEG of exactly {@code h x w x c} into a new HWC array, a band of rows at a time.
     * The caller has checked the data's structure (sequential Huffman, ending with its end marker);
     * the decoder checks the header's sizes and frame type again.
     *
     * @param data the JPEG bytes; must not change during the call
     * @param h rows the header must say
     * @param w columns the header must say
     * @param c 1 or 3: components the header must say, and channels of the result
     * @param stop asked before every band; true ends the decode
     * @return the pixels, {@code h * w * c} bytes
     * @throws IllegalArgumentException naming the decoder's reason when the data does not decode,
     *     is corrupt or cut short (any decoder warning), or has other sizes
     * @throws CancellationException when {@code stop} answered true
     * @throws IllegalStateException when the library has no JPEG codec or runs out of memory
     */
    public static byte[] decode(byte[] data, int h, int w, int c, BooleanSupplier stop) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(stop, "stop");
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(h, w), c)];
        long decoder = wp_jpeg_decoder_new();
        if (decoder == 0) {
            throw new IllegalStateException(available() ? "Native JPEG decoder: out of memory"
                    : "Native JPEG decoder: this library was built without libjpeg-turbo");
        }
        try {
            int status = wp_jpeg_decoder_start(decoder, data, data.length, h, w, c);
            while (status >= 0 && status < h) {
                if (stop.getAsBoolean()) {
                    throw new CancellationException("decoding stopped");
                }
                status = wp_jpeg_decoder_read(decoder, data, data.length, BAND_ROWS, out, out.length);
            }
            if (status < 0) {
                throw failure(status, "JPEG decode of " + data.length + " bytes as " + h + "x" + w + "x" + c,
                        message(decoder));
            }
            return out;
        } finally {
            wp_jpeg_decoder_free(decoder);
        }
    }

    private static String message(long decoder) {
        byte[] buf = new byte[256];
        int n = wp_jpeg_decoder_message(decoder, buf, buf.length);
        return n <= 0 ? "" : new String(buf, 0, Math.min(n, buf.length - 1), StandardCharsets.US_ASCII);
    }

    private static RuntimeException failure(int status, String call, String reason) {
        return switch (status) {
            case EJPEG -> new IllegalArgumentException("jpeg data is corrupt or truncated: " + reason);
            case EINVAL -> new IllegalArgumentException("Native " + call + ": a size or parameter is out of range");
            case EBOUNDS -> new IllegalArgumentException("Native " + call + ": a buffer is too small");
            case ENOMEM -> new IllegalStateException("Native " + call + ": out of memory");
            case ENOJPEG -> new IllegalStateException("Native " + call + ": this library was built without libjpeg-turbo");
            default -> new IllegalStateException("Native " + call + ": unknown status " + status);
        };
    }

    // The C functions. Private: only the methods above call them, with lengths that describe
    // the arrays passed, and a decoder handle they made and free.

    private static native int wp_jpeg_available();

    @CriticalRegion
    private static native @Cast("int64_t") long wp_jpeg_encode_u8(
            @Cast("const uint8_t*") byte[] src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff, int h, int w,
            int c, int quality, @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    @CriticalRegion
    private static native @Cast("int64_t") long wp_jpeg_encode_u8(
            @Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen, @Cast("int64_t") long srcOff, int h,
            int w, int c, int quality, @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    private static native @Cast("int64_t") long wp_jpeg_decoder_new();

    @CriticalRegion
    private static native int wp_jpeg_decoder_start(@Cast("int64_t") long decoder, @Cast("const uint8_t*") byte[] data,
                                                    @Cast("int64_t") long dataLen, int h, int w, int c);

    @CriticalRegion
    private static native int wp_jpeg_decoder_read(@Cast("int64_t") long decoder, @Cast("const uint8_t*") byte[] data,
                                                   @Cast("int64_t") long dataLen, int rows,
                                                   @Cast("uint8_t*") byte[] dst, @Cast("int64_t") long dstLen);

    private static native int wp_jpeg_decoder_message(@Cast("int64_t") long decoder, @Cast("char*") byte[] buf, int bufLen);

    private static native void wp_jpeg_decoder_free(@Cast("int64_t") long decoder);
}
