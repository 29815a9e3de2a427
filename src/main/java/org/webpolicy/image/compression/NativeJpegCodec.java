package org.webpolicy.image.compression;

import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.webpolicy.internal.nativelib.JpegNative;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * JPEG through libjpeg-turbo in our native library, with the same methods as {@link ImageIoCodec}
 * and chosen over it for JPEG whenever the native library loads (per {@code webpolicy.native}) and
 * was built with libjpeg-turbo; PNG stays with the JDK. The bytes on the wire are of the same
 * kind (baseline JFIF, 4:2:0, the same quality tables), so either side may use either codec.
 * Decoded pixels may differ from the JDK decoder's by a level or two (libjpeg-turbo's SIMD
 * colour conversion and upsampling round differently from the JDK's libjpeg 6b). Thread-safe.
 */
final class NativeJpegCodec {

    /** Tells whether the library was built with libjpeg-turbo; asked once, after it loaded. */
    private static final class Built {
        static final boolean WITH_JPEG = JpegNative.available();
    }

    private NativeJpegCodec() {
    }

    /**
     * Whether JPEG goes through libjpeg-turbo now: {@code webpolicy.native} allows it, the library
     * loaded, and it carries the codec.
     *
     * @return true for the native codec, false for {@code javax.imageio}
     */
    static boolean active() {
        return NativeLibrary.useNative() && Built.WITH_JPEG;
    }

    /**
     * Which JPEG codec runs now, for logs and benchmarks.
     *
     * @return {@code "libjpeg-turbo"} or {@code "javax.imageio"}
     */
    static String describe() {
        return active() ? "libjpeg-turbo" : "javax.imageio";
    }

    /**
     * Encodes one {@code h x w x c} image (HWC bytes from the buffer's position, read in place;
     * channel 0 is stored as red), c = 1 or 3.
     *
     * @throws IllegalArgumentException for a channel count JPEG cannot hold here
     */
    static byte[] encode(ByteBuffer hwc, int h, int w, int c, ImageCodec codec) {
        if (codec.kind() != ImageCodec.Kind.JPEG) {
            throw new IllegalArgumentException("the native codec writes JPEG only, not " + codec);
        }
        if (c != 1 && c != 3) {
            throw new IllegalArgumentException("cannot encode images of " + c + " channels as JPEG");
        }
        return JpegNative.encode(hwc, h, w, c, codec.quality());
    }

    /**
     * Decodes a JPEG whose header and structure were already checked to be {@code h x w x c}
     * straight into the returned HWC array, a band of {@value JpegNative#BAND_ROWS} rows at a
     * time; the memory held beside the result is the decoder's row buffers, within
     * {@link ImageDecodePlan#workingBytes}. Any decoder warning refuses the image.
     *
     * @param stop asked before every band; when it answers true the decode stops and
     *     {@link CancellationException} is thrown
     * @throws IllegalArgumentException when the data does not decode, or decodes to other sizes
     * @throws CancellationException when {@code stop} asked for it
     */
    static byte[] decode(byte[] data, int h, int w, int c, BooleanSupplier stop) {
        return JpegNative.decode(data, h, w, c, stop);
    }
}
