package org.webpolicy.nativelib;

import java.util.Locale;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native layer ({@link ImageNative}) once and decides whether to use it.
 *
 * <p>The system property {@value #PROPERTY} selects: {@code auto} (the default) uses the native
 * code when it loads and the Java code otherwise; {@code on} requires it ({@link #useNative()}
 * throws when it cannot load); {@code off} never loads it. A load failure is logged once, with
 * its reason, and never thrown in {@code auto} mode.
 *
 * <p>The library is built for linux-x86_64 (glibc 2.35+, the GCC 12 C++ runtime); elsewhere the
 * Java code runs. OpenCV's natives are loaded first, because ours link against them.
 *
 * <p>Thread-safe: the first caller loads, later callers see the result.
 */
public final class NativeLibrary {

    /** {@code -Dwebpolicy.native=auto|on|off}. */
    public static final String PROPERTY = "webpolicy.native";

    /** What {@value #PROPERTY} asks for. */
    public enum Mode {
        AUTO, ON, OFF;

        /** Reads {@value #PROPERTY} now (unset means {@code AUTO}). */
        public static Mode fromSystemProperty() {
            String value = System.getProperty(PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
            return switch (value) {
                case "auto", "" -> AUTO;
                case "on", "true" -> ON;
                case "off", "false" -> OFF;
                default -> throw new IllegalArgumentException("System property " + PROPERTY + " must be auto, on or off, not '"
                        + System.getProperty(PROPERTY) + "'");
            };
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
    private static final LoadOnce STATE = new LoadOnce(NativeLibrary::tryLoad);

    private NativeLibrary() {
    }

    /**
     * Whether to run the native code now, per {@value #PROPERTY}.
     *
     * @throws IllegalStateException in {@code on} mode when the library cannot load (with the reason)
     */
    public static boolean useNative() {
        return STATE.useNative(Mode.fromSystemProperty());
    }

    /** Loads the library on first call; true when it is usable. Never throws. */
    public static boolean isLoaded() {
        return STATE.isLoaded();
    }

    /**
     * @throws IllegalStateException naming the reason when the library cannot load
     */
    public static void requireLoaded() {
        STATE.requireLoaded();
    }

    /** Why the library did not load, once a load was tried and failed. */
    public static Optional<String> failureReason() {
        return STATE.failureReason();
    }

    /**
     * One load attempt, made by the first caller and remembered; a failure is logged once. The
     * attempt returns null on success, else the reason. Separate from the static facade so the
     * failure path can be tested on a machine where the library does load.
     */
    static final class LoadOnce {
        private final java.util.function.Supplier<String> attempt;
        private final Object lock = new Object();
        private volatile Boolean loaded;
        private volatile String failure;
        /** Failures logged so far: 0 or 1. */
        volatile int warnings;

        LoadOnce(java.util.function.Supplier<String> attempt) {
            this.attempt = attempt;
        }

        boolean useNative(Mode mode) {
            return switch (mode) {
                case OFF -> false;
                case AUTO -> isLoaded();
                case ON -> {
                    requireLoaded();
                    yield true;
                }
            };
        }

        boolean isLoaded() {
            Boolean result = loaded;
            if (result != null) {
                return result;
            }
            synchronized (lock) {
                if (loaded == null) {
                    String reason = attempt.get();
                    failure = reason;
                    loaded = reason == null;
                    if (reason != null) {
                        warnings++;
                        LOG.warn("webpolicy native library not available, image tools run in Java"
                                + " ({}=on fails instead): {}", PROPERTY, reason);
                    }
                }
                return loaded;
            }
        }

        void requireLoaded() {
            if (!isLoaded()) {
                throw new IllegalStateException("The webpolicy native library is required (" + PROPERTY
                        + "=on or an approximate resize) but could not be loaded: " + failure);
            }
        }

        Optional<String> failureReason() {
            isLoaded();
            return Optional.ofNullable(failure);
        }
    }

    private static String tryLoad() {
        try {
            String platform = Loader.getPlatform();
            if (!"linux-x86_64".equals(platform)) {
                return "no native build for platform " + platform + " (only linux-x86_64)";
            }
            // Ours links against OpenCV's libraries: load them (and OpenBLAS) first, or the
            // error would only say that our JNI library is missing.
            Loader.load(org.bytedeco.opencv.global.opencv_imgproc.class);
            Loader.load(ImageNative.class);
            int version = ImageNative.wp_native_version();
            if (version != ImageNative.VERSION) {
                return "native library version " + version + " does not match the Java binding's " + ImageNative.VERSION;
            }
            LOG.debug("webpolicy native library loaded (SIMD level {})", ImageNative.wp_simd_level());
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: all mean "not available"
            if (t instanceof VirtualMachineError vm && !(t instanceof StackOverflowError)) {
                throw vm;
            }
            StringBuilder reason = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                reason.append(reason.length() == 0 ? "" : "; caused by ").append(c);
            }
            return reason.toString();
        }
    }
}
