package org.webpolicy.image.compression;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * What a PNG or JPEG says about itself before any pixel is decoded: width, height, channels and
 * bits per sample, read from the PNG IHDR chunk or the JPEG start-of-frame segment, so a hostile
 * image that claims huge dimensions is refused before a decoder allocates anything.
 *
 * <p>The whole structure is walked too (segments and chunks, not pixels: a few operations per
 * marker or chunk), and only what our own encoder writes passes: every decoder reached through
 * these checks does work proportional to the declared pixels, never to what an attacker repeats.
 * <ul>
 *   <li>JPEG: sequential Huffman frames only (baseline or extended, SOF0/SOF1), each component
 *       in exactly one scan, no ICC profile, and the data ends with the end-of-image marker.
 *       A progressive frame (SOF2) is refused: a decoder makes a pass over the whole image per
 *       scan, and empty 10-byte scans cost about 1 ms of CPU per byte received on a 4096x4096
 *       image. Arithmetic coding, lossless and hierarchical frames are refused for the same
 *       reason (no encoder of ours writes them).</li>
 *   <li>PNG: IHDR first, consecutive IDAT chunks, IEND last and exactly at the end of the data;
 *       no palette, no interlace, no other critical chunk. Ancillary chunks are skipped (the
 *       decoder ignores metadata).</li>
 * </ul>
 * Data cut short anywhere is refused here, before decoding.
 *
 * @param width pixels per row
 * @param height rows
 * @param channels samples per pixel (1 to 4)
 * @param bitDepth bits per sample
 */
