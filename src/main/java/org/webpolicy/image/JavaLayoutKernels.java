package org.webpolicy.image;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.webpolicy.array.NdArray;

/**
 * HWC/CHW and RGB/BGR in plain Java: the same bytes in the same places as the C++ code of
 * {@code native/src/layout.cpp}. One channel plane at a time, so the writes are sequential.
 * Stateless and thread-safe.
 */
final class JavaLayoutKernels {

    private JavaLayoutKernels() {
    }

    /** The source channel of output channel {@code ch}. */
    private static int sourceChannel(int ch, boolean swapRedBlue) {
        return swapRedBlue && (ch == 0 || ch == 2) ? 2 - ch : ch;
    }

    /** The bytes of {@code src}, copied: an array keeps its bytes read-only and does not expose them. */
    private static byte[] bytes(NdArray src) {
        return src.toByteArray();
    }

    private static int checkedBytes(NdArray src, long count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        Objects.requireNonNull(dst, "dst");
        if (c < 1 || c > 4 || (swapRedBlue && c != 3 && c != 4)) {
            throw new IllegalArgumentException("Cannot convert images of " + c + " channels"
                    + (swapRedBlue ? " with red and blue swapped" : ""));
        }
        long total = count * h * (long) w * c;
        if (count < 0 || h < 0 || w < 0 || total != src.nbytes() || total != dst.length) {
            throw new IllegalArgumentException(count + " images of " + h + "x" + w + "x" + c + " do not match "
                    + src.nbytes() + " input and " + dst.length + " output bytes");
        }
        return (int) total;
    }

    static void hwcToChw(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        checkedBytes(src, count, h, w, c, swapRedBlue, dst);
        byte[] in = bytes(src);
        int pixels = h * w;
        int image = pixels * c;
        for (int i = 0; i < count; i++) {
            int base = i * image;
            for (int ch = 0; ch < c; ch++) {
                int s = base + sourceChannel(ch, swapRedBlue);
                int d = base + ch * pixels;
                for (int p = 0; p < pixels; p++, s += c) {
                    dst[d + p] = in[s];
                }
            }
        }
    }

    static void chwToHwc(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        checkedBytes(src, count, h, w, c, swapRedBlue, dst);
        byte[] in = bytes(src);
        int pixels = h * w;
        int image = pixels * c;
        for (int i = 0; i < count; i++) {
            int base = i * image;
            for (int ch = 0; ch < c; ch++) {
                int s = base + sourceChannel(ch, swapRedBlue) * pixels;
                int d = base + ch;
                for (int p = 0; p < pixels; p++, d += c) {
                    dst[d] = in[s + p];
                }
            }
        }
    }

    static void swapRedBlue(NdArray src, long pixels, int c, byte[] dst) {
        checkedBytes(src, 1, 1, Math.toIntExact(pixels), c, true, dst);
        ByteBuffer in = src.data();
        int n = (int) pixels * c;
        for (int i = 0; i < n; i += c) {
            dst[i] = in.get(i + 2);
            dst[i + 1] = in.get(i + 1);
            dst[i + 2] = in.get(i);
            if (c == 4) {
                dst[i + 3] = in.get(i + 3);
            }
        }
    }
}
