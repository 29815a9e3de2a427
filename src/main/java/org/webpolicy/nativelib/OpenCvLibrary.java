package org.webpolicy.nativelib;

import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/**
 * Loads OpenCV's natives from the {@code org.bytedeco:opencv} preset, for the opt-in
 * approximate resize only. Separate from {@link NativeLibrary}: the Pillow-exact native library
 * does not link OpenCV and loads without it; OpenCV's preset natives need glibc 2.35 and the
 * GCC 12 C++ runtime, and exist where the preset publishes them (linux-x86_64 and linux-arm64
 * are the classifiers this project depends on).
 *
 * <p>Nothing is logged: the approximate resize is asked for explicitly, and its caller gets the
 * reason in the exception. Thread-safe; the first caller loads.
 */
public final class OpenCvLibrary {

    private static final NativeLibrary.LoadOnce STATE = new NativeLibrary.LoadOnce(OpenCvLibrary::tryLoad, false);

    private OpenCvLibrary() {
    }

    /**
     * Loads OpenCV's core and imgproc natives on first call, or fails.
     *
     * @throws IllegalStateException naming the reason when they cannot be loaded
     */
    public static void requireLoaded() {
        if (!STATE.isLoaded()) {
            throw new IllegalStateException("The approximate (OpenCV) resize needs the org.bytedeco opencv and openblas"
                    + " natives for " + platform() + ", which could not be loaded: "
                    + STATE.failureReason().orElse("unknown reason"));
        }
    }

    /**
     * Why OpenCV did not load, once a load was tried and failed.
     *
     * @return the reason, or empty when it loaded
     */
    public static Optional<String> failureReason() {
        return STATE.failureReason();
    }

    private static String platform() {
        try {
            return Loader.getPlatform();
        } catch (RuntimeException | LinkageError e) {
            return System.getProperty("os.name") + " " + System.getProperty("os.arch");
        }
    }

    private static NativeLibrary.Failure tryLoad() {
        try {
            Loader.load(org.bytedeco.opencv.global.opencv_imgproc.class);
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: all mean "not available"
            return NativeLibrary.Failure.of(t);
        }
    }
}
