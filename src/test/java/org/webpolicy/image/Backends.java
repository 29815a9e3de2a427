package org.webpolicy.image;

import java.util.stream.Stream;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * Both implementations, for parameterised tests; the native one must load (no silent skip).
 *
 * <p>A Java-only build ({@code -Dwebpolicy.native.skip=true}, or no C++ compiler: the pom then
 * sets {@value #NATIVE_SKIPPED}) has no native library to test: it runs the Java cases, and
 * {@code NativeLibraryTest} asserts that the library is absent for that reason instead.
 */
final class Backends {

    /** Set by the pom's surefire configuration to the build's {@code webpolicy.native.skip}. */
    static final String NATIVE_SKIPPED = "webpolicy.test.nativeSkipped";

    private Backends() {
    }

    /**
     * Whether this build compiled no native library.
     *
     * @return true for a Java-only build
     */
    static boolean javaOnlyBuild() {
        return Boolean.getBoolean(NATIVE_SKIPPED);
    }

    static ImageKernels java() {
        return JavaImageKernels.INSTANCE;
    }

    /** The native kernels; fails the calling test, with the reason, when the library does not load. */
    static ImageKernels nativeKernels() {
        NativeLibrary.requireLoaded();
        return NativeImageKernels.INSTANCE;
    }

    static Stream<String> names() {
        return javaOnlyBuild() ? Stream.of("java") : Stream.of("java", "native");
    }

    static ImageKernels byName(String name) {
        return name.equals("java") ? java() : nativeKernels();
    }
}
