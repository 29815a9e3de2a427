package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageLayout;
import org.webpolicy.internal.nativelib.JpegNative;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * JPEG through libjpeg-turbo against the JDK codec: chosen when the build linked it, the same
 * quality tables and wire format both ways, decoded pixels within a level or two of the JDK's,
 * round trips within the error {@link ImageCompressionTest} allows, the header checks still in
 * front of it, stopping between bands, and the JDK codec when the native library is off.
 */
class NativeJpegCodecTest {

    /** Set by the pom: the build's {@code webpolicy.native.skip}. */
    private static final String NATIVE_SKIPPED = "webpolicy.test.nativeSkipped";
    /** Set by the pom: the define the host library was built with, {@code -DWP_HAVE_JPEG=0} or {@code =1}. */
    private static final String JPEG_BUILT = "webpolicy.test.jpegHost";

    private static <T> T with(String nativeMode, Supplier<T> body) {
        String before = System.getProperty(NativeLibrary.PROPERTY);
        System.setProperty(NativeLibrary.PROPERTY, nativeMode);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(NativeLibrary.PROPERTY);
            } else {
                System.setProperty(NativeLibrary.PROPERTY, before);
            }
        }
    }

    private static byte[] pixels(NdArray a) {
        return a.toByteArray();
    }

    private static Map<?, ?> compressed(NdArray image, ImageCodec codec, String nativeMode) {
        return (Map<?, ?>) with(nativeMode, () -> ImageCompression.compress(Map.of("cam", image), codec)).get("cam");
    }

    private static NdArray decompressed(Map<?, ?> value, String nativeMode) {
        return (NdArray) with(nativeMode, () -> ImageCompression.decompress(Map.of("cam", value))).get("cam");
    }

    /** The DQT segments of a JPEG, concatenated: the quantisation tables, which the quality sets. */
    private static byte[] quantTables(byte[] jpeg) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 2;
        while (at + 4 <= jpeg.length && (jpeg[at + 1] & 0xFF) != 0xDA) {
            int length = (jpeg[at + 2] & 0xFF) << 8 | (jpeg[at + 3] & 0xFF);
            if ((jpeg[at + 1] & 0xFF) == 0xDB) {
                out.write(jpeg, at + 4, length - 2);
            }
            at += 2 + length;
        }
        return out.toByteArray();
    }

    private static int maxDiff(byte[] a, byte[] b) {
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        return max;
    }

    @Test
    void theNativeCodecRunsExactlyWhenTheBuildLinkedLibjpegTurbo() {
        boolean skipped = Boolean.getBoolean(NATIVE_SKIPPED);
        String built = System.getProperty(JPEG_BUILT, "");
        assertTrue(skipped || built.startsWith("-DWP_HAVE_JPEG="), "the pom passes the JPEG build flag, got '" + built + "'");
        boolean expectNative = !skipped && built.equals("-DWP_HAVE_JPEG=1");
        assertEquals(expectNative ? "libjpeg-turbo" : "javax.imageio", with("auto", ImageCompression::jpegCodecName));
        assertEquals("javax.imageio", with("off", ImageCompression::jpegCodecName));
        if (!skipped) {
            assertEquals(expectNative, with("on", JpegNative::available));
        }
    }

    @Test
    void withTheNativeLibraryOffJpegStillRoundTripsThroughTheJdk() {
        NdArray image = ImageCompressionTest.cameraLike(new Random(4), 96, 128);
        Map<?, ?> value = compressed(image, ImageCodec.jpeg(), "off");
        NdArray back = decompressed(value, "off");
        assertEquals(image.shape(), back.shape());
        assertTrue(maxDiff(pixels(image), pixels(back)) > 0, "JPEG is lossy");
        // The JDK decodes what the JDK wrote, byte for byte the same way each time.
        assertArrayEquals(pixels(back), pixels(decompressed(value, "off")));
    }

    @Test
    @DisabledIfSystemProperty(named = JPEG_BUILT, matches = "-DWP_HAVE_JPEG=0",
            disabledReason = "built without libjpeg-turbo: theNativeCodecRunsExactlyWhenTheBuildLinkedLibjpegTurbo checks the JDK runs")
    @DisabledIfSystemProperty(named = NATIVE_SKIPPED, matches = "true",
            disabledReason = "Java-only build (webpolicy.native.skip): no native library")
    void nativeAndJdkWriteTheSameTablesAndReadEachOther() {
        Random rng = new Random(8);
        for (int[] size : new int[][] {{224, 224}, {17, 33}, {480, 640}}) {
            NdArray rgb = ImageCompressionTest.cameraLike(rng, size[0], size[1]);
            byte[] rgbPixels = pixels(rgb);
            byte[] grey = new byte[size[0] * size[1]];
            for (int i = 0; i < grey.length; i++) {
                grey[i] = rgbPixels[3 * i + 1];
            }
            for (NdArray image : List.of(rgb, NdArray.ofUint8(grey, size[0], size[1], 1))) {
                for (int quality : new int[] {50, 90, 100}) {
                    String what = image.shape() + " q" + quality;
                    ImageCodec codec = ImageCodec.jpeg(quality);
                    byte[] fromNative = (byte[]) compressed(image, codec, "on").get("data");
                    byte[] fromJdk = (byte[]) compressed(image, codec, "off").get("data");
                    assertArrayEquals(quantTables(fromJdk), quantTables(fromNative), what + ": quantisation tables");
                    assertEquals(fromJdk.length, fromNative.length, fromJdk.length * 0.1, what + ": size");
                    // Each decoder reads each encoder's output; the two decoders agree within 2 levels.
                    for (byte[] jpeg : List.of(fromNative, fromJdk)) {
                        Map<String, Object> value = HostileImages.value("jpeg",
                                List.of(image.shape().dim(0), image.shape().dim(1), image.shape().dim(2)), jpeg);
                        byte[] n = pixels(decompressed(value, "on"));
                        byte[] j = pixels(decompressed(value, "off"));
                        assertTrue(maxDiff(n, j) <= 2, what + ": libjpeg-turbo and the JDK differ by " + maxDiff(n, j));
                    }
                }
            }
        }
    }

    @Test
    @DisabledIfSystemProperty(named = JPEG_BUILT, matches = "-DWP_HAVE_JPEG=0",
            disabledReason = "built without libjpeg-turbo: theNativeCodecRunsExactlyWhenTheBuildLinkedLibjpegTurbo checks the JDK runs")
    @DisabledIfSystemProperty(named = NATIVE_SKIPPED, matches = "true",
            disabledReason = "Java-only build (webpolicy.native.skip): no native library")
    void nativeRoundTripsHwcAndChwWithinTheJdksError() {
        NdArray image = ImageCompressionTest.cameraLike(new Random(8), 224, 224);
        NdArray chw = ImageLayout.hwcToChw(image);
        Map<String, Object> packed = with("on", () -> ImageCompression.compress(Map.of("hwc", image, "chw", chw),
                ImageCodec.jpeg(90)));
        Map<String, Object> back = with("on", () -> ImageCompression.decompress(
                ImageCompressionTest.roundTripThroughMsgpack(packed)));
        byte[] a = pixels(image);
        byte[] b = pixels((NdArray) back.get("hwc"));
        long sum = 0;
        int[] histogram = new int[256];
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
            sum += d;
            histogram[d]++;
        }
        int p99 = 0;
        for (int seen = 0; seen < a.length * 0.99; p99++) {
            seen += histogram[p99];
        }
        double mean = (double) sum / a.length;
        // The bounds of ImageCompressionTest's JDK round trip.
        assertTrue(mean < 3.0, "mean |diff| " + mean);
        assertTrue(p99 - 1 <= 24, "p99 |diff| " + (p99 - 1));
        assertEquals(ImageLayout.hwcToChw((NdArray) back.get("hwc")), back.get("chw"), "CHW decodes like its HWC twin");
    }

    @Test
    @DisabledIfSystemProperty(named = JPEG_BUILT, matches = "-DWP_HAVE_JPEG=0",
            disabledReason = "built without libjpeg-turbo: theNativeCodecRunsExactlyWhenTheBuildLinkedLibjpegTurbo checks the JDK runs")
    @DisabledIfSystemProperty(named = NATIVE_SKIPPED, matches = "true",
            disabledReason = "Java-only build (webpolicy.native.skip): no native library")
    void hostileJpegsAreRefusedBeforeTheNativeDecoderSeesThem() {
        NdArray image = ImageCompressionTest.cameraLike(new Random(5), 64, 64);
        Map<?, ?> good = compressed(image, ImageCodec.jpeg(), "on");
        byte[] jpeg = (byte[]) good.get("data");
        List<Long> shape = List.of(64L, 64L, 3L);
        // Truncated: refused by the structure walk.
        assertMentions(refusedNative(HostileImages.value("jpeg", shape, Arrays.copyOf(jpeg, jpeg.length / 2))), "truncated");
        // Progressive: refused from its frame header, before the decoder makes a pass.
        byte[] progressive = HostileImages.progressiveJpegWithEmptyScans(4096, 100);
        assertMentions(refusedNative(HostileImages.value("jpeg", List.of(4096L, 4096L, 1L), progressive)), "progressive");
        // Huge dimensions: over the pixel limit from the declared shape...
        assertMentions(refusedNative(HostileImages.value("jpeg", List.of(60000L, 60000L, 3L), jpeg)),
                "declared 60000x60000 pixels");
        // ...and a header claiming more than the shape.
        byte[] claims = jpeg.clone();
        int sof = indexOf(claims, (byte) 0xFF, (byte) 0xC0);
        claims[sof + 5] = (byte) 0xEA;
        claims[sof + 6] = (byte) 0x60;
        assertMentions(refusedNative(HostileImages.value("jpeg", shape, claims)), "header says 60000x64x3");
        // Scan data cut short behind a whole structure: the decoder's own warning refuses it.
        int sos = indexOf(jpeg, (byte) 0xFF, (byte) 0xDA);
        int dataStart = sos + 2 + ((jpeg[sos + 2] & 0xFF) << 8 | (jpeg[sos + 3] & 0xFF));
        byte[] cut = Arrays.copyOf(jpeg, dataStart + (jpeg.length - dataStart) / 3 + 2);
        if ((cut[cut.length - 3] & 0xFF) == 0xFF) {
            cut[cut.length - 3] = 0;
        }
        cut[cut.length - 2] = (byte) 0xFF;
        cut[cut.length - 1] = (byte) 0xD9;
        assertMentions(refusedNative(HostileImages.value("jpeg", shape, cut)), "corrupt or truncated");
        // The native decoder refuses a progressive frame itself too, for a caller that skipped the walk.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> with("on", () -> JpegNative.decode(HostileImages.progressiveJpegWithEmptyScans(64, 1), 64, 64, 1,
                        () -> false)));
        assertMentions(e.getMessage(), "not a sequential Huffman 8-bit JPEG");
    }

    @Test
    @DisabledIfSystemProperty(named = JPEG_BUILT, matches = "-DWP_HAVE_JPEG=0",
            disabledReason = "built without libjpeg-turbo: theNativeCodecRunsExactlyWhenTheBuildLinkedLibjpegTurbo checks the JDK runs")
    @DisabledIfSystemProperty(named = NATIVE_SKIPPED, matches = "true",
            disabledReason = "Java-only build (webpolicy.native.skip): no native library")
    void aStopRequestEndsTheNativeDecodeBetweenBands() {
        NdArray image = ImageCompressionTest.cameraLike(new Random(6), 1024, 1024);
        Map<String, Object> obs = Map.of("cam", compressed(image, ImageCodec.jpeg(), "on"));
        ImageDecodePlan plan = ImageDecodePlan.of(obs, ImageCompression.Limits.DEFAULT);
        AtomicInteger polls = new AtomicInteger();
        assertThrows(CancellationException.class, () -> with("on", () -> plan.decode(() -> polls.incrementAndGet() > 3)));
        // Once before the image and once per band of 64 rows: it stopped at the first "yes".
        assertEquals(4, polls.get());
        Map<String, Object> out = with("on", () -> plan.decode(() -> false));
        assertEquals(Shape.of(1024, 1024, 3), ((NdArray) out.get("cam")).shape());
        assertFalse(Arrays.equals(new byte[1024 * 1024 * 3], pixels((NdArray) out.get("cam"))));
    }

    private static String refusedNative(Map<String, Object> value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> with("on", () -> ImageCompression.decompress(Map.of("cam", value))));
        assertTrue(e.getMessage().startsWith("Compressed image at cam: "), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String part) {
        assertTrue(message.contains(part), "'" + part + "' not in: " + message);
    }

    private static int indexOf(byte[] d, byte a, byte b) {
        for (int i = 0; i + 1 < d.length; i++) {
            if (d[i] == a && d[i + 1] == b) {
                return i;
            }
        }
        throw new AssertionError("marker not found");
    }
}
