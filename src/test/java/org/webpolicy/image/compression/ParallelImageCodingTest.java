package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.image.ImageLayout;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * A step's cameras coded side by side, through whichever JPEG codec runs (libjpeg-turbo when the
 * build has it, and the JDK's) and PNG: every camera comes back in its own place with the bytes
 * and pixels that coding it alone gives, a bad camera is named whichever thread decoded it, and a
 * stop during a parallel decode ends it on every thread.
 */
class ParallelImageCodingTest {

    private final ExecutorService helpers = Executors.newFixedThreadPool(3);

    @AfterEach
    void close() {
        helpers.shutdownNow();
    }

    private static <T> T with(String property, String value, Supplier<T> body) {
        String before = System.getProperty(property);
        System.setProperty(property, value);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, before);
            }
        }
    }

    /** Four cameras of different content and sizes, one of them channels-first, one grey. */
    private static Map<String, Object> step() {
        Random rng = new Random(11);
        Map<String, Object> step = new LinkedHashMap<>();
        step.put("cam0", ImageCompressionTest.cameraLike(rng, 224, 224));
        step.put("cam1", ImageLayout.hwcToChw(ImageCompressionTest.cameraLike(rng, 224, 224)));
        step.put("cam2", ImageCompressionTest.cameraLike(rng, 240, 320));
        byte[] grey = Arrays.copyOf(ImageCompressionTest.cameraLike(rng, 200, 200).toByteArray(), 200 * 200);
        step.put("cam3", NdArray.ofUint8(grey, 200, 200, 1));
        step.put("joints", NdArray.ofUint8(new byte[] {1, 2, 3}, 3));
        return step;
    }

    private static double meanDiff(NdArray a, NdArray b) {
        byte[] x = a.toByteArray();
        byte[] y = b.toByteArray();
        long sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += Math.abs((x[i] & 0xFF) - (y[i] & 0xFF));
        }
        return (double) sum / x.length;
    }

    @Test
    void everyCameraComesBackInItsOwnPlaceAsWhenCodedAlone() {
        Map<String, Object> step = step();
        for (String nativeMode : List.of("auto", "off")) {
            for (ImageCodec codec : List.of(ImageCodec.jpeg(90), ImageCodec.PNG)) {
                String what = codec + " native=" + nativeMode;
                Map<String, Object> alone = with(NativeLibrary.PROPERTY, nativeMode,
                        () -> with(ImageFanOut.PROPERTY, "false", () -> ImageCompression.compress(step, codec)));
                Map<String, Object> together = with(NativeLibrary.PROPERTY, nativeMode,
                        () -> ImageCompression.compress(step, codec));
                assertEquals(alone.keySet(), together.keySet());
                for (String cam : List.of("cam0", "cam1", "cam2", "cam3")) {
                    assertArrayEquals((byte[]) ((Map<?, ?>) alone.get(cam)).get("data"),
                            (byte[]) ((Map<?, ?>) together.get(cam)).get("data"), what + ": " + cam + " encoded");
                }
                assertEquals(step.get("joints"), together.get("joints"));
                Map<String, Object> wire = ImageCompressionTest.roundTripThroughMsgpack(together);
                ImageDecodePlan plan = ImageDecodePlan.of(wire, ImageCompression.Limits.DEFAULT);
                Map<String, Object> one = with(NativeLibrary.PROPERTY, nativeMode, () -> plan.decode(() -> false));
                Map<String, Object> many = with(NativeLibrary.PROPERTY, nativeMode, () -> plan.decode(() -> false, helpers));
                for (String cam : List.of("cam0", "cam1", "cam2", "cam3")) {
                    NdArray original = (NdArray) step.get(cam);
                    NdArray back = (NdArray) many.get(cam);
                    assertEquals(one.get(cam), back, what + ": " + cam + " decoded side by side as alone");
                    assertEquals(original.shape(), back.shape(), what + ": " + cam);
                    assertTrue(meanDiff(original, back) < 3.0, what + ": " + cam + " is not its own image");
                }
                // cam0 and cam1 have the same size: each came back to its own key, not the other's.
                NdArray cam1AsHwc = ImageLayout.chwToHwc((NdArray) many.get("cam1"));
                assertTrue(meanDiff((NdArray) step.get("cam0"), cam1AsHwc) > 10.0, what + ": cam0 and cam1 swapped");
            }
        }
    }

    @Test
    void pixelsInADirectBufferOrInsideALargerArrayEncodeAsTheirOwnCopy() {
        NdArray image = ImageCompressionTest.cameraLike(new Random(13), 96, 128);
        byte[] px = image.toByteArray();
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(px.length);
        direct.put(px).flip();
        byte[] larger = new byte[px.length + 1000];
        System.arraycopy(px, 0, larger, 517, px.length);
        java.nio.ByteBuffer inside = java.nio.ByteBuffer.wrap(larger, 517, px.length).slice().asReadOnlyBuffer();
        org.webpolicy.array.Shape shape = org.webpolicy.array.Shape.of(96, 128, 3);
        for (String nativeMode : List.of("auto", "off")) {
            byte[] expected = (byte[]) ((Map<?, ?>) with(NativeLibrary.PROPERTY, nativeMode,
                    () -> ImageCompression.compress(Map.of("cam", image), ImageCodec.jpeg(90))).get("cam")).get("data");
            for (java.nio.ByteBuffer buffer : List.of(direct, inside)) {
                NdArray view = NdArray.wrap(org.webpolicy.array.DType.UINT8, shape, buffer.duplicate());
                byte[] got = (byte[]) ((Map<?, ?>) with(NativeLibrary.PROPERTY, nativeMode,
                        () -> ImageCompression.compress(Map.of("cam", view), ImageCodec.jpeg(90))).get("cam")).get("data");
                assertArrayEquals(expected, got, nativeMode + ", direct=" + buffer.isDirect());
            }
        }
    }

    @Test
    void aCorruptCameraIsNamedWhicheverThreadDecodesIt() {
        Map<String, Object> packed = ImageCompressionTest.roundTripThroughMsgpack(
                ImageCompression.compress(step(), ImageCodec.jpeg(90)));
        @SuppressWarnings("unchecked")
        Map<String, Object> cam2 = (Map<String, Object>) packed.get("cam2");
        byte[] jpeg = (byte[]) cam2.get("data");
        // Scan data cut to a third, the end marker put back: the structure is whole, the decoder
        // runs out of data half-way through the image.
        int sos = 2;
        while (!((jpeg[sos] & 0xFF) == 0xFF && (jpeg[sos + 1] & 0xFF) == 0xDA)) {
            sos++;
        }
        int dataStart = sos + 2 + ((jpeg[sos + 2] & 0xFF) << 8 | (jpeg[sos + 3] & 0xFF));
        byte[] cut = Arrays.copyOf(jpeg, dataStart + (jpeg.length - dataStart) / 3 + 2);
        if ((cut[cut.length - 3] & 0xFF) == 0xFF) {
            cut[cut.length - 3] = 0;
        }
        cut[cut.length - 2] = (byte) 0xFF;
        cut[cut.length - 1] = (byte) 0xD9;
        Map<String, Object> bad = new LinkedHashMap<>(packed);
        Map<String, Object> badCam = new LinkedHashMap<>(cam2);
        badCam.put("data", cut);
        bad.put("cam2", badCam);
        ImageDecodePlan plan = ImageDecodePlan.of(bad, ImageCompression.Limits.DEFAULT);
        for (String nativeMode : List.of("auto", "off")) {
            for (int round = 0; round < 10; round++) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> with(NativeLibrary.PROPERTY, nativeMode, () -> plan.decode(() -> false, helpers)));
                assertTrue(e.getMessage().startsWith("Compressed image at cam2: "), nativeMode + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("corrupt or truncated"), nativeMode + ": " + e.getMessage());
            }
        }
    }

    @Test
    void aStopDuringAParallelDecodeEndsItOnEveryThreadBeforeItReturns() throws Exception {
        Random rng = new Random(12);
        Map<String, Object> step = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            step.put("cam" + i, ImageCompressionTest.cameraLike(rng, 768, 768));
        }
        Map<String, Object> packed = ImageCompression.compress(step, ImageCodec.jpeg(90));
        ImageDecodePlan plan = ImageDecodePlan.of(packed, ImageCompression.Limits.DEFAULT);
        for (String nativeMode : List.of("auto", "off")) {
            ExecutorService threads = Executors.newFixedThreadPool(3);
            AtomicInteger polls = new AtomicInteger();
            try {
                assertThrows(CancellationException.class, () -> with(NativeLibrary.PROPERTY, nativeMode,
                        () -> plan.decode(() -> polls.incrementAndGet() > 12, threads)), nativeMode);
            } finally {
                threads.shutdown();
            }
            int atReturn = polls.get();
            // Whatever was queued or running on the helpers has now had every chance: none asked again.
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
            assertEquals(atReturn, polls.get(), nativeMode + ": a thread still decoded after the call returned");
        }
    }
}
