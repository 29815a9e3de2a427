package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

/**
 * Compressed images that lie: each is refused with an {@link IllegalArgumentException} naming the
 * key path and the problem, and a huge claimed size is refused from the header, before a decoder
 * allocates anything.
 */
class HostileImageTest {

    private static Map<String, Object> valid(ImageCodec codec) {
        Random rng = new Random(4);
        NdArray img = ImageCompressionTest.cameraLike(rng, 32, 48);
        @SuppressWarnings("unchecked")
        Map<String, Object> packed = (Map<String, Object>) ImageCompression.compress(Map.of("cam", img), codec).get("cam");
        return new LinkedHashMap<>(packed);
    }

    private static String refused(Consumer<Map<String, Object>> lie, ImageCodec codec) {
        Map<String, Object> image = valid(codec);
        lie.accept(image);
        Map<String, Object> obs = Map.of("images", Map.of("cam_high", image));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCompression.decompress(ImageCompressionTest.roundTripThroughMsgpack(obs)));
        assertTrue(e.getMessage().startsWith("Compressed image at images/cam_high: "), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' not in: " + message);
        }
    }

    @Test
    void anObservationMarkedAsOneImageIsRefusedByName() {
        Map<String, Object> whole = valid(ImageCodec.PNG);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCompression.decompress(ImageCompressionTest.roundTripThroughMsgpack(whole)));
        assertMentions(e.getMessage(), "observation itself", ImageCompression.MARKER);
    }

    @Test
    void malformedFieldsAreNamed() {
        assertMentions(refused(m -> m.put("codec", "gif"), ImageCodec.PNG), "codec must be");
        assertMentions(refused(m -> m.put(ImageCompression.MARKER, false), ImageCodec.PNG), "must be true");
        assertMentions(refused(m -> m.put("extra", 1L), ImageCodec.PNG), "unexpected key 'extra'");
        assertMentions(refused(m -> m.remove("data"), ImageCodec.PNG), "data must be bytes");
        assertMentions(refused(m -> m.put("data", "text"), ImageCodec.PNG), "data must be bytes");
        assertMentions(refused(m -> m.put("dtype", "<f4"), ImageCodec.PNG), "dtype must be");
        assertMentions(refused(m -> m.put("layout", "nhwc"), ImageCodec.PNG), "layout must be");
        assertMentions(refused(m -> m.put("shape", List.of(32L, 48L)), ImageCodec.PNG), "list of 3 integers");
        assertMentions(refused(m -> m.put("shape", List.of(32L, -48L, 3L)), ImageCodec.PNG), "positive integers");
        assertMentions(refused(m -> m.put("shape", List.of(32L, 48L, "3")), ImageCodec.PNG), "positive integers");
        assertMentions(refused(m -> m.put("shape", List.of(32L, 48L, 2L)), ImageCodec.PNG), "2 channels");
    }

    @Test
    void headersThatDisagreeWithTheShapeAreRefusedBeforeDecoding() {
        assertMentions(refused(m -> m.put("shape", List.of(33L, 48L, 3L)), ImageCodec.PNG), "header says 32x48x3");
        assertMentions(refused(m -> m.put("shape", List.of(32L, 48L, 1L)), ImageCodec.jpeg()), "header says 32x48x3");
        assertMentions(refused(m -> m.put("codec", "jpeg"), ImageCodec.PNG), "not a JPEG");
        assertMentions(refused(m -> m.put("codec", "png"), ImageCodec.jpeg()), "not a PNG");
    }

    @Test
    void hugeClaimsAreRefusedFromTheHeaderAndTheLimit() {
        // Declared 60000x60000 (3.6 gigapixels): over the default limit, refused without decoding.
        assertMentions(refused(m -> m.put("shape", List.of(60000L, 60000L, 3L)), ImageCodec.PNG),
                "declared 60000x60000 pixels");
        // A PNG whose header claims 60000x60000 while the shape claims 32x48: the header check refuses it.
        assertMentions(refused(m -> m.put("data", pngWithSize((byte[]) m.get("data"), 60000, 60000)), ImageCodec.PNG),
                "header says 60000x60000x3");
        // Within the default limit but over a tighter one.
        Map<String, Object> image = valid(ImageCodec.PNG);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCompression.decompress(Map.of("cam", image), new ImageCompression.Limits(1000)));
        assertMentions(e.getMessage(), "outside 1 to 1000");
        // More compressed bytes than any honest encoder writes for the declared size.
        assertMentions(refused(m -> m.put("data", Arrays.copyOf((byte[]) m.get("data"), 4 * 32 * 48 * 3 + 65537)),
                ImageCodec.PNG), "is too many");
    }

    @Test
    void brokenDataIsRefusedWithTheDecodersReason() {
        assertMentions(refused(m -> m.put("data", new byte[10]), ImageCodec.PNG), "too short");
        assertMentions(refused(m -> m.put("data", new byte[100]), ImageCodec.jpeg()), "not a JPEG");
        assertMentions(refused(m -> {
            byte[] d = (byte[]) m.get("data");
            m.put("data", Arrays.copyOf(d, d.length / 2));
        }, ImageCodec.PNG), "truncated");
        assertMentions(refused(m -> {
            byte[] d = (byte[]) m.get("data");
            m.put("data", Arrays.copyOf(d, 40));
        }, ImageCodec.jpeg()), "JPEG");
        assertMentions(refused(m -> {
            byte[] d = ((byte[]) m.get("data")).clone();
            d[24] = 16; // bit depth 16
            m.put("data", d);
        }, ImageCodec.PNG), "16 bits per sample");
        assertMentions(refused(m -> {
            byte[] d = ((byte[]) m.get("data")).clone();
            d[25] = 3; // palette
            m.put("data", d);
        }, ImageCodec.PNG), "colour type 3");
        // Random bytes after a valid PNG header: the decoder fails, the error is ours.
        Random rng = new Random(9);
        for (int i = 0; i < 20; i++) {
            String msg = refused(m -> {
                byte[] d = ((byte[]) m.get("data")).clone();
                for (int j = 40; j < d.length; j++) {
                    d[j] = (byte) rng.nextInt();
                }
                m.put("data", d);
            }, ImageCodec.PNG);
            assertMentions(msg.toLowerCase(java.util.Locale.ROOT), "png"); // the structure check or the decoder
        }
    }

    @Test
    void aJpegFrameOfFourComponentsIsRefused() {
        Map<String, Object> image = valid(ImageCodec.jpeg());
        byte[] d = ((byte[]) image.get("data")).clone();
        for (int i = 2; i + 9 < d.length; i++) {
            if ((d[i] & 0xFF) == 0xFF && (d[i + 1] & 0xFF) == 0xC0) {
                d[i + 9] = 4;
                break;
            }
        }
        image.put("data", d);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCompression.decompress(Map.of("cam", image)));
        assertMentions(e.getMessage(), "4 components");
        assertEquals("Compressed image at cam: JPEG of 4 components is not one we send (1 or 3)", e.getMessage());
    }

    /** {@code png} with its IHDR width and height replaced (and its CRC fixed, so only the size lies). */
    private static byte[] pngWithSize(byte[] png, int width, int height) {
        byte[] d = png.clone();
        writeInt(d, 16, width);
        writeInt(d, 20, height);
        CRC32 crc = new CRC32();
        crc.update(d, 12, 17);
        writeInt(d, 29, (int) crc.getValue());
        return d;
    }

    private static void writeInt(byte[] d, int at, int v) {
        d[at] = (byte) (v >>> 24);
        d[at + 1] = (byte) (v >>> 16);
        d[at + 2] = (byte) (v >>> 8);
        d[at + 3] = (byte) v;
    }
}
