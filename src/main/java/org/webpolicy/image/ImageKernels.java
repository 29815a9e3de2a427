package org.webpolicy.image;

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
     * of {@code g.outHeight() x g.outWidth() x channels}).
     */
    void resizeWithPad(NdArray images, int count, int channels, ResizeGeometry g, byte[] out);

    /**
     * {@code (uint8) (255 * x)} for every float of {@code src} (a float16, float32 or float64
     * array), as numpy computes it on x86-64, into {@code dst} (one byte per element).
     */
    void floatsToUint8(NdArray src, byte[] dst);
}
