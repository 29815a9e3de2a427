package org.webpolicy.internal.nativelib;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Raw;

/**
 * The JavaCPP binding of {@code wp_mask_u8} ({@code native/src/masking.cpp}): RFC 6455 masking
 * while copying, with AVX2 or NEON where the CPU has them. Part of the same library as
 * {@link ImageNative}; call it only after {@link NativeLibrary#isLoaded()} returned true. The
 * transport's {@code FrameMasking} decides when to use it.
 *
 * <p>Heap arrays are pinned for the call ({@code @CriticalRegion}: no copy, and a garbage
 * collection waits for the few microseconds the kernel runs); direct buffers are passed by
 * address. As in {@link ImageNative}, the C++ code checks every offset and length against the
 * arrays' and buffers' own sizes, so a wrong call ends in an exception, never in a crash.
 * Direct buffers are used from their position to their limit, and their positions are not
 * moved. Thread-safe.
 */
@Platform(value = {"linux-x86_64", "linux-arm64"}, compiler = "cpp17", include = {"webpolicy_native.h", "buffer_jni.h"},
        library = "jniwebpolicy")
public final class MaskingNative {

    private static final int OK = 0;
    private static final int EINVAL = -1;
    private static final int EBOUNDS = -2;

    private MaskingNative() {
    }

