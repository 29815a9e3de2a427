package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * The bounds of issue 19 on decoding: what our encoder never writes (progressive JPEG, extra
 * scans), truncated or corrupt data, too many images, and memory beyond the charge are refused
 * or prevented before the work is spent; our own encoder's images always pass.
 */
class ImageDecodeBoundsTest {

    private static String refused(Map<String, Object> image) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageCompression.decompress(Map.of("cam", image)));
        assertTrue(e.getMessage().startsWith("Compressed image at cam: "), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' not in: " + message);
        }
    }

    private static byte[] imageIo(BufferedImage image, boolean progressive) throws Exception {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    private static Map<String, Object> jpegOf(int h, int w, boolean progressive) throws Exception {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        new Random(3).nextBytes(((DataBufferByte) image.getRaster().getDataBuffer()).getData());
        return HostileImages.value("jpeg", List.of((long) h, (long) w, 3L), imageIo(image, progressive));
    }

    @Test
    void aProgressiveJpegIsRefusedFromItsHeader() throws Exception {
        assertMentions(refused(jpegOf(48, 64, true)), "frame type 0xc2", "progressive", "baseline");
        // The attack: 4096x4096, a header that matches the shape, then 400 empty scans (4 KB).
        byte[] attack = HostileImages.progressiveJpegWithEmptyScans(4096, 400);
        assertMentions(refused(HostileImages.value("jpeg", List.of(4096L, 4096L, 1L), attack)), "progressive");
    }

    @Test
    void aSequentialJpegWithMoreScansThanComponentsIsRefused() throws Exception {
        Map<String, Object> image = jpegOf(16, 16, false);
        byte[] d = (byte[]) image.get("data");
        int sos = indexOf(d, (byte) 0xFF, (byte) 0xDA);
        int eoi = d.length - 2;
        // The same scan once more before the end: each component may be coded in one scan only.
        byte[] twice = new byte[d.length + (eoi - sos)];
        System.arraycopy(d, 0, twice, 0, eoi);
        System.arraycopy(d, sos, twice, eoi, eoi - sos);
        System.arraycopy(d, eoi, twice, eoi + (eoi - sos), 2);
        image.put("data", twice);
        assertMentions(refused(image), "2 scans for 3 component(s)");
    }

    @Test
    void halfAJpegIsRefusedNotPaddedGrey() throws Exception {
        Map<String, Object> image = jpegOf(64, 64, false);
        byte[] d = (byte[]) image.get("data");
        image.put("data", Arrays.copyOf(d, d.length / 2));
        assertMentions(refused(image), "truncated");
    }

    @Test
    void aJpegWhoseScanDataIsCutShortIsRefusedByTheDecodersWarning() throws Exception {
        Map<String, Object> image = jpegOf(64, 64, false);
        byte[] d = (byte[]) image.get("data");
        int sos = indexOf(d, (byte) 0xFF, (byte) 0xDA);
        int dataStart = sos + 2 + ((d[sos + 2] & 0xFF) << 8 | (d[sos + 3] & 0xFF));
        // The structure stays whole (scan header, then the end marker), the entropy data is cut to a third.
        int keep = (d.length - 2 - dataStart) / 3;
        byte[] cut = new byte[dataStart + keep + 2];
        System.arraycopy(d, 0, cut, 0, dataStart + keep);
        cut[cut.length - 2] = (byte) 0xFF;
        cut[cut.length - 1] = (byte) 0xD9;
        if ((cut[cut.length - 3] & 0xFF) == 0xFF) {
            cut[cut.length - 3] = 0; // never leave half a marker
        }
        image.put("data", cut);
        assertMentions(refused(image), "corrupt or truncated");
    }

    @Test
    void bytesAfterTheEndAndTrailingPngChunksAreRefused() throws Exception {
        Map<String, Object> jpeg = jpegOf(16, 16, false);
        byte[] d = (byte[]) jpeg.get("data");
        jpeg.put("data", Arrays.copyOf(d, d.length + 3));
        assertMentions(refused(jpeg), "3 bytes after its end-of-image marker");
        byte[] png = HostileImages.greyPng(16, 16);
        assertMentions(refused(HostileImages.value("png", List.of(16L, 16L, 1L), Arrays.copyOf(png, png.length - 12))),
                "truncated");
        assertMentions(refused(HostileImages.value("png", List.of(16L, 16L, 1L), Arrays.copyOf(png, png.length + 5))),
                "5 bytes after its IEND chunk");
    }

    @Test
    void moreImagesThanTheLimitAreRefusedBeforeAnyIsDecoded() {
        byte[] png = HostileImages.greyPng(1, 1);
        Map<String, Object> obs = new LinkedHashMap<>();
        for (int i = 0; i <= ImageCompression.Limits.DEFAULT_MAX_IMAGES; i++) {
            obs.put("cam" + i, HostileImages.value("png", List.of(1L, 1L, 1L), png));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageDecodePlan.of(obs,
                ImageCompression.Limits.DEFAULT));
        assertMentions(e.getMessage(), "cam64", "more than 64 compressed images in one observation");
        obs.remove("cam64");
        Map<String, Object> decoded = ImageCompression.decompress(obs);
        assertEquals(64, decoded.size());
        assertEquals(0, ((NdArray) decoded.get("cam63")).getLong(0));
    }

    @Test
    void ourOwnEncoderAlwaysPasses() {
        Random rng = new Random(11);
        int[][] sizes = {{8, 8}, {17, 33}, {1, 4096}, {240, 320}, {480, 640}};
        List<ImageCodec> codecs = new ArrayList<>(List.of(ImageCodec.PNG));
        for (int q : new int[] {1, 50, 90, 100}) {
            codecs.add(ImageCodec.jpeg(q));
        }
        for (ImageCodec codec : codecs) {
            for (int[] hw : sizes) {
                for (int c : codec.kind() == ImageCodec.Kind.JPEG ? new int[] {1, 3} : new int[] {1, 3, 4}) {
                    for (boolean chw : new boolean[] {false, true}) {
                        if (chw && (c == 4 || hw[1] <= 4)) {
                            continue; // not an image in CHW (see ImageCompression)
                        }
                        byte[] px = new byte[hw[0] * hw[1] * c];
                        rng.nextBytes(px);
                        Shape shape = chw ? Shape.of(c, hw[0], hw[1]) : Shape.of(hw[0], hw[1], c);
                        NdArray a = NdArray.wrap(DType.UINT8, shape, java.nio.ByteBuffer.wrap(px));
                        Map<String, Object> packed = ImageCompression.compress(Map.of("cam", a), codec);
                        String what = codec + " " + shape;
                        assertTrue(packed.get("cam") instanceof Map, what + " was not compressed");
                        NdArray back = (NdArray) ImageCompression.decompress(packed).get("cam");
                        assertEquals(shape, back.shape(), what);
                        if (codec.kind() == ImageCodec.Kind.PNG) {
                            assertArrayEquals(px, back.toByteArray(), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void decodingAllocatesNoMoreThanThePlanCharges() {
        // A 16 KB grey 4096x4096 PNG: charged 16 MiB, it held about 96 MiB while decoding
        // (an image, a whole-image int[] band copy, the output).
        byte[] png = HostileImages.greyPng(4096, 4096);
        assertTrue(png.length < 32 << 10, png.length + " bytes");
        Map<String, Object> obs = Map.of("cam", HostileImages.value("png", List.of(4096L, 4096L, 1L), png));
        ImageDecodePlan plan = ImageDecodePlan.of(obs, ImageCompression.Limits.DEFAULT);
        assertEquals(4096L * 4096, plan.decodedBytes());
        plan.decode(() -> false); // warm up: reader, classes
        long before = allocated();
        Map<String, Object> out = plan.decode(() -> false);
        long spent = allocated() - before;
        assertEquals(4096L * 4096, ((NdArray) out.get("cam")).nbytes());
        assertTrue(spent <= plan.peakBytes(), "decoding allocated " + spent + " bytes, charged " + plan.peakBytes());
        assertTrue(plan.peakBytes() < 4096L * 4096 * 11 / 10, "charge " + plan.peakBytes());
    }

    @Test
    void aStopRequestEndsTheJdkDecodeWithinRows() throws Exception {
        // The JDK codec (NativeJpegCodecTest has libjpeg-turbo's bands).
        String before = System.getProperty(NativeLibrary.PROPERTY);
        System.setProperty(NativeLibrary.PROPERTY, "off");
        try {
            aStopRequestEndsTheDecodeWithinRows();
        } finally {
            if (before == null) {
                System.clearProperty(NativeLibrary.PROPERTY);
            } else {
                System.setProperty(NativeLibrary.PROPERTY, before);
            }
        }
    }

    private void aStopRequestEndsTheDecodeWithinRows() throws Exception {
        Map<String, Object> obs = Map.of("cam", jpegOf(1024, 1024, false));
        ImageDecodePlan plan = ImageDecodePlan.of(obs, ImageCompression.Limits.DEFAULT);
        AtomicInteger polls = new AtomicInteger();
        assertThrows(CancellationException.class, () -> plan.decode(() -> polls.incrementAndGet() > 20));
        // Asked about once per row and per read: it stopped at the first "yes", long before the 1024 rows.
        assertTrue(polls.get() <= 22, polls.get() + " polls");
        // The same thread decodes the next image normally (its reader was replaced, not left aborted).
        Map<String, Object> out = plan.decode(() -> false);
        assertEquals(Shape.of(1024, 1024, 3), ((NdArray) out.get("cam")).shape());
        BufferedImage reference = ImageIO.read(new ByteArrayInputStream((byte[]) ((Map<?, ?>) obs.get("cam")).get("data")));
        assertEquals(reference.getRaster().getSample(5, 7, 0) & 0xFF, ((NdArray) out.get("cam")).getLong((7 * 1024 + 5) * 3));
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
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
