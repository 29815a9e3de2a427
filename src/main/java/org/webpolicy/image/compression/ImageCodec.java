package org.webpolicy.image.compression;

import java.util.Locale;
import java.util.Objects;

/**
 * How images travel: raw arrays (as the Python peers send them), PNG (lossless) or JPEG at a
 * quality from 1 to 100. An immutable value.
 *
 * @param kind the format
 * @param quality JPEG quality, 1 (smallest) to 100 (best); 0 for the other kinds
 */
public record ImageCodec(Kind kind, int quality) {

    /** The JPEG quality of {@link #jpeg()}: a step's four ALOHA cameras shrink about 10x. */
    public static final int DEFAULT_JPEG_QUALITY = 90;

    /** Raw arrays: nothing is compressed. */
    public static final ImageCodec RAW = new ImageCodec(Kind.RAW, 0);

    /** PNG: lossless, the exact bytes come back. */
    public static final ImageCodec PNG = new ImageCodec(Kind.PNG, 0);

    /** An image format. */
    public enum Kind {
        /** Raw arrays, as today. */
        RAW("raw"),
        /** PNG, lossless. */
        PNG("png"),
        /** JPEG, lossy. */
        JPEG("jpeg");

        private final String token;

        Kind(String token) {
            this.token = token;
        }

        /**
         * The name on the wire and in the handshake header.
         *
         * @return {@code "raw"}, {@code "png"} or {@code "jpeg"}
         */
        public String token() {
            return token;
        }
    }

    /**
     * Checks the quality against the kind.
     *
     * @param kind the format
     * @param quality JPEG quality 1..100; 0 for the other kinds
     * @throws IllegalArgumentException for a JPEG quality outside 1..100 or a quality given to another kind
     * @throws NullPointerException if {@code kind} is null
     */
    public ImageCodec {
        Objects.requireNonNull(kind, "kind");
        if (kind == Kind.JPEG ? quality < 1 || quality > 100 : quality != 0) {
            throw new IllegalArgumentException(kind == Kind.JPEG ? "JPEG quality must be 1 to 100, got " + quality
                    : kind.token() + " takes no quality, got " + quality);
        }
    }

    /**
     * JPEG at {@value #DEFAULT_JPEG_QUALITY}.
     *
     * @return the codec
     */
    public static ImageCodec jpeg() {
        return jpeg(DEFAULT_JPEG_QUALITY);
    }

    /**
     * JPEG at a given quality.
     *
     * @param quality 1 (smallest) to 100 (best)
     * @return the codec
     * @throws IllegalArgumentException for a quality outside 1..100
     */
    public static ImageCodec jpeg(int quality) {
        return new ImageCodec(Kind.JPEG, quality);
    }

    /**
     * Parses a command-line value: {@code raw}, {@code png}, {@code jpeg} or {@code jpeg:QUALITY}.
     *
     * @param text the value, case-insensitive
     * @return the codec
     * @throws IllegalArgumentException naming the accepted forms when {@code text} is none of them
     * @throws NullPointerException if {@code text} is null
     */
    public static ImageCodec parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        switch (t) {
            case "raw":
                return RAW;
            case "png":
                return PNG;
            case "jpeg", "jpg":
                return jpeg();
            default:
                break;
        }
        if (t.startsWith("jpeg:")) {
            try {
                return jpeg(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("Image codec must be raw, png, jpeg or jpeg:QUALITY (1-100), got '" + text + "'");
    }

    @Override
    public String toString() {
        return kind == Kind.JPEG ? "jpeg:" + quality : kind.token();
    }
}
