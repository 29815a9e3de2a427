package org.webpolicy.camera;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_videoio;
import org.webpolicy.internal.nativelib.OpenCvLibrary;

/**
 * Loads OpenCV's videoio natives once (the org.bytedeco opencv preset: linux-x86_64 and
 * linux-arm64, glibc 2.35 or newer). Cameras are the opt-in part of the library that needs them.
 */
final class OpenCvVideo {

    private static final Object LOCK = new Object();
    private static volatile String failure;
    private static volatile boolean loaded;

    private OpenCvVideo() {
    }

    /** @throws IllegalStateException naming the reason when OpenCV's video natives cannot be loaded */
    static void requireLoaded() {
        if (loaded) {
            return;
        }
        synchronized (LOCK) {
            if (!loaded && failure == null) {
                try {
                    Loader.load(opencv_videoio.class);
                    loaded = true;
                } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError: not available
                    if (t instanceof VirtualMachineError vm && !(t instanceof StackOverflowError)) {
                        throw vm;
                    }
                    failure = String.valueOf(t);
                }
            }
        }
        if (!loaded) {
            throw new IllegalStateException(OpenCvLibrary.notLoadedMessage("Cameras need", failure));
        }
    }
}
