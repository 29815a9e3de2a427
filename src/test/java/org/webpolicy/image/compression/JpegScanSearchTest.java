package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

/**
 * The search for the marker after a scan's entropy-coded data (eight bytes at a time) finds the
 * offset a byte-at-a-time walk finds, wherever the 0xFF bytes fall within a word: stuffed bytes
 * (FF 00) and restarts (FF D0-D7) passed over, any other marker found, data without one refused.
 */
class JpegScanSearchTest {

    /** The definition: one byte at a time. */
    private static int reference(byte[] d, int at) {
        int i = at;
        while (i + 1 < d.length) {
            if ((d[i] & 0xFF) == 0xFF) {
                int next = d[i + 1] & 0xFF;
                if (next != 0 && (next < 0xD0 || next > 0xD7)) {
                    return i;
                }
                i += 2;
            } else {
                i++;
            }
        }
        return -1;
    }

    private static int search(byte[] d, int at) {
        try {
            return ImageHeader.afterEntropyData(d, at);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("without an end-of-image marker"), e.getMessage());
            return -1;
        }
    }

    @Test
    void findsWhatAByteAtATimeWalkFinds() {
        Random rng = new Random(22);
        int markers = 0;
        int none = 0;
        for (int trial = 0; trial < 20_000; trial++) {
            byte[] d = new byte[1 + rng.nextInt(80)];
            for (int i = 0; i < d.length; i++) {
                // Bytes near 0xFF often (0xFE and 0x7F catch a borrow or a sign slip in the word test).
                int pick = rng.nextInt(16);
                d[i] = (byte) switch (pick) {
                    case 0, 1 -> 0xFF;
                    case 2 -> 0x00;
                    case 3 -> 0xD0 + rng.nextInt(8);
                    case 4 -> 0xD9;
                    case 5 -> 0xFE;
                    case 6 -> 0x7F;
                    default -> rng.nextInt(256);
                };
            }
            // Most trials: stuffed bytes and restarts only, so the search runs to a late marker or the end.
            if (rng.nextInt(4) != 0) {
                for (int i = 0; i + 1 < d.length; i++) {
                    if ((d[i] & 0xFF) == 0xFF && (d[i + 1] & 0xFF) != 0 && ((d[i + 1] & 0xFF) < 0xD0
                            || (d[i + 1] & 0xFF) > 0xD7)) {
                        d[i + 1] = rng.nextBoolean() ? 0 : (byte) (0xD0 + rng.nextInt(8));
                    }
                }
                if (rng.nextBoolean() && d.length >= 2) {
                    d[d.length - 2] = (byte) 0xFF;
                    d[d.length - 1] = (byte) 0xD9;
                }
            }
            int at = rng.nextInt(d.length);
            int expected = reference(d, at);
            assertEquals(expected, search(d, at), () -> "from " + at + " in " + java.util.HexFormat.of().formatHex(d));
            if (expected < 0) {
                none++;
            } else {
                markers++;
            }
        }
        assertTrue(markers > 5_000 && none > 1_000, markers + " markers found, " + none + " runs without one");
    }

    @Test
    void aMarkerAtEveryPlaceOfAWord() {
        for (int length = 2; length <= 40; length++) {
            for (int place = 0; place + 1 < length; place++) {
                byte[] d = new byte[length];
                java.util.Arrays.fill(d, (byte) 0x5A);
                d[place] = (byte) 0xFF;
                d[place + 1] = (byte) 0xD9;
                for (int at = 0; at <= place; at++) {
                    assertEquals(place, ImageHeader.afterEntropyData(d, at), "length " + length + ", from " + at);
                }
                d[place + 1] = 0;  // stuffed: no marker at all
                assertEquals(-1, search(d, 0), "a stuffed byte at " + place + " of " + length);
            }
        }
    }

    @Test
    void realImagesStillParseAndLoseTheirEnd() {
        Random rng = new Random(5);
        NdArray image = ImageCompressionTest.cameraLike(rng, 96, 128);
        @SuppressWarnings("unchecked")
        Map<String, Object> packed = (Map<String, Object>) ImageCompression.compress(Map.of("cam", image),
                ImageCodec.jpeg(90)).get("cam");
        byte[] jpeg = (byte[]) packed.get("data");
        ImageHeader header = ImageHeader.jpeg(jpeg);
        assertEquals(128, header.width());
        assertEquals(96, header.height());
        byte[] cut = java.util.Arrays.copyOf(jpeg, jpeg.length - 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageHeader.jpeg(cut));
        assertTrue(e.getMessage().contains("without an end-of-image marker"), e.getMessage());
    }
}
