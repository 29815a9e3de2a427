package org.webpolicy.transport.frame;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.webpolicy.internal.nativelib.MaskingNative;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * RFC 6455 masking while copying, in one pass over the bytes: the client masks a message while
 * copying it into the frame, the server unmasks while copying it out of its read buffer. Used by
 * {@link FrameCodec} both ways.
 *
 * <p>Copies from {@link #NATIVE_MIN_BYTES} on run the native kernel ({@link MaskingNative}: AVX2
 * or NEON, 1.0-1.08 times a plain copy of the same bytes for 602 KB and 3.7 MB) when the native
 * library is loaded and {@code -Dwebpolicy.native} is not {@code off}; smaller ones, and every
 * copy without the library, run an eight-bytes-at-a-time Java loop (C2 does not vectorise
 * masking: 3 to 5.3 times a plain copy). The library
 * is loaded in the background on the first large copy, so that no frame waits for it; the Java
 * loop runs until it is there.
 *
 * <p>Sources may be heap (read-only too) or direct buffers, targets writable heap or direct
 * buffers. Source and target may share memory: the same bytes (in place, {@link #unmask}), or
 * any overlap of two views of one array; of two direct views, the target may start at or before
 * the source (the Java loop cannot see where direct memory lies). Thread-safe.
 */
public final class FrameMasking {

    /**
     * From this many bytes on, the native kernel runs: below it, the JNI call (pinning a heap
     * array, reading a direct buffer's address: 60-90 ns) costs about what the Java loop saves.
     * Measured with {@code MaskingBench} (medians, heap to heap): 256 bytes Java 40 ns, native
     * 61; 1 KB 90 and 70; 4 KB 301 and 110; from a read-only heap buffer 1 KB 150 and 90.
     */
    static final int NATIVE_MIN_BYTES = 1024;

    private static final VarHandle ARRAY_LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BUFFER_LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private FrameMasking() {
    }

    /**
     * Copies {@code n} bytes from {@code in} to {@code out}, each XOR-ed with byte
     * {@code (payloadOffset + i) % 4} of the little-endian mask key; key 0 is a plain copy. Both
     * positions advance by {@code n}.
     *
     * @throws IllegalArgumentException if {@code n} or {@code payloadOffset} is negative, or
     *     {@code n} exceeds the bytes remaining in {@code in} or {@code out}
     * @throws ReadOnlyBufferException if {@code out} is read-only
     */
    static void copy(ByteBuffer in, ByteBuffer out, int n, int key, int payloadOffset) {
        check(in, out, n, payloadOffset);
        if (key == 0) {
            out.put(out.position(), in, in.position(), n);
        } else if (n < NATIVE_MIN_BYTES || !NativeKernel.ready() || !copyNative(in, out, n, key, payloadOffset)) {
            copyJava(in, out, n, key, payloadOffset);
        }
        in.position(in.position() + n);
        out.position(out.position() + n);
    }

    /**
     * Masks or unmasks the {@code n} bytes from {@code buffer}'s position in place, as
     * {@link #copy} onto themselves, and advances its position by {@code n}.
     *
     * @throws IllegalArgumentException as {@link #copy}
     * @throws ReadOnlyBufferException if {@code buffer} is read-only
     */
    static void unmask(ByteBuffer buffer, int n, int key, int payloadOffset) {
        copy(buffer.duplicate(), buffer, n, key, payloadOffset);
    }

    private static void check(ByteBuffer in, ByteBuffer out, int n, int payloadOffset) {
        if (out.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (n < 0 || payloadOffset < 0) {
            throw new IllegalArgumentException("masking " + n + " bytes at payload offset " + payloadOffset
                    + ": both must be at least 0");
        }
        if (n > in.remaining() || n > out.remaining()) {
            throw new IllegalArgumentException("masking " + n + " bytes from a buffer with " + in.remaining()
                    + " remaining into one with " + out.remaining());
        }
    }

    /**
     * The native kernel on the buffers' own memory, none copied: arrays pinned, direct buffers by
     * address, a read-only heap buffer's array read in place. False when that array is out of
     * reach (the caller then runs the Java loop).
     */
    static boolean copyNative(ByteBuffer in, ByteBuffer out, int n, int key, int payloadOffset) {
        byte[] src = null;
        int s = 0;
        if (in.hasArray()) {
            src = in.array();
            s = in.arrayOffset() + in.position();
        } else if (!in.isDirect()) {
            src = MaskingNative.heapArray(in);
            int base = MaskingNative.heapArrayOffset(in);
            if (src == null || base < 0) {
                return false;
            }
            s = base + in.position();
        }
        if (out.hasArray()) {
            byte[] dst = out.array();
            int d = out.arrayOffset() + out.position();
            if (src != null) {
                MaskingNative.mask(src, s, dst, d, n, key, payloadOffset);
            } else {
                MaskingNative.mask(in, dst, d, n, key, payloadOffset);
            }
        } else if (src != null) {
            MaskingNative.mask(src, s, out, n, key, payloadOffset);
        } else {
            MaskingNative.mask(in, out, n, key, payloadOffset);
        }
        return true;
    }

    /**
     * The Java loop, eight bytes at a time, four words per step (unrolled it masks 600 KB in
     * 51 µs instead of 80 µs). Positions are not moved. Arrays are read through array views,
     * anything else through buffer views; two heap views of one array may overlap either way.
     */
    static void copyJava(ByteBuffer in, ByteBuffer out, int n, int key, int payloadOffset) {
        // Rotate the key so that its low byte applies to the first byte copied.
        int rotated = Integer.rotateRight(key, (payloadOffset & 3) * 8);
        if (in.hasArray() && out.hasArray()) {
            byte[] src = in.array();
            byte[] dst = out.array();
            int s = in.arrayOffset() + in.position();
            int d = out.arrayOffset() + out.position();
            if (src == dst && d > s && d - s < n) {
                backward(src, s, d, n, rotated);
            } else {
                forward(src, s, dst, d, n, rotated);
            }
        } else if (out.hasArray()) {
            forward(in, in.position(), out.array(), out.arrayOffset() + out.position(), n, rotated);
        } else {
            forward(in, in.position(), out, out.position(), n, rotated);
        }
    }

    private static long twice(int key) {
        return (key & 0xffffffffL) | ((long) key << 32);
    }

    private static byte maskByte(int rotated, int i) {
        return (byte) (rotated >>> ((i & 3) * 8));
    }

    /** Forward: correct for distinct arrays, in place, or {@code dst} before {@code src} in one array. */
    private static void forward(byte[] src, int s, byte[] dst, int d, int n, int rotated) {
        long mask = twice(rotated);
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            long a = (long) ARRAY_LONGS.get(src, s + i);
            long b = (long) ARRAY_LONGS.get(src, s + i + 8);
            long c = (long) ARRAY_LONGS.get(src, s + i + 16);
            long e = (long) ARRAY_LONGS.get(src, s + i + 24);
            ARRAY_LONGS.set(dst, d + i, a ^ mask);
            ARRAY_LONGS.set(dst, d + i + 8, b ^ mask);
            ARRAY_LONGS.set(dst, d + i + 16, c ^ mask);
            ARRAY_LONGS.set(dst, d + i + 24, e ^ mask);
        }
        for (; i + 8 <= n; i += 8) {
            ARRAY_LONGS.set(dst, d + i, (long) ARRAY_LONGS.get(src, s + i) ^ mask);
        }
        for (; i < n; i++) {
            dst[d + i] = (byte) (src[s + i] ^ maskByte(rotated, i));
        }
    }

    /** From the end, for {@code d} after {@code s} in one array with the ranges overlapping. */
    private static void backward(byte[] a, int s, int d, int n, int rotated) {
        // Words start at n - 8, n - 16, ...: all at a multiple of 4 from n, so one rotation fits all.
        long mask = twice(Integer.rotateRight(rotated, (n & 3) * 8));
        int i = n - 8;
        for (; i >= 0; i -= 8) {
            ARRAY_LONGS.set(a, d + i, (long) ARRAY_LONGS.get(a, s + i) ^ mask);
        }
        for (i += 7; i >= 0; i--) {
            a[d + i] = (byte) (a[s + i] ^ maskByte(rotated, i));
        }
    }

    /** Forward from a buffer view (a read-only heap or direct source) into an array. */
    private static void forward(ByteBuffer in, int s, byte[] dst, int d, int n, int rotated) {
        long mask = twice(rotated);
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            long a = (long) BUFFER_LONGS.get(in, s + i);
            long b = (long) BUFFER_LONGS.get(in, s + i + 8);
            long c = (long) BUFFER_LONGS.get(in, s + i + 16);
            long e = (long) BUFFER_LONGS.get(in, s + i + 24);
            ARRAY_LONGS.set(dst, d + i, a ^ mask);
            ARRAY_LONGS.set(dst, d + i + 8, b ^ mask);
            ARRAY_LONGS.set(dst, d + i + 16, c ^ mask);
            ARRAY_LONGS.set(dst, d + i + 24, e ^ mask);
        }
        for (; i + 8 <= n; i += 8) {
            ARRAY_LONGS.set(dst, d + i, (long) BUFFER_LONGS.get(in, s + i) ^ mask);
        }
        for (; i < n; i++) {
            dst[d + i] = (byte) (in.get(s + i) ^ maskByte(rotated, i));
        }
    }

    /** Forward through buffer views into a direct target. */
    private static void forward(ByteBuffer in, int s, ByteBuffer out, int d, int n, int rotated) {
        long mask = twice(rotated);
        int i = 0;
        for (; i + 32 <= n; i += 32) {
            long a = (long) BUFFER_LONGS.get(in, s + i);
            long b = (long) BUFFER_LONGS.get(in, s + i + 8);
            long c = (long) BUFFER_LONGS.get(in, s + i + 16);
            long e = (long) BUFFER_LONGS.get(in, s + i + 24);
            BUFFER_LONGS.set(out, d + i, a ^ mask);
            BUFFER_LONGS.set(out, d + i + 8, b ^ mask);
            BUFFER_LONGS.set(out, d + i + 16, c ^ mask);
            BUFFER_LONGS.set(out, d + i + 24, e ^ mask);
        }
        for (; i + 8 <= n; i += 8) {
            BUFFER_LONGS.set(out, d + i, (long) BUFFER_LONGS.get(in, s + i) ^ mask);
        }
        for (; i < n; i++) {
            out.put(d + i, (byte) (in.get(s + i) ^ maskByte(rotated, i)));
        }
    }

    /**
     * Whether the native kernel may run. The first large copy starts loading the library on a
     * thread of its own (extracting and loading it takes up to a second, which no frame should
     * wait for); until it is loaded, and for good when it cannot load or
     * {@code -Dwebpolicy.native=off}, masking runs in Java.
     */
    private static final class NativeKernel {
        private static volatile boolean loaded;

        static {
            if (wanted()) {
                Thread loader = new Thread(() -> loaded = NativeLibrary.isLoaded(), "webpolicy-native-load");
                loader.setDaemon(true);
                loader.start();
            }
        }

        private NativeKernel() {
        }

        static boolean ready() {
            return loaded;
        }

        private static boolean wanted() {
            try {
                return NativeLibrary.Mode.fromSystemProperty() != NativeLibrary.Mode.OFF;
            } catch (IllegalArgumentException e) {
                // A bad value: the image tools report it; the transport runs in Java meanwhile.
                return false;
            }
        }
    }
}
