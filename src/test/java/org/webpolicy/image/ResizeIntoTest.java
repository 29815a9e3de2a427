package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/**
 * The resize into the caller's memory (heap and direct buffers, at an offset, reused over dirty
 * bytes) and from direct input gives exactly the allocating resize's bytes, on both backends, and
 * touches nothing outside its region. The same geometry many times in a row (cached coefficients)
 * and alternating geometries give the same bytes as the first call.
 */
class ResizeIntoTest {

    static java.util.stream.Stream<String> backends() {
        return Backends.names();
    }

    private static NdArray direct(NdArray a) {
        ByteBuffer d = ByteBuffer.allocateDirect(a.nbytes());
        d.put(a.data()).flip();
        return NdArray.wrap(a.dtype(), a.shape(), d);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void intoHeapAndDirectBuffersMatchesTheAllocatingResize(String backend) {
        ImageKernels k = Backends.byName(backend);
        Random rng = new Random(11);
        for (int trial = 0; trial < 60; trial++) {
            int c = 2 + rng.nextInt(3);
            int n = 1 + rng.nextInt(3);
            NdArray img = NativeMatchesJavaTest.randomImage(rng, n, 1 + rng.nextInt(90), 1 + rng.nextInt(90), c);
            int th = 1 + rng.nextInt(40);
            int tw = 1 + rng.nextInt(40);
            NdArray expected;
            try {
                expected = ImageTools.resizeWithPad(img, th, tw, JavaImageKernels.INSTANCE);
            } catch (IllegalArgumentException zeroSide) {
                continue;
            }
            int bytes = (int) ImageTools.resizeWithPadShape(img.shape(), th, tw).size();
            int offset = rng.nextInt(5);
            for (boolean directOut : new boolean[] {false, true}) {
                ByteBuffer out = directOut ? ByteBuffer.allocateDirect(bytes + offset + 3) : ByteBuffer.allocate(bytes + offset + 3);
                byte[] dirt = new byte[out.capacity()];
                Arrays.fill(dirt, (byte) 0x5A);
                out.put(dirt).position(offset);
                NdArray input = rng.nextBoolean() ? direct(img) : img;
                NdArray got = ImageTools.resizeWithPad(input, th, tw, out, k);
                String at = backend + " " + img.shape() + " -> " + th + "x" + tw + " direct out " + directOut;
                assertEquals(offset, out.position(), at);
                assertEquals(expected.shape(), got.shape(), at);
                assertArrayEquals(expected.toByteArray(), got.toByteArray(), at);
                for (int i = 0; i < offset; i++) {
                    assertEquals(0x5A, out.get(i), at + ": byte before the region");
                }
                for (int i = offset + bytes; i < out.capacity(); i++) {
                    assertEquals(0x5A, out.get(i), at + ": byte after the region");
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void repeatedAndAlternatingGeometriesGiveTheFirstCallsBytes(String backend) {
        ImageKernels k = Backends.byName(backend);
        Random rng = new Random(5);
        NdArray[] images = new NdArray[10];
        NdArray[] first = new NdArray[10];
        for (int i = 0; i < images.length; i++) {
            images[i] = NativeMatchesJavaTest.randomImage(rng, 30 + 7 * i, 50 + 3 * i, 3);
            first[i] = ImageTools.resizeWithPad(images[i], 24, 32, JavaImageKernels.INSTANCE);
        }
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < images.length; i++) {
                NdArray got = ImageTools.resizeWithPad(images[i], 24, 32, k);
                assertArrayEquals(first[i].toByteArray(), got.toByteArray(), backend + " image " + i + " round " + round);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void sameSizeInputIsCopiedIntoTheBuffer(String backend) {
        NdArray img = NativeMatchesJavaTest.randomImage(new Random(1), 24, 32, 3);
        ByteBuffer out = ByteBuffer.allocate(img.nbytes());
        NdArray got = ImageTools.resizeWithPad(img, 24, 32, out, Backends.byName(backend));
        assertArrayEquals(img.toByteArray(), out.array());
        assertEquals(img, got);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void badOutputBuffersAreRefusedWithTheSizeNeeded(String backend) {
        ImageKernels k = Backends.byName(backend);
        NdArray img = NdArray.zeros(DType.UINT8, 48, 64, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(img, 24, 24, ByteBuffer.allocate(100), k));
        assertTrue(e.getMessage().contains("100 bytes remaining") && e.getMessage().contains("1728"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ImageTools.resizeWithPad(img, 24, 24, ByteBuffer.allocate(5000).asReadOnlyBuffer(), k));
        assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        assertEquals(Shape.of(1, 24, 24), ImageTools.resizeWithPadShape(Shape.of(48, 64), 24, 24));
    }
}
