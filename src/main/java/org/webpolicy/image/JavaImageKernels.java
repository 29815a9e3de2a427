package org.webpolicy.image;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.webpolicy.array.Half;
import org.webpolicy.array.NdArray;

/**
 * The image kernels in plain Java: always available, the reference the native code is tested
 * against, and what runs where the native library cannot load.
 *
 * <p>Pillow's BILINEAR resize, as its arithmetic is documented in PILLOW_RESIZE.md: per-axis
 * coefficients in double, turned into 22-bit fixed point; a horizontal pass into an 8-bit
 * intermediate, then a vertical pass. RGBA and LA go through premultiplied alpha. Stateless and
 * thread-safe.
 */
final class JavaImageKernels implements ImageKernels {

    static final JavaImageKernels INSTANCE = new JavaImageKernels();

    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final int HALF = 1 << (PRECISION_BITS - 1);

    private JavaImageKernels() {
    }

    @Override
    public String name() {
        return "java";
    }

    /** The filter window of each output sample along one axis, in 22-bit fixed point. */
    static final class Coefficients {
        /** Stride of {@link #weights}: the most taps any output sample can have. */
        final int ksize;
        /** First input index of each output sample. */
        final int[] first;
        /** Number of input samples of each output sample. */
        final int[] count;
        /** {@code weights[out * ksize + tap]}; zero past {@code count[out]}. */
        final int[] weights;

        Coefficients(int ksize, int[] first, int[] count, int[] weights) {
            this.ksize = ksize;
            this.first = first;
            this.count = count;
            this.weights = weights;
        }
    }