    /**
     * Copies {@code n} bytes of {@code src} from {@code srcOffset} to {@code dst} at
     * {@code dstOffset}, byte {@code i} XOR-ed with byte {@code (payloadOffset + i) % 4} of
     * {@code key} (the key's first byte on the wire in bits 0-7; key 0 copies). The ranges may
     * overlap (in place included): the result is as if the source were read whole first.
     *
     * @param src the bytes to mask
     * @param srcOffset where they start in {@code src}
     * @param dst where the masked bytes go (may be {@code src})
     * @param dstOffset where they start in {@code dst}
     * @param n how many bytes
     * @param key the masking key, little-endian
     * @param payloadOffset where the first byte lies in the frame's payload, at least 0
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if an offset or {@code n} is negative or a range runs past
     *     its array
     */
    public static void mask(byte[] src, int srcOffset, byte[] dst, int dstOffset, int n, int key, long payloadOffset) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        int status = wp_mask_u8(src, src.length, srcOffset, dst, dst.length, dstOffset, n, key, payloadOffset);
        check(status, n, srcOffset, src.length, dstOffset, dst.length);
    }

    /**
     * {@link #mask(byte[], int, byte[], int, int, int, long)} from a direct buffer, from its
     * position.
     *
     * @param src the bytes to mask, from its position: a direct buffer (read-only is fine)
     * @param dst where the masked bytes go
     * @param dstOffset where they start in {@code dst}
     * @param n how many bytes
     * @param key the masking key, little-endian
     * @param payloadOffset where the first byte lies in the frame's payload, at least 0
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if {@code src} is not direct, an offset or {@code n} is
     *     negative, or a range runs past its buffer or array
     */
    public static void mask(ByteBuffer src, byte[] dst, int dstOffset, int n, int key, long payloadOffset) {
        int srcLength = direct(src, "src", false);
        Objects.requireNonNull(dst, "dst");
        int status = wp_mask_u8(src, srcLength, 0, dst, dst.length, dstOffset, n, key, payloadOffset);
        check(status, n, src.position(), src.limit(), dstOffset, dst.length);
    }

    /**
     * {@link #mask(byte[], int, byte[], int, int, int, long)} into a direct buffer, from its
     * position.
     *
     * @param src the bytes to mask
     * @param srcOffset where they start in {@code src}
     * @param dst where the masked bytes go, from its position: a writable direct buffer
     * @param n how many bytes
     * @param key the masking key, little-endian
     * @param payloadOffset where the first byte lies in the frame's payload, at least 0
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if {@code dst} is not direct or is read-only, an offset or
     *     {@code n} is negative, or a range runs past its array or buffer
     */
    public static void mask(byte[] src, int srcOffset, ByteBuffer dst, int n, int key, long payloadOffset) {
        Objects.requireNonNull(src, "src");
        int dstLength = direct(dst, "dst", true);
        int status = wp_mask_u8(src, src.length, srcOffset, dst, dstLength, 0, n, key, payloadOffset);
        check(status, n, srcOffset, src.length, dst.position(), dst.limit());
    }

    /**
     * {@link #mask(byte[], int, byte[], int, int, int, long)} between direct buffers, each from
     * its position; they may be views of the same memory.
     *
     * @param src the bytes to mask, from its position: a direct buffer (read-only is fine)
     * @param dst where the masked bytes go, from its position: a writable direct buffer
     * @param n how many bytes
     * @param key the masking key, little-endian
     * @param payloadOffset where the first byte lies in the frame's payload, at least 0
     * @throws NullPointerException if {@code src} or {@code dst} is null
     * @throws IllegalArgumentException if a buffer is not direct or {@code dst} is read-only,
     *     {@code n} is negative, or it runs past a buffer's limit
     */
    public static void mask(ByteBuffer src, ByteBuffer dst, int n, int key, long payloadOffset) {
        int srcLength = direct(src, "src", false);
        int dstLength = direct(dst, "dst", true);
        int status = wp_mask_u8(src, srcLength, 0, dst, dstLength, 0, n, key, payloadOffset);
        check(status, n, src.position(), src.limit(), dst.position(), dst.limit());
    }

    /**
     * The array behind a heap buffer, also when the buffer is read-only (where
     * {@link ByteBuffer#array()} refuses): for reading it in place. The caller must not write
     * into the array of a read-only buffer.
     *
     * @param heap a heap buffer
     * @return its array, or null for a direct buffer or when this JDK hides it from JNI too
     * @throws NullPointerException if {@code heap} is null
     */
    public static byte[] heapArray(ByteBuffer heap) {
        return wp_jni_heap_array(Objects.requireNonNull(heap, "heap"));
    }

    /**
     * Where index 0 of a heap buffer lies in {@link #heapArray(ByteBuffer)}: its
     * {@link ByteBuffer#arrayOffset()}, also when the buffer is read-only.
     *
     * @param heap a heap buffer
     * @return the offset, or -1 when this JDK hides it from JNI
     * @throws NullPointerException if {@code heap} is null
     */
    public static int heapArrayOffset(ByteBuffer heap) {
        return wp_jni_heap_array_offset(Objects.requireNonNull(heap, "heap"));
    }

    /** A direct buffer's remaining bytes, the length the C++ code checks against. */
    private static int direct(ByteBuffer b, String name, boolean writable) {
        Objects.requireNonNull(b, name);
        if (!b.isDirect()) {
            throw new IllegalArgumentException(name + " must be a direct ByteBuffer (passed by address)");
        }
        if (writable && b.isReadOnly()) {
            throw new IllegalArgumentException(name + " must be writable");
        }
        return b.remaining();
    }

    private static void check(int status, int n, long srcOffset, long srcLength, long dstOffset, long dstLength) {
        if (status == OK) {
            return;
        }
        String call = "Native masking of " + n + " bytes from offset " + srcOffset + " of " + srcLength + " to offset "
                + dstOffset + " of " + dstLength;
        throw switch (status) {
            case EINVAL -> new IllegalArgumentException(call + ": a count or offset is negative");
            case EBOUNDS -> new IllegalArgumentException(call + ": a range runs past its array or buffer");
            default -> new IllegalStateException(call + ": unknown status " + status);
        };
    }

    // The C functions. Private: only the methods above call them, with lengths that describe the
    // arrays and buffers passed. JavaCPP adds a buffer's position to its address.

    @CriticalRegion
    private static native int wp_mask_u8(@Cast("const uint8_t*") byte[] src, @Cast("int64_t") long srcLen,
                                         @Cast("int64_t") long srcOff, @Cast("uint8_t*") byte[] dst,
                                         @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff,
                                         @Cast("int64_t") long n, int key, @Cast("int64_t") long payloadOffset);

    @CriticalRegion
    private static native int wp_mask_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                         @Cast("int64_t") long srcOff, @Cast("uint8_t*") byte[] dst,
                                         @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff,
                                         @Cast("int64_t") long n, int key, @Cast("int64_t") long payloadOffset);

    @CriticalRegion
    private static native int wp_mask_u8(@Cast("const uint8_t*") byte[] src, @Cast("int64_t") long srcLen,
                                         @Cast("int64_t") long srcOff, @Cast("uint8_t*") ByteBuffer dst,
                                         @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff,
                                         @Cast("int64_t") long n, int key, @Cast("int64_t") long payloadOffset);

    private static native int wp_mask_u8(@Cast("const uint8_t*") ByteBuffer src, @Cast("int64_t") long srcLen,
                                         @Cast("int64_t") long srcOff, @Cast("uint8_t*") ByteBuffer dst,
                                         @Cast("int64_t") long dstLen, @Cast("int64_t") long dstOff,
                                         @Cast("int64_t") long n, int key, @Cast("int64_t") long payloadOffset);

    private static native @Raw byte[] wp_jni_heap_array(@Raw(withEnv = true) ByteBuffer heap);

    private static native int wp_jni_heap_array_offset(@Raw(withEnv = true) ByteBuffer heap);
}
