package org.webpolicy.image.compression;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Compressed images built to cost the server more than their size (issue 19), for the tests and
 * the attack campaign: the values a client puts in an observation, marker and all.
 */
public final class HostileImages {

    private HostileImages() {
    }

    /**
     * A {@code size x size} grey progressive JPEG (SOF2) whose header matches its declared shape,
     * followed by {@code scans} empty 10-byte AC scans: each costs a decoder a pass over the image.
     *
     * @param size the side in pixels (at most 65535)
     * @param scans how many empty scans follow the first
     * @return the JPEG bytes
     */
    public static byte[] progressiveJpegWithEmptyScans(int size, int scans) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDB, 0, 67, 0});
        for (int i = 0; i < 64; i++) {
            out.write(1);
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC2, 0, 11, 8, (byte) (size >> 8), (byte) size,
            (byte) (size >> 8), (byte) size, 1, 1, 0x11, 0});
        for (int table : new int[] {0x00, 0x10}) { // one DC and one AC table: a single 1-bit code for symbol 0
            out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC4, 0, 20, (byte) table, 1});
            out.writeBytes(new byte[15]);
            out.write(0);
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 8, 1, 1, 0, 0, 0, 0}); // DC first scan
        out.write(0);
        for (int i = 0; i < scans; i++) {
            out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 8, 1, 1, 0, 1, 63, 0}); // empty AC scan
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
        return out.toByteArray();
    }

    /**
     * A {@code height x width} grey PNG of zeros: deflate shrinks it about 1000 times, so a
     * 4096x4096 image is about 16 KB on the wire and 16 MiB decoded.
     *
     * @param height rows
     * @param width pixels per row
     * @return the PNG bytes
     */
    public static byte[] greyPng(int height, int width) {
        Deflater deflater = new Deflater(9);
        byte[] row = new byte[width + 1]; // filter byte 0, then zeros
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        for (int y = 0; y < height; y++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                idat.write(buffer, 0, deflater.deflate(buffer));
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            idat.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        byte[] ihdr = new byte[13];
        int32(ihdr, 0, width);
        int32(ihdr, 4, height);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), no interlace
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /**
     * The compressed-image value a client sends for {@code data}.
     *
     * @param codec "png" or "jpeg"
     * @param shape the declared shape, HWC
     * @param data the encoded bytes
     * @return the map, marker first
     */
    public static Map<String, Object> value(String codec, List<Long> shape, byte[] data) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(ImageCompression.MARKER, true);
        m.put("codec", codec);
        m.put("dtype", "|u1");
        m.put("shape", shape);
        m.put("layout", "hwc");
        m.put("data", data);
        return m;
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] head = new byte[8];
        int32(head, 0, data.length);
        byte[] name = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, head, 4, 4);
        out.writeBytes(head);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        byte[] tail = new byte[4];
        int32(tail, 0, (int) crc.getValue());
        out.writeBytes(tail);
    }

    private static void int32(byte[] d, int at, int v) {
        d[at] = (byte) (v >>> 24);
        d[at + 1] = (byte) (v >>> 16);
        d[at + 2] = (byte) (v >>> 8);
        d[at + 3] = (byte) v;
    }
}
