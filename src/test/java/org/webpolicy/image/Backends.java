package org.webpolicy.image;

import java.util.stream.Stream;
import org.webpolicy.nativelib.NativeLibrary;

/** Both implementations, for parameterised tests; the native one must load (no silent skip). */
final class Backends {

    private Backends() {
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
        return Stream.of("java", "native");
    }

    static ImageKernels byName(String name) {
        return name.equals("java") ? java() : nativeKernels();
    }
}
