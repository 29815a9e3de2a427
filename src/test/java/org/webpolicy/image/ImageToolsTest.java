package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/** Shapes, edge cases and errors of {@link ImageTools}, through both implementations. */
class ImageToolsTest {

    static java.util.stream.Stream<String> backends() {
        return Backends.names();
    }

    private static String message(Class<? extends Throwable> type, Runnable r) {
        return assertThrows(type, r::run).getMessage();
    }

    @ParameterizedTest
    @MethodSource("backends")
    void errorsNameTheProblem(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray rgb = NdArray.zeros(DType.UINT8, 20, 30, 3);
        assertTrue(message(IllegalArgumentException.class, () -> ImageTools.resizeWithPad(rgb, 0, 10, k))
                .contains("Target size must be positive"));
        assertTrue(message(IllegalArgumentException.class, () -> ImageTools.resizeWithPad(rgb, 10, -1, k))
                .contains("Target size must be positive"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 1, 1000, 3), 224, 224, k))
                .contains("1x1000 image to fit 224x224 gives a 0x224 image"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 20, 30, 1), 60, 80, k))
                .contains("Single-channel"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 20, 30, 5), 60, 80, k))
                .contains("got 5"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.FLOAT32, 20, 30, 3), 60, 80, k))
                .contains("uint8"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.INT8, 20, 30, 3), 60, 80, k))
                .contains("got int8"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 30), 60, 80, k))
                .contains("[..., h, w, c] or [h, w]"));
        assertTrue(message(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 0, 30, 3), 60, 80, k))
                .contains("must be > 0"));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void sameSizeReturnsTheInputItself(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray f = NdArray.zeros(DType.FLOAT32, 2, 60, 80, 1);
        assertSame(f, ImageTools.resizeWithPad(f, 60, 80, k), "Python checks the size before anything else");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void grayscaleKeepsThePythonQuirk(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray gray = NativeMatchesJavaTest.randomImage(new Random(9), 60, 80);
        NdArray out = ImageTools.resizeWithPad(gray, 60, 80, k);
        assertEquals(Shape.of(1, 60, 80), out.shape());
        assertArrayEquals(gray.toByteArray(), out.toByteArray(), "a same-size grayscale image is copied");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void batchDimensionsAreKeptAndEachImageIsResizedAlone(String backend) {
        ImageKernels k = Backends.byName(backend);
        Random rng = new Random(10);
        // Large enough to go through the parallel path.
        NdArray batch = NativeMatchesJavaTest.randomImage(rng, 2, 3, 120, 160, 3);
        NdArray out = ImageTools.resizeWithPad(batch, 64, 64, k);
        assertEquals(Shape.of(2, 3, 64, 64, 3), out.shape());
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                NdArray one = ImageTools.resizeWithPad(batch.slice(i).slice(j), 64, 64, k);
                assertArrayEquals(one.toByteArray(), out.slice(i).slice(j).toByteArray(), "image " + i + "," + j);
            }
        }
        NdArray empty = ImageTools.resizeWithPad(NdArray.zeros(DType.UINT8, 0, 10, 10, 3), 20, 20, k);
        assertEquals(Shape.of(0, 20, 20, 3), empty.shape());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void onePixelImagesSpreadEverywhere(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray px = NdArray.ofUint8(new byte[] {10, (byte) 200, 33}, 1, 1, 3);
        NdArray out = ImageTools.resizeWithPad(px, 5, 7, k);
        byte[] b = out.toByteArray();
        // 1x1 into 5x7: ratio 0.2, resized 5x5 at left 1; columns 0 and 6 stay zero.
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                int p = (y * 7 + x) * 3;
                boolean inside = x >= 1 && x <= 5;
                assertEquals(inside ? 10 : 0, b[p] & 0xff, "pixel " + y + "," + x);
                assertEquals(inside ? 200 : 0, b[p + 1] & 0xff);
                assertEquals(inside ? 33 : 0, b[p + 2] & 0xff);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void constantImagesStayConstantUpDownAndMixed(String backend) {
        ImageKernels k = Backends.byName(backend);
        // Normalised weights sum to 2^22 (+- rounding), so a flat image stays flat in every direction.
        int[][] cases = {{7, 9, 100, 120}, {300, 200, 17, 13}, {10, 400, 50, 60}, {400, 10, 60, 50}};
        for (int[] s : cases) {
            byte[] flat = new byte[s[0] * s[1] * 4];
            for (int i = 0; i < flat.length; i++) {
                flat[i] = (byte) (i % 4 == 3 ? 255 : 77 + i % 4);
            }
            NdArray out = ImageTools.resizeWithPad(NdArray.ofUint8(flat, s[0], s[1], 4), s[2], s[3], k);
            ResizeGeometry g = ResizeGeometry.of(s[0], s[1], s[2], s[3]);
            byte[] b = out.toByteArray();
            for (int y = 0; y < g.resizedHeight(); y++) {
                for (int x = 0; x < g.resizedWidth(); x++) {
                    int p = ((y + g.top()) * s[3] + x + g.left()) * 4;
                    assertEquals(77, b[p] & 0xff);
                    assertEquals(78, b[p + 1] & 0xff);
                    assertEquals(79, b[p + 2] & 0xff);
                    assertEquals(255, b[p + 3] & 0xff);
                }
            }
        }
    }

    @Test
    void geometryLosesARowOrColumnLikePython() {
        assertEquals(new ResizeGeometry(40, 58, 224, 224, 154, 223, 35, 0), ResizeGeometry.of(40, 58, 224, 224));
        assertEquals(new ResizeGeometry(46, 46, 60, 80, 59, 59, 0, 10), ResizeGeometry.of(46, 46, 60, 80));
        assertEquals(new ResizeGeometry(480, 640, 224, 224, 168, 224, 28, 0), ResizeGeometry.of(480, 640, 224, 224));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void convertToUint8FollowsNumpyOnX86(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray in = NdArray.ofFloat64(new double[] {-25.5 / 255, 306.0 / 255, 1e10 / 255, 0.5, Double.NaN, -0.0});
        byte[] out = ImageTools.convertToUint8(in, k).toByteArray();
        assertArrayEquals(new byte[] {(byte) 231, 50, 0, 127, 0, 0}, out);
        NdArray ints = NdArray.ofInt32(new int[] {1, 2, 3});
        assertSame(ints, ImageTools.convertToUint8(ints, k));
        // Big-endian floats are read in their own byte order.
        ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN);
        be.putFloat(0.5f).putFloat(1.0f).flip();
        NdArray big = NdArray.wrap(DType.parse(">f4"), Shape.of(2), be);
        assertArrayEquals(new byte[] {127, (byte) 255}, ImageTools.convertToUint8(big, k).toByteArray());
        NdArray out2 = ImageTools.convertToUint8(NdArray.ofFloat32(new float[] {0.25f, 1f, 0f, 0.5f}, 2, 2), k);
        assertEquals(Shape.of(2, 2), out2.shape());
        assertEquals(DType.UINT8, out2.dtype());
    }
}