    /** Pillow's precompute_coeffs + fixed-point normalisation, for a whole axis (no box). */
    static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filterscale * 1.0;
        long ksizeLong = (long) Math.ceil(support) * 2 + 1;
        if (ksizeLong * outSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Resizing " + inSize + " to " + outSize + " samples needs too many coefficients");
        }
        int ksize = (int) ksizeLong;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * ksize];
        double[] k = new double[ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = triangle((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                if (ww != 0.0) {
                    k[x] /= ww;
                }
                double v = k[x] * (1 << PRECISION_BITS);
                // Round half away from zero by truncation, as the C cast does (Math.round differs).
                weights[xx * ksize + x] = (int) (k[x] < 0 ? -0.5 + v : 0.5 + v);
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(ksize, first, count, weights);
    }

    private static double triangle(double x) {
        if (x < 0.0) {
            x = -x;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static int clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    @Override
    public void resizeWithPad(NdArray images, int count, int channels, ResizeGeometry g, ByteBuffer out) {
        byte[] src = images.toByteArray();
        int inBytes = g.inHeight() * g.inWidth() * channels;
        int frameBytes = g.outHeight() * g.outWidth() * channels;
        if ((long) frameBytes * count != out.remaining()) {
            throw new IllegalArgumentException(count + " frames of " + g + " do not fill " + out.remaining() + " bytes");
        }
        boolean inPlace = out.hasArray() && !out.isReadOnly();
        byte[] dst = inPlace ? out.array() : new byte[out.remaining()];
        int base = inPlace ? out.arrayOffset() + out.position() : 0;
        if (inPlace) {
            java.util.Arrays.fill(dst, base, base + out.remaining(), (byte) 0);
        }
        ImageTools.forEachImage(count, (long) inBytes * count,
                i -> resizeOne(src, i * inBytes, channels, g, dst, base + i * frameBytes));
        if (!inPlace) {
            out.duplicate().put(dst);
        }
    }

    @Override
    public void hwcToChw(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        JavaLayoutKernels.hwcToChw(src, count, h, w, c, swapRedBlue, dst);
    }

    @Override
    public void chwToHwc(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        JavaLayoutKernels.chwToHwc(src, count, h, w, c, swapRedBlue, dst);
    }

    @Override
    public void swapRedBlue(NdArray src, long pixels, int c, byte[] dst) {
        JavaLayoutKernels.swapRedBlue(src, pixels, c, dst);
    }

    /** One image at {@code src[srcOffset..]} into the zero-filled frame at {@code dst[dstOffset..]}. */
    static void resizeOne(byte[] src, int srcOffset, int channels, ResizeGeometry g, byte[] dst, int dstOffset) {
        int h = g.inHeight();
        int w = g.inWidth();
        int c = channels;
        int inBytes = Math.multiplyExact(Math.multiplyExact(h, w), c);
        int outBytes = Math.multiplyExact(Math.multiplyExact(g.outHeight(), g.outWidth()), c);
        java.util.Objects.checkFromIndexSize(srcOffset, inBytes, src.length);
        java.util.Objects.checkFromIndexSize(dstOffset, outBytes, dst.length);

        boolean alpha = c == 2 || c == 4;
        byte[] in = src;
        int inOff = srcOffset;
        if (alpha) {
            in = premultiplied(src, srcOffset, h * w, c);
            inOff = 0;
        }
        int rh = g.resizedHeight();
        int rw = g.resizedWidth();
        int dstStride = g.outWidth() * c;
        int pasteOff = dstOffset + g.top() * dstStride + g.left() * c;
        resize(in, inOff, h, w, c, rh, rw, dst, pasteOff, dstStride);
        if (alpha) {
            unpremultiply(dst, pasteOff, dstStride, rh, rw, c);
        }
    }

    /**
     * Resizes {@code h x w x c} at {@code in[inOff..]} (rows contiguous) to {@code rh x rw x c}
     * written at {@code out[outOff..]} with rows {@code outStride} bytes apart.
     */
    static void resize(byte[] in, int inOff, int h, int w, int c, int rh, int rw,
                       byte[] out, int outOff, int outStride) {
        boolean horizontal = rw != w;
        boolean vertical = rh != h;
        int inStride = w * c;
        if (!horizontal && !vertical) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(in, inOff + y * inStride, out, outOff + y * outStride, inStride);
            }
            return;
        }
        Coefficients vc = vertical ? coefficients(h, rh) : null;
        if (!horizontal) {
            verticalPass(in, inOff, inStride, 0, rw * c, vc, rh, out, outOff, outStride);
            return;
        }
        Coefficients hc = coefficients(w, rw);
        if (!vertical) {
            horizontalPass(in, inOff, inStride, 0, h, c, hc, rw, out, outOff, outStride);
            return;
        }
        // Only the input rows the vertical pass reads go through the horizontal pass.
        int firstRow = vc.first[0];
        int lastRow = vc.first[rh - 1] + vc.count[rh - 1];
        int tmpStride = rw * c;
        byte[] tmp = new byte[(lastRow - firstRow) * tmpStride];
        horizontalPass(in, inOff, inStride, firstRow, lastRow - firstRow, c, hc, rw, tmp, 0, tmpStride);
        verticalPass(tmp, 0, tmpStride, firstRow, rw * c, vc, rh, out, outOff, outStride);
    }

    /** Rows {@code [firstRow, firstRow + rows)} of the input, each resized to {@code rw} pixels. */
    static void horizontalPass(byte[] in, int inOff, int inStride, int firstRow, int rows, int c,
                               Coefficients hc, int rw, byte[] out, int outOff, int outStride) {
        int ksize = hc.ksize;
        int[] first = hc.first;
        int[] count = hc.count;
        int[] k = hc.weights;
        for (int y = 0; y < rows; y++) {
            int row = inOff + (firstRow + y) * inStride;
            int o = outOff + y * outStride;
            if (c == 3) {
                for (int xx = 0; xx < rw; xx++) {
                    int p = row + first[xx] * 3;
                    int kb = xx * ksize;
                    int n = count[xx];
                    int a0 = HALF;
                    int a1 = HALF;
                    int a2 = HALF;
                    for (int x = 0; x < n; x++) {
                        int kx = k[kb + x];
                        a0 += (in[p] & 0xff) * kx;
                        a1 += (in[p + 1] & 0xff) * kx;
                        a2 += (in[p + 2] & 0xff) * kx;
                        p += 3;
                    }
                    out[o] = (byte) clip8(a0);
                    out[o + 1] = (byte) clip8(a1);
                    out[o + 2] = (byte) clip8(a2);
                    o += 3;
                }
            } else {
                for (int xx = 0; xx < rw; xx++) {
                    int base = row + first[xx] * c;
                    int kb = xx * ksize;
                    int n = count[xx];
                    for (int ch = 0; ch < c; ch++) {
                        int acc = HALF;
                        int p = base + ch;
                        for (int x = 0; x < n; x++) {
                            acc += (in[p] & 0xff) * k[kb + x];
                            p += c;
                        }
                        out[o++] = (byte) clip8(acc);
                    }
                }
            }
        }
    }

    /**
     * The vertical pass over an input whose row 0 is image row {@code rowShift} (the horizontal
     * pass kept only the rows needed), {@code rowBytes} bytes per row.
     */
    static void verticalPass(byte[] in, int inOff, int inStride, int rowShift, int rowBytes,
                             Coefficients vc, int rh, byte[] out, int outOff, int outStride) {
        int ksize = vc.ksize;
        int[] acc = new int[rowBytes];
        for (int yy = 0; yy < rh; yy++) {
            java.util.Arrays.fill(acc, HALF);
            int ymin = vc.first[yy] - rowShift;
            int n = vc.count[yy];
            int kb = yy * ksize;
            for (int y = 0; y < n; y++) {
                int kx = vc.weights[kb + y];
                int p = inOff + (ymin + y) * inStride;
                for (int i = 0; i < rowBytes; i++) {
                    acc[i] += (in[p + i] & 0xff) * kx;
                }
            }
            int o = outOff + yy * outStride;
            for (int i = 0; i < rowBytes; i++) {
                out[o + i] = (byte) clip8(acc[i]);
            }
        }
    }

    /** A copy of the pixels with colour multiplied by alpha (Pillow's RGBA to RGBa, LA to La). */
    static byte[] premultiplied(byte[] src, int off, int pixels, int c) {
        byte[] out = new byte[pixels * c];
        int a = c - 1;
        for (int i = 0; i < pixels; i++) {
            int p = off + i * c;
            int q = i * c;
            int alpha = src[p + a] & 0xff;
            for (int ch = 0; ch < a; ch++) {
                int t = (src[p + ch] & 0xff) * alpha + 128;
                out[q + ch] = (byte) (((t >> 8) + t) >> 8);
            }
            out[q + a] = (byte) alpha;
        }
        return out;
    }

    /** Back from premultiplied alpha, in place (Pillow's RGBa to RGBA, La to LA). */
    static void unpremultiply(byte[] img, int off, int stride, int rows, int cols, int c) {
        int a = c - 1;
        for (int y = 0; y < rows; y++) {
            int p = off + y * stride;
            for (int x = 0; x < cols; x++, p += c) {
                int alpha = img[p + a] & 0xff;
                if (alpha == 0 || alpha == 255) {
                    continue;
                }
                for (int ch = 0; ch < a; ch++) {
                    int v = (255 * (img[p + ch] & 0xff)) / alpha;
                    img[p + ch] = (byte) Math.min(v, 255);
                }
            }
        }
    }

    @Override
    public void floatsToUint8(NdArray src, byte[] dst) {
        int n = (int) src.size();
        java.util.Objects.checkFromIndexSize(0, n, dst.length);
        switch (src.dtype().itemSize()) {
            case 2 -> {
                ShortBuffer b = src.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    float product = Half.toFloat(Half.fromFloat(255f * Half.toFloat(b.get(i))));
                    dst[i] = castToUint8(product);
                }
            }
            case 4 -> {
                FloatBuffer b = src.asFloatBuffer();
                for (int i = 0; i < n; i++) {
                    dst[i] = castToUint8(255f * b.get(i));
                }
            }
            case 8 -> {
                DoubleBuffer b = src.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    dst[i] = castToUint8(255.0 * b.get(i));
                }
            }
            default -> throw new IllegalArgumentException("Not a float16/32/64 array: " + src.dtype());
        }
    }

    /**
     * The x86-64 float to uint8 cast numpy compiles to: truncate to int32 (NaN or out of range
     * gives the "integer indefinite" 0x80000000), keep the low byte.
     */
    static byte castToUint8(double v) {
        if (v > -2147483649.0 && v < 2147483648.0) {
            return (byte) (int) v;
        }
        return 0;
    }

}
