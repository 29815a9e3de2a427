package org.webpolicy.internal.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * OpenCV is an opt-in dependency: when it does not load, the approximate resize's error names the
 * coordinates to add, and they are the versions the build uses. (That a consumer without them gets
 * this error is checked by scripts/check_consumer, with the installed artifact.)
 */
class OpenCvLibraryTest {

    private static String pomProperty(String name) throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">([^<]+)</").matcher(pom);
        assertTrue(m.find(), "pom.xml has no property " + name);
        return m.group(1);
    }

    @Test
    void theVersionsNamedAreThePoms() throws IOException {
        assertEquals(pomProperty("opencv.version"), OpenCvLibrary.OPENCV_VERSION);
        assertEquals(pomProperty("openblas.version"), OpenCvLibrary.OPENBLAS_VERSION);
    }

    @Test
    void theErrorSaysWhatToAddForThisPlatform() {
        String message = OpenCvLibrary.notLoadedMessage("Cameras need", "linux-arm64",
                "java.lang.NoClassDefFoundError: org/bytedeco/opencv/global/opencv_imgproc");
        for (String expected : new String[] {
            "org.bytedeco:opencv:" + OpenCvLibrary.OPENCV_VERSION + ",",
            "org.bytedeco:opencv:" + OpenCvLibrary.OPENCV_VERSION + ":linux-arm64",
            "org.bytedeco:openblas:" + OpenCvLibrary.OPENBLAS_VERSION + ":linux-arm64",
            "NoClassDefFoundError: org/bytedeco/opencv/global/opencv_imgproc",
            "Cameras need OpenCV, which webpolicy-java leaves out unless asked for",
            "the README's section \"OpenCV: cameras and the approximate resize\""}) {
            assertTrue(message.contains(expected), "missing '" + expected + "' in: " + message);
        }
    }

    @Test
    void onTheModulePathTheErrorNamesThePlatformModulesToResolve() {
        String hint = "--add-modules org.bytedeco.opencv.linux.arm64,org.bytedeco.openblas.linux.arm64";
        String reason = "java.lang.NoClassDefFoundError: org/bytedeco/opencv/global/opencv_imgproc";
        assertTrue(OpenCvLibrary.notLoadedMessage("Cameras need", "linux-arm64", reason, true).contains(hint));
        assertFalse(OpenCvLibrary.notLoadedMessage("Cameras need", "linux-arm64", reason, false).contains("--add-modules"));
    }
}
