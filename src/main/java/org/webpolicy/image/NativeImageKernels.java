package org.webpolicy.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.webpolicy.array.NdArray;
import org.webpolicy.internal.nativelib.ImageNative;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * The image kernels in C++ ({@link ImageNative}): the same bytes as {@link JavaImageKernels},
 * several times faster (AVX2 or NEON where the CPU has it). Sizes are checked here, for clear
 * messages, and again by the binding and the C++ code, which refuse any call that would read or
 * write outside its buffers.
 *
 * <p>Memory: an array over direct memory (a camera frame, {@code NdArray.wrap} of a direct
 * buffer) is read in place; an array over a heap buffer is copied once into a direct buffer,
 * since an array does not expose its bytes. Results are written straight into the output array
 * or buffer (a heap array is pinned for the call), never through a copy. Each calling thread
 * keeps its input buffer (up to {@value #MAX_CACHED_BYTES} bytes) for its next call; a call made
 * while the thread's buffer is in use (a task stolen by a waiting fork-join worker) gets a fresh
 * one. The C++ code keeps each thread's filter coefficients for its recent geometries.
 *
 * <p>Use only once {@link NativeLibrary#isLoaded()} is true. Thread-safe.
 */
final class NativeImageKernels implements ImageKernels {

    static final NativeImageKernels INSTANCE = new NativeImageKernels();

    /** Larger direct buffers are not kept between calls. */
    static final int MAX_CACHED_BYTES = 64 << 20;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private NativeImageKernels() {
    }

    /** A thread's direct buffers for one call: input and output. */
    private static final class Scratch {
        private ByteBuffer in;
        private ByteBuffer out;
        private boolean busy;

        ByteBuffer in(long bytes) {
            in = grow(in, bytes);
            return in;
        }

        ByteBuffer out(long bytes) {
            out = grow(out, bytes);
            return out;
        }

        private static ByteBuffer grow(ByteBuffer b, long bytes) {
            if (b != null && b.capacity() >= bytes) {
                return b;
            }
            return ByteBuffer.allocateDirect((int) Math.max(bytes, 1 << 16));
        }

        void release() {
            busy = false;
            if (in != null && in.capacity() > MAX_CACHED_BYTES) {
                in = null;
            }
            if (out != null && out.capacity() > MAX_CACHED_BYTES) {
                out = null;
            }
        }
    }

    private static Scratch acquire() {
        Scratch s = SCRATCH.get();
        if (s.busy) {
            return new Scratch();
        }
        s.busy = true;
        return s;
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public void resizeWithPad(NdArray images, int count, int channels, ResizeGeometry g, ByteBuffer out) {
        if (channels < 1 || channels > 4) {
            throw new IllegalArgumentException("Images must have 1 to 4 channels, not " + channels);
        }
        if (g.inHeight() <= 0 || g.inWidth() <= 0 || g.resizedHeight() <= 0 || g.resizedWidth() <= 0) {
            throw new IllegalArgumentException("Empty image in " + g);
        }
        Objects.checkFromIndexSize(g.top(), g.resizedHeight(), g.outHeight());
        Objects.checkFromIndexSize(g.left(), g.resizedWidth(), g.outWidth());
        long inBytes = (long) g.inHeight() * g.inWidth() * channels;
        long frameBytes = (long) g.outHeight() * g.outWidth() * channels;
        if (count < 0 || inBytes * count != images.nbytes() || frameBytes * count != out.remaining()) {
            throw new IllegalArgumentException(count + " images of " + g + " do not match an input of "
                    + images.nbytes() + " bytes and an output of " + out.remaining() + " bytes");
        }
        if (out.isReadOnly()) {
            throw new IllegalArgumentException("The output buffer is read-only");
        }
        if (count == 0) {
            return;
        }
        ByteBuffer direct = images.data();
        Scratch scratch = direct.isDirect() ? null : acquire();
        try {
            // A direct array (a camera frame, a caller's direct buffer) is read in place; a heap
            // one is copied once, since an array does not expose its bytes for pinning.
            ByteBuffer src = direct.isDirect() ? direct : scratch.in(images.nbytes());
            if (scratch != null) {
                src.put(0, direct, 0, images.nbytes());
            }
            ImageTools.forEachImage(count, inBytes * count, i -> {
                long srcOff = i * inBytes;
                long dstOff = i * frameBytes;
                if (out.isDirect()) {
                    ImageNative.resizeWithPad(src, srcOff, g.inHeight(), g.inWidth(), channels, g.resizedHeight(),
                            g.resizedWidth(), g.top(), g.left(), g.outHeight(), g.outWidth(), out, dstOff);
                } else {
                    ImageNative.resizeWithPad(src, srcOff, g.inHeight(), g.inWidth(), channels, g.resizedHeight(),
                            g.resizedWidth(), g.top(), g.left(), g.outHeight(), g.outWidth(), out.array(),
                            out.arrayOffset() + out.position() + dstOff);
                }
            });
        } finally {
            if (scratch != null) {
                scratch.release();
            }
        }
    }

    /** {@code src}'s bytes as a direct buffer: its own when direct, else a copy in {@code scratch}. */
    private static ByteBuffer directInput(NdArray src, Scratch scratch) {
        ByteBuffer data = src.data();
        if (data.isDirect()) {
            return data;
        }
        ByteBuffer in = scratch.in(src.nbytes());
        in.put(0, data, 0, src.nbytes());
        return in.slice(0, src.nbytes());
    }

    @Override
    public void hwcToChw(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        Scratch scratch = acquire();
        try {
            ImageNative.hwcToChw(directInput(src, scratch), count, h, w, c, swapRedBlue, dst);
        } finally {
            scratch.release();
        }
    }

    @Override
    public void chwToHwc(NdArray src, int count, int h, int w, int c, boolean swapRedBlue, byte[] dst) {
        Scratch scratch = acquire();
        try {
            ImageNative.chwToHwc(directInput(src, scratch), count, h, w, c, swapRedBlue, dst);
        } finally {
            scratch.release();
        }
    }

    @Override
    public void swapRedBlue(NdArray src, long pixels, int c, byte[] dst) {
        Scratch scratch = acquire();
        try {
            ImageNative.swapRedBlue(directInput(src, scratch), pixels, c, dst);
        } finally {
            scratch.release();
        }
    }

    @Override
    public void floatsToUint8(NdArray src, byte[] dst) {
        int n = (int) src.size();
        Objects.checkFromIndexSize(0, n, dst.length);
        int item = src.dtype().itemSize();
        if (src.dtype().byteOrder() != ByteOrder.LITTLE_ENDIAN || (item != 2 && item != 4 && item != 8)
                || (long) n * item != src.nbytes()) {
            // The C++ code reads little-endian floats; big-endian arrays are rare enough for Java.
            JavaImageKernels.INSTANCE.floatsToUint8(src, dst);
            return;
        }
        Scratch scratch = acquire();
        try {
            ByteBuffer in = scratch.in(src.nbytes());
            ByteBuffer out = scratch.out(n);
            in.put(0, src.data(), 0, src.nbytes());
            ImageNative.floatsToUint8(in, item, n, out);
            out.get(0, dst, 0, n);
        } finally {
            scratch.release();
        }
    }
}
