package org.webpolicy.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The native library must load on this machine (linux-x86_64 or linux-arm64: the build machine,
 * CI and its arm64 emulation): these tests fail, with the loader's reason, when it does not. In a
 * Java-only build (webpolicy.native.skip) they are disabled, reported as such, and
 * {@link #javaOnlyBuildRunsJavaAndSaysWhy()} checks that build's behaviour instead.
 */
class NativeLibraryTest {

    private static final String SKIPPED = "webpolicy.test.nativeSkipped";

    @AfterEach
    void clearProperty() {
        System.clearProperty(NativeLibrary.PROPERTY);
    }

    @Test
    @DisabledIfSystemProperty(named = SKIPPED, matches = "true", disabledReason = "Java-only build")
    void loadsOnThisMachine() {
        NativeLibrary.requireLoaded();
        assertTrue(NativeLibrary.isLoaded());
        assertTrue(NativeLibrary.failureReason().isEmpty());
        assertEquals(ImageNative.VERSION, ImageNative.wp_native_version());
        int simd = ImageNative.wp_simd_level();
        String arch = System.getProperty("os.arch");
        if (arch.equals("aarch64")) {
            assertEquals(ImageNative.SIMD_NEON, simd, "every ARMv8-A CPU has NEON");
        } else {
            assertTrue(simd == ImageNative.SIMD_SCALAR || simd == ImageNative.SIMD_AVX2, "SIMD level " + simd);
        }
        String details = org.webpolicy.image.ImageTools.backendDetails();
        assertTrue(details.startsWith("native (linux-") && details.endsWith(" kernels)"), details);
    }

    @Test
    @EnabledIfSystemProperty(named = SKIPPED, matches = "true", disabledReason = "this build has natives")
    void javaOnlyBuildRunsJavaAndSaysWhy() {
        assertFalse(NativeLibrary.isLoaded());
        assertTrue(NativeLibrary.failureReason().orElseThrow().contains("built without native libraries"));
        assertEquals("java", org.webpolicy.image.ImageTools.backendName());
        assertThrows(IllegalStateException.class, NativeLibrary::requireLoaded);
    }

    @Test
    @DisabledIfSystemProperty(named = SKIPPED, matches = "true", disabledReason = "Java-only build")
    void propertySelectsTheImplementation() {
        System.setProperty(NativeLibrary.PROPERTY, "on");
        assertTrue(NativeLibrary.useNative());
        assertEquals("native", org.webpolicy.image.ImageTools.backendName());
        System.setProperty(NativeLibrary.PROPERTY, "off");
        assertFalse(NativeLibrary.useNative());
        assertEquals("java", org.webpolicy.image.ImageTools.backendName());
        assertEquals("java (webpolicy.native=off)", org.webpolicy.image.ImageTools.backendDetails());
        System.setProperty(NativeLibrary.PROPERTY, "auto");
        assertTrue(NativeLibrary.useNative(), "auto uses the native code when it loads");
        System.clearProperty(NativeLibrary.PROPERTY);
        assertEquals(NativeLibrary.Mode.AUTO, NativeLibrary.Mode.fromSystemProperty());
        System.setProperty(NativeLibrary.PROPERTY, "sometimes");
        String message = assertThrows(IllegalArgumentException.class, NativeLibrary::useNative).getMessage();
        assertTrue(message.contains("auto, on or off") && message.contains("sometimes"), message);
    }

    @Test
    void anUnsupportedPlatformIsLoggedOnceAtInfoNamingWhatWasLookedFor() {
        String reason = NativeLibrary.unsupportedPlatformReason("macosx-arm64", "Mac OS X", "aarch64");
        assertTrue(reason.contains("Mac OS X aarch64") && reason.contains("macosx-arm64")
                && reason.contains("org/webpolicy/internal/nativelib/macosx-arm64/") && reason.contains("linux-arm64")
                && reason.contains("linux-x86_64"), reason);
        int[] attempts = {0};
        NativeLibrary.LoadOnce state = new NativeLibrary.LoadOnce(() -> {
            attempts[0]++;
            return new NativeLibrary.Failure(reason, true);
        });
        assertFalse(state.useNative(NativeLibrary.Mode.AUTO));
        assertFalse(state.isLoaded());
        assertEquals(reason, state.failureReason().orElseThrow());
        assertEquals(1, attempts[0]);
        assertEquals(1, state.logged, "one line");
        assertEquals(0, state.warnings, "at INFO, not WARN: the Java path is the expected one there");
    }

    @Test
    void aFailedLoadIsLoggedOnceNeverThrownInAutoAndThrownWithItsReasonInOn() {
        int[] attempts = {0};
        NativeLibrary.LoadOnce state = new NativeLibrary.LoadOnce(() -> {
            attempts[0]++;
            return new NativeLibrary.Failure("simulated: libjniwebpolicy.so needs GLIBC_2.35", false);
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
