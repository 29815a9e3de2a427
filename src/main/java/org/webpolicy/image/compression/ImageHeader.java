package org.webpolicy.image.compression;

/**
 * What a PNG or JPEG says about itself before any pixel is decoded: width, height, channels and
 * bits per sample. Read from the PNG IHDR chunk or the JPEG start-of-frame segment, so a hostile
 * image that claims huge dimensions is refused before a decoder allocates anything.
 *
 * @param width pixels per row
 * @param height rows
 * @param channels samples per pixel (1 to 4)
 * @param bitDepth bits per sample
 */
record ImageHeader(int width, int height, int channels, int bitDepth) {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /**
     * Reads the header of {@code data} as {@code kind}.
     *
     * @throws IllegalArgumentException naming what is wrong when it is not a PNG or JPEG of a
     *     kind we send (8-bit, 1 to 4 channels PNG without palette; baseline, extended or
     *     progressive 8-bit JPEG of 1 or 3 components)
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
        return checked(width, height, channels, depth, "PNG");
    }

    static ImageHeader jpeg(byte[] d) {
        if (d.length < 4 || (d[0] & 0xFF) != 0xFF || (d[1] & 0xFF) != 0xD8) {
            throw new IllegalArgumentException("data is not a JPEG (no start-of-image marker)");
        }
        int at = 2;
        while (at + 4 <= d.length) {
            if ((d[at] & 0xFF) != 0xFF) {
                throw new IllegalArgumentException("JPEG marker expected at offset " + at);
            }
            int marker = d[at + 1] & 0xFF;
            if (marker == 0xFF) { // fill byte
                at++;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                at += 2; // markers without a segment
                continue;
            }
            if (marker == 0xD9 || marker == 0xDA) {
                throw new IllegalArgumentException("JPEG has no frame header before its "
                        + (marker == 0xDA ? "scan" : "end"));
            }
            int length = u16(d, at + 2);
            if (length < 2 || at + 2 + length > d.length) {
                throw new IllegalArgumentException("JPEG segment at offset " + at + " claims " + length
                        + " bytes past the end of the data");
            }
            boolean frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (frame) {
                if (marker > 0xC2) {
                    throw new IllegalArgumentException("JPEG frame type 0x" + Integer.toHexString(marker)
                            + " is not one we send (baseline, extended or progressive Huffman)");
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
                return checked(width, height, components, depth, "JPEG");
            }
            at += 2 + length;
        }
        throw new IllegalArgumentException("JPEG ends before its frame header");
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
