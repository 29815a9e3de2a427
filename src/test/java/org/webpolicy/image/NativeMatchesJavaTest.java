package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.webpolicy.array.DType;
import org.webpolicy.array.Half;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.internal.nativelib.ImageNative;

/**
 * Thousands of random sizes and contents: the native code (with and without its SIMD kernels,
 * AVX2 or NEON) gives exactly the Java code's bytes. Seeded, so a failure names a case that can
 * be replayed. Disabled, and reported so, in a Java-only build, which has no native code.
 */
@DisabledIfSystemProperty(named = Backends.NATIVE_SKIPPED, matches = "true",
        disabledReason = "Java-only build (webpolicy.native.skip): no native library to compare")
class NativeMatchesJavaTest {

    private final ImageKernels nativeKernels = Backends.nativeKernels();
    private final ImageKernels javaKernels = Backends.java();

    @AfterEach
    void restoreSimd() {
        ImageNative.wp_set_simd_enabled(1);
    }

    static NdArray randomImage(Random rng, long... shape) {
        byte[] b = new byte[(int) Shape.of(shape).size()];
        switch (rng.nextInt(3)) {
            case 0 -> rng.nextBytes(b);
            case 1 -> { // hard edges: sums hit the clamps
                for (int i = 0; i < b.length; i++) {
                    b[i] = rng.nextBoolean() ? (byte) 255 : 0;
                }
            }
            default -> { // smooth, with a constant alpha-ish channel sometimes
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) (i * 255L / Math.max(1, b.length - 1));
                }
            }
        }
        return NdArray.ofUint8(b, shape);
    }

    private void compareResize(Random rng, int cases, int maxIn, int maxOut) {
        int compared = 0;
        for (int i = 0; i < cases; i++) {
            int c = 2 + rng.nextInt(3);
            boolean gray = rng.nextInt(6) == 0;
            int h = 1 + rng.nextInt(maxIn);
            int w = 1 + rng.nextInt(maxIn);
            int th = 1 + rng.nextInt(maxOut);
            int tw = 1 + rng.nextInt(maxOut);
            NdArray img = gray ? randomImage(rng, h, w) : randomImage(rng, h, w, c);
            NdArray want;
            try {
                want = ImageTools.resizeWithPad(img, th, tw, javaKernels);
            } catch (IllegalArgumentException e) { // a resized side of 0: both must refuse
                assertTrue(e.getMessage().contains("must be > 0"), e.getMessage());
                continue;
            }
            NdArray got = ImageTools.resizeWithPad(img, th, tw, nativeKernels);
            assertEquals(want.shape(), got.shape());
            String what = "case " + i + ": " + img.shape() + " -> " + th + "x" + tw;
            assertArrayEquals(want.toByteArray(), got.toByteArray(), what);
            compared++;
        }
        assertTrue(compared > cases / 2, "too few cases compared: " + compared);
    }

    @Test
    void smallRandomImagesWithSimd() {
        ImageNative.wp_set_simd_enabled(1);
        compareResize(new Random(1), 2000, 40, 48);
    }

    @Test
    void smallRandomImagesScalar() {
        ImageNative.wp_set_simd_enabled(0);
        compareResize(new Random(2), 1000, 40, 48);
    }

    @Test
    void largerRandomImages() {
        compareResize(new Random(3), 60, 400, 256);
    }

    @Test
    void extremeAspectRatios() {
        Random rng = new Random(4);
        int[][] sizes = {{1, 3000, 2, 4000}, {3000, 1, 4000, 2}, {1, 1, 300, 1}, {1, 1, 1, 300}, {2, 1000, 7, 999},
                {1000, 2, 999, 7}, {5, 5, 5, 6}, {640, 480, 480, 640}};
        for (int[] s : sizes) {
            for (int c = 2; c <= 4; c++) {
                NdArray img = randomImage(rng, s[0], s[1], c);
                NdArray want = ImageTools.resizeWithPad(img, s[2], s[3], javaKernels);
                NdArray got = ImageTools.resizeWithPad(img, s[2], s[3], nativeKernels);
                assertArrayEquals(want.toByteArray(), got.toByteArray(), img.shape() + " -> " + s[2] + "x" + s[3]);
            }
        }
    }

    @Test
    void concurrentCallsFromParallelStreamsKeepTheirOwnScratch() {
        // Outer parallel calls each run a parallel batch: waiting fork-join workers steal other
        // calls' tasks, so a thread's scratch buffers can be asked for while in use.
        Random rng = new Random(6);
        List<NdArray> inputs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            inputs.add(randomImage(rng, 3, 100 + i * 7, 120 - i * 3, 3)); // >= 64 KB: the parallel path
        }
        List<byte[]> want = inputs.stream()
                .map(img -> ImageTools.resizeWithPad(img, 64, 48, javaKernels).toByteArray()).toList();
        for (int round = 0; round < 5; round++) {
            List<byte[]> got = inputs.parallelStream()
                    .map(img -> ImageTools.resizeWithPad(img, 64, 48, nativeKernels).toByteArray()).toList();
            for (int i = 0; i < inputs.size(); i++) {
                assertArrayEquals(want.get(i), got.get(i), "round " + round + ", input " + i);
            }
        }
    }

    @Test
    void convertToUint8RandomAndSpecialValues() {
        Random rng = new Random(5);
        int n = 20000;
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0, 1.0, 0.5,
                -25.5 / 255, 306.0 / 255, 1e10, -1e10, 8421504.498039216, 8421505.501960784, 8421504.5, -8421504.5,
                -8421505.0, 65504.0, 1e-8, Float.MIN_VALUE};
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = switch (i % 4) {
                case 0 -> specials[rng.nextInt(specials.length)];
                case 1 -> rng.nextDouble();
                case 2 -> (rng.nextDouble() - 0.5) * 20;
                default -> (rng.nextDouble() - 0.5) * Math.scalb(1.0, rng.nextInt(40));
            };
        }
        float[] floats = new float[n];
        short[] halves = new short[n];
        for (int i = 0; i < n; i++) {
            floats[i] = (float) values[i];
            halves[i] = Half.fromFloat(floats[i]);
        }
        ByteBuffer hb = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        hb.asShortBuffer().put(halves);
        NdArray[] inputs = {NdArray.ofFloat64(values), NdArray.ofFloat32(floats),
                NdArray.wrap(DType.FLOAT16, Shape.of(n), hb)};
        for (NdArray in : inputs) {
            byte[] want = ImageTools.convertToUint8(in, javaKernels).toByteArray();
            byte[] got = ImageTools.convertToUint8(in, nativeKernels).toByteArray();
            assertArrayEquals(want, got, in.dtype().str());
        }
    }
}
