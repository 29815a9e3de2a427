package org.webpolicy.internal.nativelib;

import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/**
 * Loads OpenCV's natives from the {@code org.bytedeco:opencv} preset, for the opt-in
 * approximate resize; cameras load the preset's video natives themselves and word their error
 * with {@link #notLoadedMessage(String, String)}. Separate from {@link NativeLibrary}: the Pillow-exact native library
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

    /** The OpenCV preset this library is built and tested with (OpenCvLibraryTest holds it to the pom's). */
    static final String OPENCV_VERSION = "4.13.0-1.5.13";

    /** The OpenBLAS preset OpenCV's natives need at run time, of the same JavaCPP release. */
    static final String OPENBLAS_VERSION = "0.3.31-1.5.13";

    /**
     * Loads OpenCV's core and imgproc natives on first call, or fails.
     *
     * @throws IllegalStateException naming the reason and, since OpenCV is an opt-in dependency,
     *     the Maven coordinates to add for this platform
     */
    public static void requireLoaded() {
        if (!STATE.isLoaded()) {
            throw new IllegalStateException(notLoadedMessage("The approximate (OpenCV) resize needs", platform(),
                    STATE.failureReason().orElse("unknown reason")));
        }
    }

    /**
     * What a user of an OpenCV feature reads when OpenCV did not load: most often its jars are
     * simply absent, as webpolicy-java does not bring them, so the message says what to add.
     *
     * @param userNeeds the feature and its verb, e.g. {@code "Cameras need"}
     * @param reason why the load failed
     * @return the message, naming the coordinates for this platform
     */
    public static String notLoadedMessage(String userNeeds, String reason) {
        return notLoadedMessage(userNeeds, platform(), reason);
    }

    static String notLoadedMessage(String userNeeds, String platform, String reason) {
        return notLoadedMessage(userNeeds, platform, reason, OpenCvLibrary.class.getModule().isNamed());
    }

    static String notLoadedMessage(String userNeeds, String platform, String reason, boolean modulePath) {
        // On the module path the jars can be there and still unread: org.webpolicy requires OpenCV
        // statically, and nothing requires the preset's platform modules that hold the natives.
        String suffix = platform.replace('-', '.'); // linux-x86_64: module org.bytedeco.opencv.linux.x86_64
        String modules = !modulePath ? "" : " On the module path, resolve them too: --add-modules org.bytedeco.opencv."
                + suffix + ",org.bytedeco.openblas." + suffix + " (or requires of your module).";
        return userNeeds + " OpenCV, which webpolicy-java leaves out unless asked for:"
                + " add the dependencies org.bytedeco:opencv:" + OPENCV_VERSION
                + ", org.bytedeco:opencv:" + OPENCV_VERSION + ":" + platform
                + " and org.bytedeco:openblas:" + OPENBLAS_VERSION + ":" + platform
                + " (groupId:artifactId:version:classifier; the README's section \"OpenCV: cameras and the"
                + " approximate resize\" shows them as XML, for linux-x86_64 and linux-arm64)." + modules
                + " OpenCV's natives also need glibc 2.35 or newer. It could not be loaded on " + platform
                + ": " + reason;
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
