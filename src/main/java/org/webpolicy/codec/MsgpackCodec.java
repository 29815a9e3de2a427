package org.webpolicy.codec;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Encodes Java values to the msgpack bytes Python's {@code msgpack_numpy.packb} produces, and
 * decodes such bytes back. Immutable and thread-safe: one instance serves every connection.
 *
 * <h2>Java ↔ msgpack</h2>
 * <table>
 * <caption>Mapping</caption>
 * <tr><th>Java (encode)</th><th>msgpack</th><th>Java (decode)</th></tr>
 * <tr><td>{@code Map} with {@code String} / {@link BinaryKey} / {@code byte[]} keys</td><td>map, in
 *     iteration order (use a {@code LinkedHashMap} to choose it)</td><td>{@code LinkedHashMap}; str keys
 *     as {@code String}, bin keys as {@link BinaryKey}</td></tr>
 * <tr><td>{@code List}</td><td>array</td><td>{@code ArrayList}</td></tr>
 * <tr><td>{@code String}</td><td>str (UTF-8; unpaired surrogates refused)</td><td>{@code String}</td></tr>
 * <tr><td>{@code byte[]}</td><td>bin</td><td>{@code byte[]}</td></tr>
 * <tr><td>{@code Boolean}, {@code null}</td><td>bool, nil</td><td>{@code Boolean}, {@code null}</td></tr>
 * <tr><td>{@code Long}, {@code Integer}, {@code Short}, {@code Byte}, {@code BigInteger} in
 *     -2^63 .. 2^64-1</td><td>the smallest int format, as Python picks it</td><td>{@code Long}; a
 *     {@code BigInteger} above {@code Long.MAX_VALUE}</td></tr>
 * <tr><td>{@code Double}; {@code Float} is widened (exactly) to double, as numpy's
 *     {@code float32.item()} is</td><td>float 64</td><td>{@code Double} (float 32 input is widened
 *     too)</td></tr>
 * <tr><td>{@link org.webpolicy.array.NdArray NdArray}</td><td>{@code __ndarray__} map</td><td>{@code NdArray}
 *     viewing the message bytes</td></tr>
 * <tr><td>{@link org.webpolicy.array.NpScalar NpScalar}</td><td>{@code __npgeneric__}
 * map</td><td>{@code NpScalar}</td></tr>
 * </table>
 * A {@code List} of numbers is a msgpack array, as a Python list is: numpy on the other side
 * gets a list, not an ndarray. That is the wire format, so the codec does not guess; a policy
 * that expects an array says so in its {@code ObservationSpec}, whose check suggests
 * {@code NdArray.ofFloat64(list)}.
 * Everything else is refused with an {@link EncodeException} naming the value's path and type:
 * Java arrays other than {@code byte[]} (wrap them in an {@code NdArray}, which says what dtype
 * they are), sets (Python refuses them too), characters, other objects. Nothing is converted
 * silently with a loss.
 *
 * <h2>Zero copy</h2>
 * {@link #encode} returns the message as segments in which every large array's bytes are the
 * array's own buffer, not a copy; {@link #pack} copies the segments once into one array. Arrays
 * decoded by {@link #unpack(byte[])} are views of the message: the caller hands the message over
 * and must not change it afterwards.
 *
 * <h2>Strictness</h2>
 * Decoding follows Python's decoder where it is lenient in harmless ways (the marker keys may
 * come in any order, extra keys in an array map are ignored, a dtype may be a numpy name or
 * sent as bin) and is stricter where leniency hides a bug: array data must be exactly
 * product(shape) × itemsize bytes (Python silently ignores extra bytes), nesting is limited
 * (default {@value #DEFAULT_MAX_DEPTH}), and every length is checked against the bytes that are
 * there before anything is allocated.
 *
 * <h2>Memory</h2>
 * A msgpack byte can become tens of bytes of Java objects (an empty map, {@code 0x80}, is a
 * {@code LinkedHashMap}), so the bytes of a message do not bound what decoding it builds. Each
 * decoding counts what it builds as it goes, a cost per map, list, entry, string and copied bin
 * (array data views the message and costs nothing), and refuses a message whose value would pass
 * {@link #maxDecodedBytes()} with {@link DecodeException.Problem#TOO_LARGE}, before allocating the
 * container that crosses it. {@link #unpack(ByteBuffer, DecodeMemory)} also charges that cost to a
 * budget of the caller's as it goes.
 */
public final class MsgpackCodec {

    /** The default limit on nested maps and lists; Python has none, but the stack does. */
    public static final int DEFAULT_MAX_DEPTH = 64;

    /**
     * The default limit on the memory one decoded message may take beyond its array data: 256 MiB,
     * the transport's default message limit.
     */
    public static final long DEFAULT_MAX_DECODED_BYTES = 256L << 20;

    /**
     * A {@link DecodeMemory} is charged in steps of this many bytes: a message of many small
     * elements costs one charge per 16 KiB of estimate, not one per element; a small message is
     * charged one step (a few hundred bytes of maps and strings in most requests).
     */
    public static final long CHARGE_STEP = 16L << 10;

    /** Arrays at least this large go into {@link #encode}'s segments by reference. */
    static final int REFERENCE_THRESHOLD = 8192;

    private final int maxDepth;
    private final long maxDecodedBytes;

    /** A codec with the default nesting and memory limits. */
    public MsgpackCodec() {
        this(DEFAULT_MAX_DEPTH);
    }

    /**
     * A codec that refuses values nested deeper than {@code maxDepth} maps and lists, with the
     * default memory limit.
     *
     * @param maxDepth the nesting limit, at least 1
     * @throws IllegalArgumentException when {@code maxDepth} is below 1
     */
    public MsgpackCodec(int maxDepth) {
        this(maxDepth, DEFAULT_MAX_DECODED_BYTES);
    }

    /**
     * A codec with both limits.
     *
     * @param maxDepth the nesting limit, at least 1
     * @param maxDecodedBytes the most memory the maps, lists, strings and copied bins of one decoded
     *     message may take (estimated, see the class doc), at least 1
     * @throws IllegalArgumentException when a limit is below 1
     */
    public MsgpackCodec(int maxDepth, long maxDecodedBytes) {
        if (maxDepth < 1) {
            throw new IllegalArgumentException("maxDepth must be at least 1, got " + maxDepth);
        }
        if (maxDecodedBytes < 1) {
            throw new IllegalArgumentException("maxDecodedBytes must be at least 1, got " + maxDecodedBytes);
        }
        this.maxDepth = maxDepth;
        this.maxDecodedBytes = maxDecodedBytes;
    }

    /**
     * The memory limit per decoded message.
     *
     * @return the most bytes the objects of one decoded message may take, array data not counted
     */
    public long maxDecodedBytes() {
        return maxDecodedBytes;
    }

    /**
     * The nesting limit.
     *
     * @return the deepest nesting of maps and lists this codec encodes and decodes
     */
    public int maxDepth() {
        return maxDepth;
    }

    /**
     * The message as segments to be sent in order. Large array data is the arrays' own bytes
     * (read-only views), so those arrays must not change until the message has been sent.
     *
     * @param value a wire value (see the class doc)
     * @return the segments, in order
     * @throws EncodeException when the value (or anything inside it) cannot be sent
     */
    public List<ByteBuffer> encode(Object value) {
        return new Encoder(maxDepth).encode(value);
    }

    /**
     * The message as one byte array: the bytes Python's {@code msgpack_numpy.packb} gives for
     * the equivalent Python value.
     *
     * @param value a wire value (see the class doc)
     * @return the message
     * @throws EncodeException when the value (or anything inside it) cannot be sent
     */
    public byte[] pack(Object value) {
        List<ByteBuffer> segments = encode(value);
        long total = 0;
        for (ByteBuffer s : segments) {
            total += s.remaining();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new EncodeException("Message of " + total + " bytes does not fit one Java array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        for (ByteBuffer s : segments) {
            out.put(s.duplicate());
        }
        return out.array();
    }

    /**
     * Decodes one whole message. Decoded arrays view {@code message}, which must not change
     * afterwards.
     *
     * @param message one msgpack message
     * @return the value (see the class doc for the Java types)
     * @throws DecodeException naming what is wrong with the bytes
     */
    public Object unpack(byte[] message) {
        return new Decoder(message, 0, message.length, maxDepth, maxDecodedBytes, null).decodeMessage();
    }

    /**
     * Decodes one whole message from the buffer's position to its limit. A writable heap buffer
     * is viewed without copying (and must not change afterwards); a direct or read-only buffer
     * is copied once.
     *
     * @param message one msgpack message, from position to limit
     * @return the value (see the class doc for the Java types)
     * @throws DecodeException naming what is wrong with the bytes
     */
    public Object unpack(ByteBuffer message) {
        return unpack(message, null);
    }

    /**
     * Decodes one whole message as {@link #unpack(ByteBuffer)}, charging the memory of what it
     * builds to {@code memory} as it goes, each part before it is allocated (at most
     * {@link #maxDecodedBytes()} in all). The caller gives back what it was charged once the value
     * is no longer held, whether decoding succeeded or not.
     *
     * @param message one msgpack message, from position to limit
     * @param memory charged as the value is built; null for no charging (the limit still holds)
     * @return the value (see the class doc for the Java types)
     * @throws DecodeException naming what is wrong with the bytes, or the limit the value passes
     * @throws RuntimeException whatever {@code memory} throws when it refuses a charge
     */
    public Object unpack(ByteBuffer message, DecodeMemory memory) {
        if (message.hasArray()) {
            return new Decoder(message.array(), message.arrayOffset() + message.position(), message.remaining(),
                    maxDepth, maxDecodedBytes, memory).decodeMessage();
        }
        byte[] copy = new byte[message.remaining()];
        message.duplicate().get(copy);
        return new Decoder(copy, 0, copy.length, maxDepth, maxDecodedBytes, memory).decodeMessage();
    }
}
