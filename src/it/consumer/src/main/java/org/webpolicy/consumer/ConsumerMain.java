package org.webpolicy.consumer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ApproximateFilter;
import org.webpolicy.image.ImageTools;

/**
 * Resizes a 480x640 RGB image to 224x224 with the native code forced on, then with it off, and
 * checks that both give the same bytes, that the native path loaded no OpenCV library (the
 * Pillow-exact library needs only the C and C++ runtimes), and that the command line and its
 * dependencies did not come with the library. Then the approximate resize: without arguments
 * OpenCV is absent (it is opt-in) and the error must name the coordinates to add; with the
 * argument {@code opencv} (the consumer built with the README's opt-in dependencies) it must work.
 * With {@code -Dconsumer.expectPlatform=linux-arm64} (the fat jar on an arm64 JVM) JavaCPP must see
 * that platform. Exits non-zero on any failure.
 */
public final class ConsumerMain {

    private ConsumerMain() {
    }

    public static void main(String[] args) throws IOException {
        for (String absent : new String[] {"org.webpolicy.cli.Main", "org.webpolicy.demo.AlohaDemo", "org.webpolicy.check.ConformanceCheck",
                "picocli.CommandLine", "com.fasterxml.jackson.databind.ObjectMapper"}) {
            try {
                Class.forName(absent);
                throw new IllegalStateException(absent + " came with the library; it belongs to the command line");
            } catch (ClassNotFoundException expected) {
                // as it should be
            }
        }
        byte[] pixels = new byte[480 * 640 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 31 + i / 1920);
        }
        NdArray image = NdArray.ofUint8(pixels, 480, 640, 3);

        String platform = org.bytedeco.javacpp.Loader.getPlatform();
        String expectedPlatform = System.getProperty("consumer.expectPlatform");
        if (expectedPlatform != null && !expectedPlatform.equals(platform)) {
            throw new IllegalStateException("expected to run on " + expectedPlatform + ", JavaCPP says " + platform);
        }
        System.setProperty(ImageTools.NATIVE_PROPERTY, "on");
        String backend = ImageTools.backendName(); // throws, with the reason, if the library cannot load
        NdArray fast = ImageTools.resizeWithPad(image, 224, 224);
        long firstResizeMs = ManagementFactory.getRuntimeMXBean().getUptime();

        System.setProperty(ImageTools.NATIVE_PROPERTY, "off");
        NdArray reference = ImageTools.resizeWithPad(image, 224, 224);

        if (!backend.equals("native")) {
            throw new IllegalStateException("expected the native backend, got " + backend);
        }
        if (!fast.shape().equals(Shape.of(224, 224, 3))) {
            throw new IllegalStateException("unexpected shape " + fast.shape());
        }
        if (!Arrays.equals(fast.toByteArray(), reference.toByteArray())) {
            throw new IllegalStateException("native and Java outputs differ");
        }
        for (String mapping : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (mapping.contains("libopencv") || mapping.contains("libopenblas")) {
                throw new IllegalStateException("the exact resize loaded OpenCV: " + mapping);
            }
        }
        System.setProperty(ImageTools.NATIVE_PROPERTY, "auto");
        System.out.println("consumer on " + platform + ": " + ImageTools.backendDetails() + ", no OpenCV library loaded");
        System.out.println("consumer OK: native resize 480x640x3 -> " + fast.shape() + " matches the Java path;"
                + " first resize done " + firstResizeMs + " ms after the JVM started");

        boolean optedIn = args.length > 0 && args[0].equals("opencv");
        try {
            long start = System.nanoTime();
            NdArray approximate = ImageTools.resizeWithPadApproximate(image, 224, 224, ApproximateFilter.LINEAR);
            if (!optedIn) {
                throw new IllegalStateException("the approximate resize ran without the opt-in OpenCV dependencies");
            }
            if (!approximate.shape().equals(Shape.of(224, 224, 3))) {
                throw new IllegalStateException("unexpected shape of the approximate resize " + approximate.shape());
            }
            System.out.printf("consumer OK: approximate (OpenCV) resize with the opt-in dependencies, first call"
                    + " %d ms (OpenCV loaded with it)%n", (System.nanoTime() - start) / 1_000_000);
        } catch (IllegalStateException e) {
            String expected = "org.bytedeco:opencv:";
            if (optedIn || !e.getMessage().contains(expected) || !e.getMessage().contains(":" + platform)) {
                throw e;
            }
            System.out.println("consumer OK: without OpenCV the approximate resize says what to add: "
                    + e.getMessage().substring(0, e.getMessage().indexOf(" (groupId")));
        }
    }
}
