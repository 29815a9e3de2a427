package org.webpolicy.transport;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * The class path for a test's own child JVM (a server with few descriptors, a client left
 * unclosed). Surefire runs the tests on the module path: the library's classes are then on
 * {@code jdk.module.path}, the test classes patched into the module (surefire passes their directory
 * as {@code webpolicy.test.classes}), and {@code java.class.path} holds only the test libraries.
 * The child runs on the class path, with all three.
 */
final class ChildJvm {

    private ChildJvm() {
    }

    /**
     * The test classes, the library and every dependency, joined with the path separator.
     *
     * @return a value for {@code -cp}
     */
    static String classPath() {
        List<String> parts = new ArrayList<>();
        for (String property : new String[] {"webpolicy.test.classes", "jdk.module.path", "java.class.path"}) {
            String value = System.getProperty(property);
            if (value != null && !value.isEmpty()) {
                parts.add(value);
            }
        }
        return String.join(File.pathSeparator, parts);
    }
}
