package org.webpolicy.image;

/**
 * The work behind {@link ImageTools}, on one image at a time, in plain Java ({@link JavaImageKernels})
 * or in C++ ({@link NativeImageKernels}). Both give the same bytes; tests hold them to it.
 *
 * <p>Callers pass validated sizes; implementations still check array bounds before touching
 * memory. Implementations are stateless and thread-safe.
 */
interface ImageKernels {

    /** A short name for logs and benchmarks: {@code "java"} or {@code "native"}. */
    String name();

    /**
     * Resizes the {@code g.inHeight() x g.inWidth() x channels} uint8 image at {@code src[srcOffset..]}
     * with Pillow's BILINEAR filter and pastes it into the zero-filled {@code g.outHeight() x
     * g.outWidth() x channels} frame at {@code dst[dstOffset..]}.
     */
    void resizeWithPad(byte[] src, int srcOffset, int channels, ResizeGeometry g, byte[] dst, int dstOffset);

    /**
     * {@code (uint8) (255 * x)} for every float of {@code src} (a float16, float32 or float64
     * array), as numpy computes it on x86-64, into {@code dst} (one byte per element).
     */
    void floatsToUint8(org.webpolicy.array.NdArray src, byte[] dst);
}
