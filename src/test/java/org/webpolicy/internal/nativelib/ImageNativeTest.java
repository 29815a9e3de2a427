package org.webpolicy.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.function.Executable;

/**
 * Wrong calls through the Java binding end in exceptions naming the problem, never in a crash:
 * every length the C++ code checks comes from the buffers themselves, and every size, offset
 * and count is checked in C++ (not only in the image package's Java) before memory is touched.
 * Each test ends with a valid call, so the library is still working afterwards.
 */
@DisabledIfSystemProperty(named = "webpolicy.test.nativeSkipped", matches = "true", disabledReason = "Java-only build")
class ImageNativeTest {

    private static final int H = 10;
    private static final int W = 12;
    private static final int C = 3;
    private static final int OUT = 20;

    private ByteBuffer src;
    private ByteBuffer dst;

    @BeforeEach
    void buffers() {
        NativeLibrary.requireLoaded();
        src = ByteBuffer.allocateDirect(H * W * C);
        for (int i = 0; i < src.capacity(); i++) {
            src.put(i, (byte) (i * 7));
        }
        dst = ByteBuffer.allocateDirect(OUT * OUT * C);
    }

    /** A valid 10x12 -> 16x20 resize pasted at row 2 of a 20x20 frame. */
    private void resize(ByteBuffer s, long srcOff, int inH, int inW, int c, int rh, int rw, int top, int left,
                        int outH, int outW, ByteBuffer d, long dstOff) {
        ImageNative.resizeWithPad(s, srcOff, inH, inW, c, rh, rw, top, left, outH, outW, d, dstOff);
    }

    private void validResize() {
        resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0);
        assertEquals(0, dst.get(0), "padding");
        assertTrue(dst.get(2 * OUT * C) != 0 || dst.get(2 * OUT * C + 1) != 0, "pixels pasted at row 2");
    }

    private static void refused(String expected, Executable call) {
        String message = assertThrows(IllegalArgumentException.class, call).getMessage();
        assertTrue(message.contains(expected), message);
    }

    @Test
    void resizeRefusesBuffersTooSmallForTheSizesGiven() {
        refused("too small", () -> resize(src.slice(0, H * W * C - 1), 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("too small", () -> resize(src, 1, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("too small", () -> resize(src, -1, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("too small", () -> resize(src, Long.MAX_VALUE, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("too small", () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst.slice(0, 100), 0));
        refused("too small", () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 3));
        refused("too small", () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, Long.MIN_VALUE));
        // The image claims more rows than the buffer holds: the case that used to end the JVM.
        refused("too small", () -> resize(src, 0, 4000, 4000, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        // Only the remaining bytes count: a buffer advanced by one byte is one byte short.
        refused("too small", () -> resize(src.position(1), 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        src.position(0);
        validResize();
    }

    @Test
    void resizeRefusesSizesOutOfRange() {
        refused("out of range", () -> resize(src, 0, H, W, 5, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("out of range", () -> resize(src, 0, H, W, 0, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("out of range", () -> resize(src, 0, 0, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("out of range", () -> resize(src, 0, H, -W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("out of range", () -> resize(src, 0, H, W, C, 16, 20, 5, 0, OUT, OUT, dst, 0)); // below the frame
        refused("out of range", () -> resize(src, 0, H, W, C, 16, 20, 2, 1, OUT, OUT, dst, 0)); // right of it
        refused("out of range", () -> resize(src, 0, H, W, C, 16, 20, -1, 0, OUT, OUT, dst, 0));
        // Sizes whose byte count overflows 32 bits.
        refused("out of range", () -> resize(src, 0, 65536, 65536, 4, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("out of range", () -> resize(src, 0, H, W, C, 16, 20, 0, 0, Integer.MAX_VALUE, Integer.MAX_VALUE,
                dst, 0));
        validResize();
    }

    @Test
    void resizeRefusesNullHeapAndReadOnlyBuffers() {
        assertThrows(NullPointerException.class, () -> resize(null, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        assertThrows(NullPointerException.class, () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, null, 0));
        refused("direct", () -> resize(ByteBuffer.allocate(H * W * C), 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst, 0));
        refused("direct", () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, ByteBuffer.allocate(OUT * OUT * C), 0));
        refused("writable", () -> resize(src, 0, H, W, C, 16, 20, 2, 0, OUT, OUT, dst.asReadOnlyBuffer(), 0));
        validResize();
    }

    @Test
    void floatConversionRefusesWrongLengthsAndItemSizes() {
        ByteBuffer floats = ByteBuffer.allocateDirect(4 * 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 16; i++) {
            floats.putFloat(4 * i, i / 15f);
        }
        ByteBuffer bytes = ByteBuffer.allocateDirect(16);
        refused("too small", () -> ImageNative.floatsToUint8(floats, 4, 17, bytes));
        refused("too small", () -> ImageNative.floatsToUint8(floats, 4, 16, bytes.slice(0, 15)));
        refused("too small", () -> ImageNative.floatsToUint8(floats, 8, 9, bytes));
        refused("too small", () -> ImageNative.floatsToUint8(floats, 4, Long.MAX_VALUE, bytes));
        refused("out of range", () -> ImageNative.floatsToUint8(floats, 3, 4, bytes));
        refused("out of range", () -> ImageNative.floatsToUint8(floats, 4, -1, bytes));
        refused("direct", () -> ImageNative.floatsToUint8(ByteBuffer.allocate(64), 4, 16, bytes));
        assertThrows(NullPointerException.class, () -> ImageNative.floatsToUint8(floats, 4, 16, null));
        ImageNative.floatsToUint8(floats, 4, 16, bytes);
        for (int i = 0; i < 16; i++) {
            assertEquals((byte) (int) (255f * (i / 15f)), bytes.get(i), "element " + i);
        }
    }
}
