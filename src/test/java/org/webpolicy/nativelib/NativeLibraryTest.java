package org.webpolicy.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The native library must load on this machine (linux-x86_64, the build machine and CI): this
 * test fails, with the loader's reason, when it does not. It does not skip.
 */
class NativeLibraryTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(NativeLibrary.PROPERTY);
    }

    @Test
    void loadsOnThisMachine() {
        NativeLibrary.requireLoaded();
        assertTrue(NativeLibrary.isLoaded());
        assertTrue(NativeLibrary.failureReason().isEmpty());
        assertEquals(ImageNative.VERSION, ImageNative.wp_native_version());
        int simd = ImageNative.wp_simd_level();
        assertTrue(simd == 0 || simd == 2, "SIMD level " + simd);
    }

    @Test
    void propertySelectsTheImplementation() {
        System.setProperty(NativeLibrary.PROPERTY, "on");
        assertTrue(NativeLibrary.useNative());
        assertEquals("native", org.webpolicy.image.ImageTools.backendName());
        System.setProperty(NativeLibrary.PROPERTY, "off");
        assertFalse(NativeLibrary.useNative());
        assertEquals("java", org.webpolicy.image.ImageTools.backendName());
        System.setProperty(NativeLibrary.PROPERTY, "auto");
        assertTrue(NativeLibrary.useNative(), "auto uses the native code when it loads");
        System.clearProperty(NativeLibrary.PROPERTY);
        assertEquals(NativeLibrary.Mode.AUTO, NativeLibrary.Mode.fromSystemProperty());
        System.setProperty(NativeLibrary.PROPERTY, "sometimes");
        String message = assertThrows(IllegalArgumentException.class, NativeLibrary::useNative).getMessage();
        assertTrue(message.contains("auto, on or off") && message.contains("sometimes"), message);
    }

    @Test
    void nativeChecksItsOwnBoundsToo() {
        ByteBuffer src = ByteBuffer.allocateDirect(10 * 10 * 3);
        ByteBuffer dst = ByteBuffer.allocateDirect(20 * 20 * 3);
        int srcLen = src.capacity();
        int dstLen = dst.capacity();
        // The Java side never makes these calls; the C++ side must still refuse them.
        assertEquals(-2, ImageNative.wp_resize_with_pad_u8(src, srcLen, 1, 10, 10, 3, 20, 20, 0, 0, 20, 20,
                dst, dstLen, 0));
        assertEquals(-2, ImageNative.wp_resize_with_pad_u8(src, srcLen, 0, 10, 10, 3, 20, 20, 0, 0, 20, 20,
                dst, dstLen - 1, 0));
        assertEquals(-1, ImageNative.wp_resize_with_pad_u8(src, srcLen, 0, 10, 10, 3, 20, 20, 1, 0, 20, 20,
                dst, dstLen, 0));
        assertEquals(-1, ImageNative.wp_float_to_u8(src, srcLen, 3, 1, dst, dstLen));
        assertEquals(-1, ImageNative.wp_resize_with_pad_u8(null, 0, 0, 10, 10, 3, 20, 20, 0, 0, 20, 20,
                dst, dstLen, 0));
        assertEquals(0, ImageNative.wp_resize_with_pad_u8(src, srcLen, 0, 10, 10, 3, 20, 20, 0, 0, 20, 20,
                dst, dstLen, 0));
    }

    @Test
    void aFailedLoadIsLoggedOnceNeverThrownInAutoAndThrownWithItsReasonInOn() {
        int[] attempts = {0};
        NativeLibrary.LoadOnce state = new NativeLibrary.LoadOnce(() -> {
            attempts[0]++;
            return "simulated: libjniwebpolicy.so needs GLIBC_2.35";
        });
        assertFalse(state.useNative(NativeLibrary.Mode.AUTO));
        assertFalse(state.useNative(NativeLibrary.Mode.AUTO));
        assertFalse(state.useNative(NativeLibrary.Mode.OFF));
        String message = assertThrows(IllegalStateException.class,
                () -> state.useNative(NativeLibrary.Mode.ON)).getMessage();
        assertTrue(message.contains("simulated: libjniwebpolicy.so needs GLIBC_2.35"), message);
        assertEquals("simulated: libjniwebpolicy.so needs GLIBC_2.35", state.failureReason().orElseThrow());
        assertEquals(1, attempts[0], "one load attempt");
        assertEquals(1, state.warnings, "one warning");
    }

    @Test
    void offNeverAttemptsALoad() {
        int[] attempts = {0};
        NativeLibrary.LoadOnce state = new NativeLibrary.LoadOnce(() -> {
            attempts[0]++;
            return null;
        });
        assertFalse(state.useNative(NativeLibrary.Mode.OFF));
        assertEquals(0, attempts[0]);
        assertTrue(state.useNative(NativeLibrary.Mode.ON));
        assertEquals(1, attempts[0]);
        assertEquals(0, state.warnings);
    }
}