record ImageHeader(int width, int height, int channels, int bitDepth) {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /**
     * Reads the header of {@code data} as {@code kind} and checks its structure.
     *
     * @throws IllegalArgumentException naming what is wrong when it is not a PNG or JPEG of a
     *     kind we send (8-bit, 1 to 4 channels PNG without palette or interlace; sequential
     *     Huffman 8-bit JPEG of 1 or 3 components) or when it is truncated
     */
    static ImageHeader read(byte[] data, ImageCodec.Kind kind) {
        return switch (kind) {
            case PNG -> png(data);
            case JPEG -> jpeg(data);
            case RAW -> throw new IllegalArgumentException("raw images have no header");
        };
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long u32(byte[] b, int at) {
        return (long) u16(b, at) << 16 | u16(b, at + 2);
    }

    static ImageHeader png(byte[] d) {
        if (d.length < 33) {
            throw new IllegalArgumentException("PNG data of " + d.length + " bytes is too short for a header");
        }
        for (int i = 0; i < PNG_SIGNATURE.length; i++) {
            if (d[i] != PNG_SIGNATURE[i]) {
                throw new IllegalArgumentException("data is not a PNG (no PNG signature)");
            }
        }
        if (u32(d, 8) != 13 || d[12] != 'I' || d[13] != 'H' || d[14] != 'D' || d[15] != 'R') {
            throw new IllegalArgumentException("PNG does not start with an IHDR chunk of 13 bytes");
        }
        long width = u32(d, 16);
        long height = u32(d, 20);
        int depth = d[24] & 0xFF;
        int colorType = d[25] & 0xFF;
        int channels = switch (colorType) {
            case 0 -> 1;
            case 2 -> 3;
            case 4 -> 2;
            case 6 -> 4;
            default -> throw new IllegalArgumentException("PNG colour type " + colorType
                    + " is not one we send (grey, grey+alpha, RGB or RGBA)");
        };
        if (d[28] != 0) {
            throw new IllegalArgumentException("interlaced PNG is not one we send");
        }
        ImageHeader header = checked(width, height, channels, depth, "PNG");
        pngChunks(d);
        return header;
    }

    /** Walks the chunks after IHDR: IDATs in one run, then IEND exactly at the end. */
    private static void pngChunks(byte[] d) {
        int at = 33;
        boolean sawData = false;
        boolean dataEnded = false;
        while (true) {
            if (at + 12 > d.length) {
                throw new IllegalArgumentException("PNG is truncated: it ends after " + d.length
                        + " bytes, before its IEND chunk");
            }
            long length = u32(d, at);
            if (length > d.length - at - 12L) {
                throw new IllegalArgumentException("PNG is truncated: the chunk at offset " + at + " claims "
                        + length + " bytes, past the end of the data");
            }
            String type = new String(d, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            int next = at + 12 + (int) length;
            switch (type) {
                case "IDAT" -> {
                    if (dataEnded) {
                        throw new IllegalArgumentException("PNG has IDAT chunks that are not consecutive");
                    }
                    sawData = true;
                }
                case "IEND" -> {
                    if (!sawData) {
                        throw new IllegalArgumentException("PNG has no IDAT chunk (no pixels)");
                    }
                    if (length != 0 || next != d.length) {
                        throw new IllegalArgumentException("PNG has " + (d.length - next)
                                + " bytes after its IEND chunk");
                    }
                    return;
                }
                default -> {
                    if ((type.charAt(0) & 0x20) == 0) { // an upper-case first letter: a critical chunk
                        throw new IllegalArgumentException("PNG chunk '" + printable(type)
                                + "' is not one we send (IHDR, IDAT, IEND)");
                    }
                    dataEnded = sawData;
                }
            }
            at = next;
        }
    }

    private static String printable(String type) {
        StringBuilder out = new StringBuilder();
        for (char c : type.toCharArray()) {
            out.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return out.toString();
    }

    static ImageHeader jpeg(byte[] d) {
        if (d.length < 4 || (d[0] & 0xFF) != 0xFF || (d[1] & 0xFF) != 0xD8) {
            throw new IllegalArgumentException("data is not a JPEG (no start-of-image marker)");
        }
        ImageHeader header = null;
        int componentsLeft = 0; // components of the frame not yet in a scan
        int scans = 0;
        int at = 2;
        while (true) {
            if (at + 2 > d.length) {
                throw new IllegalArgumentException("JPEG is truncated: it ends after " + d.length
                        + " bytes, before its end-of-image marker");
            }
            if ((d[at] & 0xFF) != 0xFF) {
                throw new IllegalArgumentException("JPEG marker expected at offset " + at);
            }
            int marker = d[at + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                at++;
                continue;
            }
            if (marker == 0xD9) {
                if (header == null) {
                    throw new IllegalArgumentException("JPEG has no frame header before its end");
                }
                if (componentsLeft > 0) {
                    throw new IllegalArgumentException("JPEG ends with " + componentsLeft
                            + " component(s) in no scan (truncated or incomplete)");
                }
                if (at + 2 != d.length) {
                    throw new IllegalArgumentException("JPEG has " + (d.length - at - 2)
                            + " bytes after its end-of-image marker");
                }
                return header;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                throw new IllegalArgumentException("JPEG marker 0x" + Integer.toHexString(marker) + " at offset "
                        + at + " is out of place");
            }
            if (at + 4 > d.length) {
                throw new IllegalArgumentException("JPEG is truncated inside the segment at offset " + at);
            }
            int length = u16(d, at + 2);
            if (length < 2 || at + 2 + length > d.length) {
                throw new IllegalArgumentException("JPEG is truncated: the segment at offset " + at + " claims "
                        + length + " bytes, past the end of the data");
            }
            boolean frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (frame) {
                if (header != null) {
                    throw new IllegalArgumentException("JPEG has a second frame header at offset " + at);
                }
                if (marker > 0xC1) {
                    throw new IllegalArgumentException("JPEG frame type 0x" + Integer.toHexString(marker) + " ("
                            + frameName(marker) + ") is not one we send: our encoder writes sequential Huffman JPEG"
                            + " (baseline), which a decoder reads in one pass");
                }
                if (length < 8) {
                    throw new IllegalArgumentException("JPEG frame header of " + length + " bytes is too short");
                }
                int depth = d[at + 4] & 0xFF;
                int height = u16(d, at + 5);
                int width = u16(d, at + 7);
                int components = d[at + 9] & 0xFF;
                if (components != 1 && components != 3) {
                    throw new IllegalArgumentException("JPEG of " + components + " components is not one we send (1 or 3)");
                }
                if (length != 8 + 3 * components) {
                    throw new IllegalArgumentException("JPEG frame header of " + length + " bytes for " + components
                            + " components (should be " + (8 + 3 * components) + ")");
                }
                header = checked(width, height, components, depth, "JPEG");
                componentsLeft = components;
                at += 2 + length;
            } else if (marker == 0xDA) {
                if (header == null) {
                    throw new IllegalArgumentException("JPEG has no frame header before its scan");
                }
                int inScan = length >= 3 ? d[at + 4] & 0xFF : 0;
                if (inScan < 1 || length != 6 + 2 * inScan) {
                    throw new IllegalArgumentException("JPEG scan header at offset " + at + " is malformed");
                }
                scans++;
                if (inScan > componentsLeft) {
                    throw new IllegalArgumentException("JPEG has " + scans + " scans for " + header.channels()
                            + " component(s): a sequential JPEG codes each component in one scan");
                }
                componentsLeft -= inScan;
                at = afterEntropyData(d, at + 2 + length);
            } else {
                if (marker == 0xE2 && length >= 14 && new String(d, at + 4, 11,
                        java.nio.charset.StandardCharsets.ISO_8859_1).equals("ICC_PROFILE")) {
                    throw new IllegalArgumentException("JPEG carries an ICC colour profile, which our encoder never"
                            + " writes (images are plain sRGB bytes)");
                }
                at += 2 + length; // tables, restart interval, application data, comments
            }
        }
    }

    /** Eight bytes of an array at any offset, for {@link #afterEntropyData}. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /** The offset of the first marker after the entropy-coded data from {@code at}. */
    static int afterEntropyData(byte[] d, int at) {
        int i = at;
        while (i + 1 < d.length) {
            // Eight bytes at a time while none is 0xFF (a byte of ~x is zero): few entropy-coded
            // bytes are, and a byte at a time took 2% of a 4-camera step's native coding (perf).
            while (i + 8 <= d.length) {
                long x = (long) LONGS.get(d, i);
                if (((~x - ONES) & x & HIGHS) != 0) {
                    break;
                }
                i += 8;
            }
            if (i + 1 >= d.length) {
                break;
            }
            if ((d[i] & 0xFF) == 0xFF) {
                int next = d[i + 1] & 0xFF;
                if (next != 0 && (next < 0xD0 || next > 0xD7)) {
                    return i; // a marker that is not a stuffed byte or a restart
                }
                i += 2;
            } else {
                i++;
            }
        }
        throw new IllegalArgumentException("JPEG is truncated: its scan data runs to the end of the "
                + d.length + " bytes without an end-of-image marker");
    }

    private static String frameName(int marker) {
        return switch (marker) {
            case 0xC2 -> "progressive: a decoder makes a pass over the whole image per scan";
            case 0xC3 -> "lossless";
            case 0xC5, 0xC6, 0xC7 -> "hierarchical";
            default -> "arithmetic coding";
        };
    }

    private static ImageHeader checked(long width, long height, int channels, int depth, String what) {
        if (depth != 8) {
            throw new IllegalArgumentException(what + " of " + depth + " bits per sample; images are uint8 (8 bits)");
        }
        if (width <= 0 || height <= 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " claims " + width + "x" + height + " pixels");
        }
        return new ImageHeader((int) width, (int) height, channels, depth);
    }
}
