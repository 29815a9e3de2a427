package org.webpolicy.image;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * Image layouts: channels-last (HWC, what cameras, OpenCV and {@link ImageTools#resizeWithPad}
 * use) and channels-first (CHW, what openpi's ALOHA observations carry), and the channel order
 * RGB or BGR (OpenCV's frames are BGR).
 *
 * <p>Every method takes uint8 arrays whose leading dimensions, if any, are a batch, returns a new
 * array (the input is never changed) and gives the same bytes in C++ (when the native library
 * loads, see {@link ImageTools}) and in Java. An array over direct memory (a camera frame) is read
 * in place by the native code; the result is written once. Channel counts are 1 to 4; the red/blue
 * exchange needs 3 (RGB/BGR) or 4 (RGBA/BGRA, alpha stays last).
 *
 * <p>All methods are static and thread-safe.
 */
public final class ImageLayout {

    private ImageLayout() {
    }

    /**
     * Channels-last to channels-first: {@code [..., h, w, c]} becomes {@code [..., c, h, w]}.
     *
     * @param images uint8 images {@code [..., h, w, c]}, c from 1 to 4
     * @return a new array {@code [..., c, h, w]}
     * @throws IllegalArgumentException for a rank below 3, a dtype other than uint8, or a last
     *     dimension outside 1..4 (naming the layout the shape seems to have)
     * @throws NullPointerException if {@code images} is null
     */
    public static NdArray hwcToChw(NdArray images) {
        return hwcToChw(images, false);
    }

    /**
     * Channels-last to channels-first, exchanging red and blue on the way when asked: a camera's
     * BGR {@code [h, w, 3]} frame becomes RGB {@code [3, h, w]} in one pass.
     *
     * @param images uint8 images {@code [..., h, w, c]}, c from 1 to 4 (3 or 4 with {@code swapRedBlue})
     * @param swapRedBlue also exchange channels 0 and 2 (BGR to RGB, or RGB to BGR)
     * @return a new array {@code [..., c, h, w]}
     * @throws IllegalArgumentException for a rank below 3, a dtype other than uint8, or a channel
     *     count the operation cannot take (naming the layout the shape seems to have)
     * @throws NullPointerException if {@code images} is null
     */
    public static NdArray hwcToChw(NdArray images, boolean swapRedBlue) {
        Dims d = Dims.of(images, false, swapRedBlue, "hwcToChw");
        long[] out = images.shape().toArray();
        int rank = out.length;
        out[rank - 3] = d.c;
        out[rank - 2] = d.h;
        out[rank - 1] = d.w;
        byte[] dst = new byte[images.nbytes()];
        ImageTools.kernels().hwcToChw(images, d.count, d.h, d.w, d.c, swapRedBlue, dst);
        return NdArray.wrap(DType.UINT8, Shape.of(out), ByteBuffer.wrap(dst));
    }

    /**
     * Channels-first to channels-last: {@code [..., c, h, w]} becomes {@code [..., h, w, c]}.
     *
     * @param images uint8 images {@code [..., c, h, w]}, c from 1 to 4
     * @return a new array {@code [..., h, w, c]}
     * @throws IllegalArgumentException for a rank below 3, a dtype other than uint8, or a third
     *     dimension from the end outside 1..4 (naming the layout the shape seems to have)
     * @throws NullPointerException if {@code images} is null
     */
    public static NdArray chwToHwc(NdArray images) {
        return chwToHwc(images, false);
    }

    /**
     * Channels-first to channels-last, exchanging red and blue on the way when asked.
     *
     * @param images uint8 images {@code [..., c, h, w]}, c from 1 to 4 (3 or 4 with {@code swapRedBlue})
     * @param swapRedBlue also exchange channels 0 and 2
     * @return a new array {@code [..., h, w, c]}
     * @throws IllegalArgumentException for a rank below 3, a dtype other than uint8, or a channel
     *     count the operation cannot take (naming the layout the shape seems to have)
     * @throws NullPointerException if {@code images} is null
     */
    public static NdArray chwToHwc(NdArray images, boolean swapRedBlue) {
        Dims d = Dims.of(images, true, swapRedBlue, "chwToHwc");
        long[] out = images.shape().toArray();
        int rank = out.length;
        out[rank - 3] = d.h;
        out[rank - 2] = d.w;
        out[rank - 1] = d.c;
        byte[] dst = new byte[images.nbytes()];
        ImageTools.kernels().chwToHwc(images, d.count, d.h, d.w, d.c, swapRedBlue, dst);
        return NdArray.wrap(DType.UINT8, Shape.of(out), ByteBuffer.wrap(dst));
    }

    /**
     * RGB to BGR or BGR to RGB (the same exchange of channels 0 and 2) on channels-last images;
     * RGBA and BGRA keep alpha last.
     *
     * @param images uint8 images {@code [..., h, w, c]} with c = 3 or 4
     * @return a new array of the same shape
     * @throws IllegalArgumentException for a rank below 3, a dtype other than uint8, or a last
     *     dimension other than 3 or 4 (naming the layout the shape seems to have)
     * @throws NullPointerException if {@code images} is null
     */
    public static NdArray swapRedBlue(NdArray images) {
        Dims d = Dims.of(images, false, true, "swapRedBlue");
        byte[] dst = new byte[images.nbytes()];
        ImageTools.kernels().swapRedBlue(images, (long) d.count * d.h * d.w, d.c, dst);
        return NdArray.wrap(DType.UINT8, images.shape(), ByteBuffer.wrap(dst));
    }

    /** The batch count, height, width and channels of validated images. */
    private record Dims(int count, int h, int w, int c) {

        static Dims of(NdArray images, boolean channelsFirst, boolean swapRedBlue, String op) {
            Objects.requireNonNull(images, "images");
            Shape s = images.shape();
            String layout = channelsFirst ? "[..., c, h, w]" : "[..., h, w, c]";
            if (s.rank() < 3) {
                throw new IllegalArgumentException(op + " takes images " + layout + ", got " + s
                        + (s.rank() == 2 ? " (a grayscale [h, w] has no channel axis to move)" : ""));
            }
            if (!images.dtype().equals(DType.UINT8)) {
                throw new IllegalArgumentException(op + " takes uint8 images, got " + images.dtype().name() + " of shape "
                        + s + " (convert floats with ImageTools.convertToUint8 first)");
            }
            long c = channelsFirst ? s.dim(-3) : s.dim(-1);
            long other = channelsFirst ? s.dim(-1) : s.dim(-3);
            int min = swapRedBlue ? 3 : 1;
            if (c < min || c > 4) {
                String seen = other >= 1 && other <= 4 && (c < 1 || c > 4)
                        ? ", which looks " + (channelsFirst ? "channels-last (HWC)" : "channels-first (CHW)")
                        + ": call " + (channelsFirst ? "hwcToChw" : "chwToHwc") + (op.equals("swapRedBlue")
                        ? " first" : " instead")
                        : "";
                throw new IllegalArgumentException(op + " takes images " + layout + " with " + (swapRedBlue
                        ? "3 or 4" : "1 to 4") + " channels, got " + s + seen);
            }
            long h = channelsFirst ? s.dim(-2) : s.dim(-3);
            long w = channelsFirst ? s.dim(-1) : s.dim(-2);
            long count = 1;
            for (int i = 0; i < s.rank() - 3; i++) {
                count *= s.dim(i);
            }
            if (h > Integer.MAX_VALUE || w > Integer.MAX_VALUE || count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": images of shape " + s + " are too large");
            }
            return new Dims((int) count, (int) h, (int) w, (int) c);
        }
    }
}
