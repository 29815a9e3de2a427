package org.webpolicy.internal.nativelib;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native layer ({@link ImageNative}, {@link MaskingNative}, {@link JpegNative}) once and decides
 * whether to use it.
 *
 * <p>The system property {@value #PROPERTY} selects: {@code auto} (the default) uses the native
 * code when it loads and the Java code otherwise; {@code on} requires it ({@link #useNative()}
 * throws when it cannot load); {@code off} never loads it. The outcome is logged once: on a
 * platform without a native build (macOS, Windows, other architectures) one INFO line names the
 * OS, the architecture and the library looked for; where a native build exists but does not load
 * (a glibc older than the floor, a damaged cache) one WARN line gives the loader's reason. Neither
 * is thrown in {@code auto} mode.
 *
 * <p>The library is built for linux-x86_64 and linux-arm64 and needs glibc 2.28 or newer
 * (scripts/check_glibc_floor holds the build to it). It needs no other native library:
 * libjpeg-turbo, when the build had it, is linked in statically.
 *
 * <p>Thread-safe: the first caller loads, later callers see the result.
 */
public final class NativeLibrary {

    /** {@code -Dwebpolicy.native=auto|on|off}. */
    public static final String PROPERTY = "webpolicy.native";

    /** The JavaCPP platforms the jar carries a native library for. */
    public static final Set<String> PLATFORMS = Set.of("linux-x86_64", "linux-arm64");

    /** What {@value #PROPERTY} asks for. */
    public enum Mode {
        /** Native when it loads, Java otherwise. */
        AUTO,
        /** Native, or an exception with the loader's reason. */
        ON,
        /** Java only; the library is not loaded. */
        OFF;

        /**
         * Reads {@value #PROPERTY} now.
         *
         * @return the mode asked for; unset means {@code AUTO}
         * @throws IllegalArgumentException if the property is set to anything but auto, on or off
         */
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

    /**
     * Why a load attempt failed.
     *
     * @param reason what was missing or went wrong, for logs and exceptions
     * @param unsupportedPlatform true when the jar has no native build for this platform (an
     *     expected outcome, logged at INFO), false when a build exists but did not load (WARN)
     */
    record Failure(String reason, boolean unsupportedPlatform) {

        /** A loader's exception and its causes as one reason; JVM errors other than a stack overflow are rethrown. */
        static Failure of(Throwable t) {
            if (t instanceof VirtualMachineError vm && !(t instanceof StackOverflowError)) {
                throw vm;
            }
            StringBuilder reason = new StringBuilder();
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                reason.append(reason.length() == 0 ? "" : "; caused by ").append(c);
            }
            return new Failure(reason.toString(), false);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
    private static final LoadOnce STATE = new LoadOnce(NativeLibrary::tryLoad);

    private NativeLibrary() {
    }

    /**
     * Whether to run the native code now, per {@value #PROPERTY}.
     *
     * @return true when the native code is to be used
     * @throws IllegalStateException in {@code on} mode when the library cannot load (with the reason)
     * @throws IllegalArgumentException if {@value #PROPERTY} has an unknown value
     */
    public static boolean useNative() {
        return STATE.useNative(Mode.fromSystemProperty());
    }

    /**
     * Loads the library on first call. Never throws.
     *
     * @return true when the library is usable
     */
    public static boolean isLoaded() {
        return STATE.isLoaded();
    }

    /**
     * Loads the library on first call, or fails.
     *
     * @throws IllegalStateException naming the reason when the library cannot load
     */
    public static void requireLoaded() {
        STATE.requireLoaded();
    }

    /**
     * Why the library did not load, once a load was tried and failed.
     *
     * @return the reason, or empty when the library loaded
     */
    public static Optional<String> failureReason() {
        return STATE.failureReason();
    }

    /**
     * A one-line description of the native layer on this machine, for logs: the platform and the
     * kernels when it loaded (e.g. {@code "linux-arm64, NEON kernels"}), else why not.
     *
     * @return the description; loads the library on first call
     */
    public static String describe() {
        if (isLoaded()) {
            return Loader.getPlatform() + ", " + ImageNative.simdName(ImageNative.wp_simd_level()) + " kernels";
        }
        return failureReason().orElse("not loaded");
    }

    /**
     * One load attempt, made by the first caller and remembered; the outcome is logged once.
     * The attempt returns null on success, else the failure. Separate from the static facade so
     * the failure paths can be tested on a machine where the library does load.
     */
    static final class LoadOnce {
        private final Supplier<Failure> attempt;
        private final boolean logFailure;
        private final Object lock = new Object();
        private volatile Boolean loaded;
        private volatile String failure;
        /** Failures logged so far, at INFO or WARN: 0 or 1. */
        volatile int logged;
        /** Of those, WARN lines: 0 or 1. */
        volatile int warnings;

        LoadOnce(Supplier<Failure> attempt) {
            this(attempt, true);
        }

        LoadOnce(Supplier<Failure> attempt, boolean logFailure) {
            this.attempt = attempt;
            this.logFailure = logFailure;
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
                    Failure f = attempt.get();
                    failure = f == null ? null : f.reason();
                    loaded = f == null;
                    if (f != null && logFailure) {
                        logged++;
                        if (f.unsupportedPlatform()) {
                            LOG.info("webpolicy image tools, frame masking and JPEG run in Java: {}", f.reason());
                        } else {
                            warnings++;
                            LOG.warn("webpolicy native library not available, image tools, frame masking and JPEG run in Java"
                                    + " ({}=on fails instead): {}", PROPERTY, f.reason());
                        }
                    }
                }
                return loaded;
            }
        }

        void requireLoaded() {
            if (!isLoaded()) {
                throw new IllegalStateException("The webpolicy native library is required (" + PROPERTY
                        + "=on) but could not be loaded: " + failure);
            }
        }

        Optional<String> failureReason() {
            isLoaded();
            return Optional.ofNullable(failure);
        }
    }

    /** The INFO reason on a platform without a native build: OS, architecture, what was looked for. */
    static String unsupportedPlatformReason(String platform, String osName, String osArch) {
        return "no native build for " + osName + " " + osArch + " (JavaCPP platform " + platform
                + "; looked for org/webpolicy/internal/nativelib/" + platform + "/" + System.mapLibraryName("jniwebpolicy")
                + ", native builds exist for " + String.join(" and ", PLATFORMS.stream().sorted().toList()) + ")";
    }

    private static Failure tryLoad() {
        try {
            String platform = Loader.getPlatform();
            if (!PLATFORMS.contains(platform)) {
                return new Failure(unsupportedPlatformReason(platform, System.getProperty("os.name"),
                        System.getProperty("os.arch")), true);
            }
            String resource = platform + "/" + System.mapLibraryName("jniwebpolicy");
            if (ImageNative.class.getResource(resource) == null) {
                return new Failure("this webpolicy jar was built without native libraries (no org/webpolicy/internal/nativelib/"
                        + resource + "; built with -Dwebpolicy.native.skip=true or without a C++ compiler)", true);
            }
            Loader.load(ImageNative.class);
            int version = ImageNative.wp_native_version();
            if (version != ImageNative.VERSION) {
                return new Failure("native library version " + version + " does not match the Java binding's "
                        + ImageNative.VERSION, false);
            }
            LOG.debug("webpolicy native library loaded ({})", platform);
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: all mean "not available"
            return Failure.of(t);
        }
    }
}
