package org.webpolicy.codec;

/**
 * What the Java objects decoding builds can cost on the heap: the estimate that the per-message
 * limit ({@link MsgpackCodec#maxDecodedBytes()}) and a server's memory budget are charged with.
 * The figures are for a 64-bit JVM without compressed references (16-byte object headers, 8-byte
 * references), the larger of HotSpot's two layouts, so the estimate bounds the real cost whatever
 * the heap size; with compressed references (heaps under 32 GiB) an empty map costs 60 bytes of
 * the 120 charged. Array data is not here: it views the message, whose bytes are paid for already.
 *
 * <p>Why it matters: one msgpack byte (0x80, an empty map) becomes a {@code LinkedHashMap} and
 * a reference to it, so 16 MB of them in one list are about 1 GB of objects.
 */
final class DecodedSize {

    /** A reference in a list's backing array. */
    static final long SLOT = 8;
    /** A {@code Long} or a {@code Double}. */
    static final long BOXED = 24;
    /** A {@code BigInteger} of up to 64 bits, with its {@code int[]}. */
    static final long BIG_INTEGER = 96;
    /** An {@code ArrayList} (40) and its backing array's header (24). */
    static final long LIST = 64;
    /** A {@code LinkedHashMap} (88) and its table's header (24). */
    static final long MAP = 112;
    /** A {@code LinkedHashMap} entry (64) and its share of the table: up to 8/3 slots at load 0.75. */
    static final long MAP_ENTRY = 88;
    /** A {@code String} (32) and its {@code byte[]} header (24), plus the charset decoder's state. */
    static final long STRING = 64;
    /**
     * Per byte of UTF-8: a char (2 bytes) in the decoder's buffer while decoding, and up to 2 bytes
     * in the {@code String} (a UTF-16 one).
     */
    static final long STRING_PER_BYTE = 4;
    /** A {@code byte[]}'s header. */
    static final long BYTES = 24;
    /** A {@link BinaryKey} around its {@code byte[]}. */
    static final long BINARY_KEY = 24 + BYTES;
    /** An {@code NdArray}: itself, its {@code ByteBuffer} view, its {@code Shape} and dtype. */
    static final long ND_ARRAY = 256;
    /** Per dimension of an array's shape. */
    static final long DIMENSION = 8;
    /** An {@code NpScalar} and the one-element array inside it. */
    static final long NP_SCALAR = 128 + ND_ARRAY;

    private DecodedSize() {
    }
}
