package org.webpolicy.image;

import java.nio.ByteBuffer;
import org.webpolicy.array.NdArray;

/**
 * The work behind {@link ImageTools}, in plain Java ({@link JavaImageKernels}) or in C++
 * ({@link NativeImageKernels}). Both give the same bytes; tests hold them to it.
 *
 * <p>Callers pass validated shapes; implementations still check array bounds before touching
 * memory. Implementations are stateless (or keep per-thread scratch memory) and thread-safe.
 */
interface ImageKernels {

    /** A short name for logs and benchmarks: {@code "java"} or {@code "native"}. */
    String name();

    /**
     * Resizes each of the {@code count} uint8 images of {@code g.inHeight() x g.inWidth() x
     * channels} held, one after the other, by {@code images}, with Pillow's BILINEAR filter, and
     * pastes image {@code i} into frame {@code i} of {@code out} ({@code count} zero-filled frames
     * of {@code g.outHeight() x g.outWidth() x channels}), from {@code out}'s position to its
     * limit: exactly {@code count} frames. Every byte of the frames is written (padding as 0).
     */
    void resizeWithPad(NdArray images, int count, int channels, ResizeGeometry g, ByteBuffer out);

    /**
     * Rewrites the {@code count} uint8 images of {@code h x w x c} held by {@code src} as
     * {@code c x h x w} into {@code dst} (exactly as many bytes), exchanging channels 0 and 2
     * on the way when {@code swapRedBlue}.
     */
    void hwcToChw(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst);

    /** The reverse of {@link #hwcToChw}: {@code c x h x w} images become {@code h x w x c}. */
    void chwToHwc(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst);

    /** Exchanges channels 0 and 2 of the {@code pixels} pixels of {@code c} (3 or 4) channels of {@code src}. */
    void swapRedBlue(NdArray src, long pixels, int c, byte[] dst);

    /**
     * {@code (uint8) (255 * x)} for every float of {@code src} (a float16, float32 or float64
     * array), as numpy computes it on x86-64, into {@code dst} (one byte per element).
     */
    void floatsToUint8(NdArray src, byte[] dst);
}
