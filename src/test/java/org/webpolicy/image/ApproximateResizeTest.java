package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * The OpenCV mode: same geometry and padding as the exact resize, pixels close to Pillow's on
 * smooth images (bounds from the numbers in docs/IMAGE.md, with margin), never the default.
 */
class ApproximateResizeTest {

    static NdArray smooth(int h, int w, int c) {
        byte[] b = new byte[h * w * c];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < c; ch++) {
                    double v = 127.5 + 120 * Math.sin(x / 37.0 + ch) * Math.cos(y / 23.0);
                    b[(y * w + x) * c + ch] = (byte) (int) v;
                }
            }
        }
        return NdArray.ofUint8(b, h, w, c);
    }

    /** Largest absolute difference between two uint8 arrays. */
    static int maxDiff(NdArray a, NdArray b) {
        byte[] x = a.toByteArray();
        byte[] y = b.toByteArray();
        int max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs((x[i] & 0xff) - (y[i] & 0xff)));
        }
        return max;
    }

    @Test
    void sameGeometryAndCloseToPillowOnSmoothImages() {
        NdArray img = smooth(480, 640, 3);
        NdArray exact = ImageTools.resizeWithPad(img, 224, 224, Backends.java());
        for (ApproximateFilter f : ApproximateFilter.values()) {
            NdArray approx = ImageTools.resizeWithPadApproximate(img, 224, 224, f);
            assertEquals(Shape.of(224, 224, 3), approx.shape());
            int d = maxDiff(exact, approx);
            assertTrue(d <= 4, f + " differs from Pillow by " + d + " on a smooth image");
            byte[] b = approx.toByteArray();
            for (int i = 0; i < 28 * 224 * 3; i++) { // 480x640 -> 168x224 pasted at row 28
                assertEquals(0, b[i], "padding at " + i);
                assertEquals(0, b[b.length - 1 - i], "padding at the bottom " + i);
            }
        }
    }

    @Test
    void batchesAndErrorsAsTheExactResize() {
        Random rng = new Random(3);
        NdArray batch = NativeMatchesJavaTest.randomImage(rng, 3, 60, 80, 4);
        NdArray out = ImageTools.resizeWithPadApproximate(batch, 30, 30, ApproximateFilter.AREA);
        assertEquals(Shape.of(3, 30, 30, 4), out.shape());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ImageTools.resizeWithPadApproximate(
                NdArray.zeros(DType.FLOAT32, 5, 5, 3), 10, 10, ApproximateFilter.LINEAR)).getMessage().contains("uint8"));
    }
}
