package org.webpolicy.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.function.Executable;

/**
 * The layout entry points and the resize into a heap array: wrong sizes, offsets and buffers end
 * in exceptions naming the call, never in a crash, and a valid call afterwards still works.
 */
@DisabledIfSystemProperty(named = "webpolicy.test.nativeSkipped", matches = "true", disabledReason = "Java-only build")
class ImageNativeLayoutTest {

    private ByteBuffer src;

    @BeforeEach
    void buffers() {
        NativeLibrary.requireLoaded();
        src = ByteBuffer.allocateDirect(4 * 5 * 3);
        for (int i = 0; i < src.capacity(); i++) {
            src.put(i, (byte) i);
        }
    }

    private static void refused(String part, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void layoutCallsCheckTheirArguments() {
        refused("too small", () -> ImageNative.hwcToChw(src, 1, 4, 5, 3, false, new byte[59]));
        refused("too small", () -> ImageNative.hwcToChw(src, 2, 4, 5, 3, false, new byte[120]));
        refused("out of range", () -> ImageNative.hwcToChw(src, 1, 4, 5, 5, false, new byte[100]));
        refused("out of range", () -> ImageNative.chwToHwc(src, -1, 4, 5, 3, false, new byte[60]));
        refused("out of range", () -> ImageNative.chwToHwc(src, 1, 6, 10, 1, true, new byte[60]));
        refused("out of range", () -> ImageNative.swapRedBlue(src, 30, 2, new byte[60]));
        refused("too small", () -> ImageNative.swapRedBlue(src, 21, 3, new byte[63]));
        refused("direct", () -> ImageNative.hwcToChw(ByteBuffer.allocate(60), 1, 4, 5, 3, false, new byte[60]));
        byte[] out = new byte[60];
        ImageNative.hwcToChw(src, 1, 4, 5, 3, true, out);
        assertEquals(2, out[0], "first red sample of the swapped image is the first blue one");
        byte[] back = new byte[60];
        ImageNative.chwToHwc(ByteBuffer.allocateDirect(60).put(out).flip(), 1, 4, 5, 3, true, back);
        byte[] original = new byte[60];
        src.get(0, original);
        assertArrayEquals(original, back);
    }

    @Test
    void resizeIntoAHeapArrayChecksOffsetsAgainstTheArray() {
        byte[] dst = new byte[8 * 8 * 3];
        refused("too small", () -> ImageNative.resizeWithPad(src, 0, 4, 5, 3, 4, 5, 0, 0, 8, 8, dst, 1));
        refused("too small", () -> ImageNative.resizeWithPad(src, 0, 4, 5, 3, 4, 5, 0, 0, 8, 8, dst, -1));
        refused("too small", () -> ImageNative.resizeWithPad(src, 0, 4, 5, 3, 4, 5, 0, 0, 8, 8, new byte[191], 0));
        refused("too small", () -> ImageNative.resizeWithPad(src, 1, 4, 5, 3, 4, 5, 0, 0, 8, 8, dst, 0));
        refused("out of range", () -> ImageNative.resizeWithPad(src, 0, 4, 5, 3, 4, 5, 5, 0, 8, 8, dst, 0));
        ImageNative.resizeWithPad(src, 0, 4, 5, 3, 4, 5, 0, 0, 8, 8, dst, 0);
        assertEquals(src.get(5), dst[5], "an unscaled paste copies the pixels");
        assertEquals(0, dst[8 * 3 * 7], "padding is zero");
    }
}
