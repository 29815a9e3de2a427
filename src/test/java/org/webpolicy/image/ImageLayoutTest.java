package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * HWC/CHW and RGB/BGR: each backend against an index-by-index reference, Java and native against
 * each other on random shapes (direct and heap input), round trips, and the errors that name the
 * layout seen.
 */
class ImageLayoutTest {

    static java.util.stream.Stream<String> backends() {
        return Backends.names();
    }

    private static NdArray random(Random rng, boolean direct, long... shape) {
        byte[] b = new byte[(int) Shape.of(shape).size()];
        rng.nextBytes(b);
        if (!direct) {
            return NdArray.ofUint8(b, shape);
        }
        ByteBuffer d = ByteBuffer.allocateDirect(b.length);
        d.put(b).flip();
        return NdArray.wrap(DType.UINT8, Shape.of(shape), d);
    }

    /** [n, h, w, c] to [n, c, h, w] by indices, channels 0 and 2 exchanged when asked. */
    private static byte[] referenceHwcToChw(byte[] in, int n, int h, int w, int c, boolean swap) {
        byte[] out = new byte[in.length];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        int from = swap && ch != 1 && ch != 3 ? 2 - ch : ch;
                        out[((i * c + ch) * h + y) * w + x] = in[((i * h + y) * w + x) * c + from];
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void hwcToChwMatchesTheReference(String backend) {
        ImageKernels k = Backends.byName(backend);
        Random rng = new Random(13);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + rng.nextInt(3);
            int h = rng.nextInt(20);
            int w = rng.nextInt(20);
            int c = 1 + rng.nextInt(4);
            boolean swap = c >= 3 && rng.nextBoolean();
            NdArray img = random(rng, rng.nextBoolean(), n, h, w, c);
            byte[] dst = new byte[img.nbytes()];
            k.hwcToChw(img, n, h, w, c, swap, dst);
            String at = backend + " " + n + "x" + h + "x" + w + "x" + c + " swap " + swap;
            assertArrayEquals(referenceHwcToChw(img.toByteArray(), n, h, w, c, swap), dst, at);
            byte[] back = new byte[dst.length];
            k.chwToHwc(NdArray.ofUint8(dst, n, c, h, w), n, h, w, c, swap, back);
            assertArrayEquals(img.toByteArray(), back, "round trip " + at);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void swapRedBlueExchangesChannelsZeroAndTwo(String backend) {
        ImageKernels k = Backends.byName(backend);
        byte[] rgba = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] out = new byte[8];
        k.swapRedBlue(NdArray.ofUint8(rgba, 1, 2, 4), 2, 4, out);
        assertArrayEquals(new byte[] {3, 2, 1, 4, 7, 6, 5, 8}, out);
        byte[] rgb = {10, 20, 30, 40, 50, 60};
        out = new byte[6];
        k.swapRedBlue(NdArray.ofUint8(rgb, 1, 2, 3), 2, 3, out);
        assertArrayEquals(new byte[] {30, 20, 10, 60, 50, 40}, out);
    }

    @Test
    void nativeAndJavaGiveTheSameBytesOnLargeImages() {
        if (Backends.javaOnlyBuild()) {
            assertEquals("java", ImageTools.backendName());
            return;
        }
        Random rng = new Random(7);
        NdArray frame = random(rng, true, 2, 480, 640, 3);
        for (boolean swap : new boolean[] {false, true}) {
            byte[] a = new byte[frame.nbytes()];
            byte[] b = new byte[frame.nbytes()];
            Backends.java().hwcToChw(frame, 2, 480, 640, 3, swap, a);
            Backends.nativeKernels().hwcToChw(frame, 2, 480, 640, 3, swap, b);
            assertArrayEquals(a, b);
            Backends.java().chwToHwc(frame, 2, 480, 640, 3, swap, a);
            Backends.nativeKernels().chwToHwc(frame, 2, 480, 640, 3, swap, b);
            assertArrayEquals(a, b);
        }
        byte[] a = new byte[frame.nbytes()];
        byte[] b = new byte[frame.nbytes()];
        Backends.java().swapRedBlue(frame, 2L * 480 * 640, 3, a);
        Backends.nativeKernels().swapRedBlue(frame, 2L * 480 * 640, 3, b);
        assertArrayEquals(a, b);
    }

    @Test
    void publicMethodsShapeTheirResults() {
        Random rng = new Random(3);
        NdArray hwc = random(rng, false, 2, 5, 7, 3);
        NdArray chw = ImageLayout.hwcToChw(hwc);
        assertEquals(Shape.of(2, 3, 5, 7), chw.shape());
        assertEquals(hwc, ImageLayout.chwToHwc(chw));
        NdArray rgbChw = ImageLayout.hwcToChw(hwc, true);
        assertEquals(ImageLayout.hwcToChw(ImageLayout.swapRedBlue(hwc)), rgbChw);
        assertEquals(hwc, ImageLayout.chwToHwc(rgbChw, true));
        assertEquals(hwc, ImageLayout.swapRedBlue(ImageLayout.swapRedBlue(hwc)));
        assertEquals(Shape.of(0, 3, 5, 7), ImageLayout.hwcToChw(NdArray.zeros(DType.UINT8, 0, 5, 7, 3)).shape());
    }

    @Test
    void errorsNameTheLayoutSeenAndWhatToCall() {
        NdArray chw = NdArray.zeros(DType.UINT8, 3, 224, 224);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.hwcToChw(chw));
        assertTrue(e.getMessage().contains("(3, 224, 224)") && e.getMessage().contains("channels-first (CHW)")
                && e.getMessage().contains("chwToHwc"), e.getMessage());
        NdArray hwc = NdArray.zeros(DType.UINT8, 224, 224, 3);
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.chwToHwc(hwc));
        assertTrue(e.getMessage().contains("channels-last (HWC)") && e.getMessage().contains("hwcToChw"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.swapRedBlue(chw));
        assertTrue(e.getMessage().contains("3 or 4 channels") && e.getMessage().contains("chwToHwc first"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.swapRedBlue(NdArray.zeros(DType.UINT8, 4, 4, 2)));
        assertTrue(e.getMessage().contains("3 or 4 channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.hwcToChw(NdArray.zeros(DType.FLOAT32, 4, 4, 3)));
        assertTrue(e.getMessage().contains("uint8") && e.getMessage().contains("convertToUint8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.hwcToChw(NdArray.zeros(DType.UINT8, 4, 4)));
        assertTrue(e.getMessage().contains("grayscale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageLayout.hwcToChw(NdArray.zeros(DType.UINT8, 4, 4, 1),
                true));
        assertTrue(e.getMessage().contains("3 or 4 channels"), e.getMessage());
    }

    @Test
    void resizeWithPadNamesAChannelsFirstInputAndWhatToCall() {
        NdArray chw = NdArray.zeros(DType.UINT8, 3, 480, 640);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(chw, 224, 224));
        assertTrue(e.getMessage().contains("(3, 480, 640)") && e.getMessage().contains("channels-first (CHW")
                && e.getMessage().contains("ImageLayout.chwToHwc"), e.getMessage());
        NdArray batch = NdArray.zeros(DType.UINT8, 2, 4, 48, 64);
        e = assertThrows(IllegalArgumentException.class, () -> ImageTools.resizeWithPad(batch, 24, 24));
        assertTrue(e.getMessage().contains("channels-first"), e.getMessage());
    }
}
