package org.webpolicy.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageFormatException;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageNeverUsedFormatException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageSizeException;
import org.msgpack.core.MessageUnpacker;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;
import org.webpolicy.array.Shape;

/**
 * One decoding run over one message. Array data is never copied: a {@code data} bin inside a map
 * is kept as a reference into the message until the map turns out to be (or not to be) an array.
 *
 * <p>Everything else the run builds is counted as it goes ({@link DecodedSize}): before a list, a
 * map, a string or a copied bin is allocated, its cost is added to the run's total, which may not
 * pass the per-message limit and is charged to the caller's {@link DecodeMemory} when there is
 * one. A message whose value would take too much memory fails at the element that crosses the
 * limit, having built no more than the limit's worth.
 */
final class Decoder {

    private static final BinaryKey KEY_NDARRAY = BinaryKey.of("__ndarray__");
    private static final BinaryKey KEY_NPGENERIC = BinaryKey.of("__npgeneric__");
    private static final BinaryKey KEY_DATA = BinaryKey.of("data");
    private static final BinaryKey KEY_DTYPE = BinaryKey.of("dtype");
    private static final BinaryKey KEY_SHAPE = BinaryKey.of("shape");

    /** A bin value not yet copied out of the message. */
    private record BinRef(int offset, int length) {
    }

    private final byte[] message;
    private final int start;
    private final int length;
    private final int maxDepth;
    private final long maxDecodedBytes;
    private final DecodeMemory memory;
    private final MessageUnpacker unpacker;
    /** The estimated bytes of what this run has built or is about to build. */
    private long used;
    /** The bytes charged to {@link #memory} so far: at least {@link #used}. */
    private long charged;

    Decoder(byte[] message, int start, int length, int maxDepth, long maxDecodedBytes, DecodeMemory memory) {
        this.message = message;
        this.start = start;
        this.length = length;
        this.maxDepth = maxDepth;
        this.maxDecodedBytes = maxDecodedBytes;
        this.memory = memory;
        this.unpacker = MessagePack.newDefaultUnpacker(message, start, length);
    }

    Object decodeMessage() {
        try {
            if (length == 0) {
                throw new DecodeException(DecodeException.Problem.TRUNCATED, "Empty message: expected one msgpack value");
            }
            Object value = read(0, Path.ROOT);
            if (unpacker.hasNext()) {
                throw new DecodeException(DecodeException.Problem.TRAILING_BYTES, remaining()
                        + " bytes follow the message's value at offset " + position());
            }
            return value;
        } catch (MessageInsufficientBufferException e) {
            throw new DecodeException(DecodeException.Problem.TRUNCATED,
                    "Message truncated: " + length + " bytes end in the middle of a value", e);
        } catch (MessageNeverUsedFormatException e) {
            throw new DecodeException(DecodeException.Problem.MALFORMED,
                    "Not msgpack: never-used format byte 0xc1 at offset " + position(), e);
        } catch (MessageSizeException e) {
            // Its message is null: say what it found.
            throw new DecodeException(DecodeException.Problem.TRUNCATED, "Message claims a length it does not hold: "
                    + Long.toUnsignedString(e.getSize()) + " at offset " + position() + ", more than a message can have", e);
        } catch (MessageFormatException e) {
            throw new DecodeException(DecodeException.Problem.MALFORMED, "Not valid msgpack: " + e.getMessage(), e);
        } catch (IOException e) {
            // The input is an in-memory array.
            throw new UncheckedIOException(e);
        }
    }

    private int position() {
        return (int) unpacker.getTotalReadBytes();
    }

    private int remaining() {
        return length - position();
    }

    /**
     * Counts {@code bytes} about to be allocated for {@code what} at {@code path}: refused past the
     * per-message limit, and charged to the caller's memory (in steps, so that a value of many
     * small elements is not a charge per element) before the allocation happens.
     */
    private void spend(long bytes, Path path, String what) {
        used += bytes;
        if (used > maxDecodedBytes) {
            throw new DecodeException(DecodeException.Problem.TOO_LARGE, path + ": the decoded value would take about "
                    + used + " bytes of memory with this " + what + " (" + bytes + " bytes), more than the limit of "
                    + maxDecodedBytes
                    + " bytes per message (" + length + " bytes of msgpack; maps, lists and strings cost"
                    + " tens of bytes per element, arrays only what their data views)");
        }
        if (memory != null && used > charged) {
            long more = Math.min(Math.max(MsgpackCodec.CHARGE_STEP, used - charged), maxDecodedBytes - charged);
            memory.charge(more);
            charged += more;
        }
    }

    /** The next value's format; 0xc1, which msgpack never uses, is refused here by name. */
    private MessageFormat nextFormat() throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        if (format == MessageFormat.NEVER_USED) {
            throw new DecodeException(DecodeException.Problem.MALFORMED, "Not msgpack: never-used format byte 0xc1 at offset "
                    + position());
        }
        return format;
    }

    private Object read(int depth, Path path) throws IOException {
        MessageFormat format = nextFormat();
        switch (format.getValueType()) {
            case NIL:
                unpacker.unpackNil();
                return null;
            case BOOLEAN:
                return unpacker.unpackBoolean();
            case INTEGER:
                if (format == MessageFormat.UINT64) {
                    spend(DecodedSize.BIG_INTEGER, path, "int");
                    BigInteger big = unpacker.unpackBigInteger();
                    return big.bitLength() < 64 ? (Object) big.longValue() : big;
                }
                spend(DecodedSize.BOXED, path, "int");
                return unpacker.unpackLong();
            case FLOAT:
                spend(DecodedSize.BOXED, path, "float");
                return unpacker.unpackDouble();
            case STRING:
                return readString(path);
            case BINARY:
                return copy(readBin(), path);
            case ARRAY:
                return readList(depth, path);
            case MAP:
                return readMap(depth, path);
            case EXTENSION:
                throw new DecodeException(DecodeException.Problem.UNSUPPORTED_TYPE, path
                        + ": msgpack extension types are not part of the wire format (format " + format + ")");
            default:
                throw new DecodeException(DecodeException.Problem.MALFORMED, path + ": not msgpack (format " + format + ")");
        }
    }

    private String readString(Path path) throws IOException {
        int n = unpacker.unpackRawStringHeader();
        int at = payload(n, "str");
        spend(DecodedSize.STRING + DecodedSize.STRING_PER_BYTE * n, path, "str");
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(message, start + at, n))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new DecodeException(DecodeException.Problem.MALFORMED, path + ": str at offset " + at
                    + " is not valid UTF-8");
        }
    }

    private BinRef readBin() throws IOException {
        int n = unpacker.unpackBinaryHeader();
        return new BinRef(start + payload(n, "bin"), n);
    }

    /** Checks that {@code n} payload bytes are there, skips them, and returns where they start. */
    private int payload(int n, String what) throws IOException {
        int at = position();
        if (n < 0 || n > remaining()) {
            throw new DecodeException(DecodeException.Problem.TRUNCATED, what + " at offset " + at + " claims "
                    + Integer.toUnsignedString(n) + " bytes but only " + remaining() + " remain");
        }
        unpacker.readPayloadAsReference(n);
        return at;
    }

    /** The bin's bytes copied out of the message, counted first. */
    private byte[] copy(BinRef ref, Path path) {
        spend(DecodedSize.BYTES + ref.length, path, "bin");
        return Arrays.copyOfRange(message, ref.offset, ref.offset + ref.length);
    }

    private void checkCount(long count, int minBytesEach, String what) {
        if (count < 0 || count * minBytesEach > remaining()) {
            throw new DecodeException(DecodeException.Problem.TRUNCATED, what + " at offset " + position() + " claims "
                    + Long.toUnsignedString(count) + " entries but only " + remaining() + " bytes remain");
        }
    }

    private void checkDepth(int depth, Path path) {
        if (depth >= maxDepth) {
            throw new DecodeException(DecodeException.Problem.TOO_DEEP, path + ": nested deeper than " + maxDepth
                    + " maps and lists");
        }
    }

    private List<Object> readList(int depth, Path path) throws IOException {
        checkDepth(depth, path);
        int n = unpacker.unpackArrayHeader();
        checkCount(n, 1, "array");
        spend(DecodedSize.LIST + DecodedSize.SLOT * n, path, "array");
        List<Object> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(read(depth + 1, path.index(i)));
        }
        return list;
    }

    private Object readMap(int depth, Path path) throws IOException {
        checkDepth(depth, path);
        int n = unpacker.unpackMapHeader();
        checkCount(n, 2, "map");
        spend(DecodedSize.MAP + DecodedSize.MAP_ENTRY * n, path, "map");
        Map<Object, Object> map = new LinkedHashMap<>(Math.max(4, n * 4 / 3 + 1));
        boolean hasRefs = false;
        for (int i = 0; i < n; i++) {
            Object key = readKey(path);
            Path childPath = path.key(key);
            Object value;
            // Keep a possible array's data as a reference until we know what the map is.
            if (KEY_DATA.equals(key) && nextFormat().getValueType() == org.msgpack.value.ValueType.BINARY) {
                value = readBin();
                hasRefs = true;
            } else {
                value = read(depth + 1, childPath);
            }
            map.put(key, value);
        }
        if (map.containsKey(KEY_NDARRAY)) {
            return toArray(map, path);
        }
        if (map.containsKey(KEY_NPGENERIC)) {
            return toScalar(map, path);
        }
        if (hasRefs) {
            map.replaceAll((k, v) -> v instanceof BinRef ref ? copy(ref, path.key(k)) : v);
        }
        return map;
    }

    private Object readKey(Path path) throws IOException {
        MessageFormat format = nextFormat();
        switch (format.getValueType()) {
            case STRING:
                return readString(path);
            case BINARY: {
                BinRef ref = readBin();
                spend(DecodedSize.BINARY_KEY - DecodedSize.BYTES, path, "bin key");
                return BinaryKey.of(copy(ref, path));
            }
            default:
                throw new DecodeException(DecodeException.Problem.BAD_MAP_KEY, path + ": map key of msgpack type "
                        + format.getValueType().name().toLowerCase() + " at offset " + position()
                        + "; only str and bin keys are allowed (Python refuses the others too)");
        }
    }

    private NdArray toArray(Map<Object, Object> map, Path path) {
        Object data = map.get(KEY_DATA);
        if (!(data instanceof BinRef ref)) {
            throw new DecodeException(DecodeException.Problem.BAD_ARRAY, path + ": ndarray 'data' must be bin, got "
                    + describe(data));
        }
        DType dtype = dtype(map.get(KEY_DTYPE), path);
        Shape shape = shape(map.get(KEY_SHAPE), path);
        long expected;
        try {
            expected = NdArray.byteSize(dtype, shape);
        } catch (IllegalArgumentException e) {
            throw new DecodeException(DecodeException.Problem.BAD_SHAPE, path + ": " + e.getMessage());
        }
        if (expected != ref.length) {
            throw new DecodeException(DecodeException.Problem.DATA_LENGTH_MISMATCH, path + ": ndarray of dtype " + dtype
                    + " and shape " + shape + " needs " + expected + " bytes of data, got " + ref.length);
        }
        spend(DecodedSize.ND_ARRAY + DecodedSize.DIMENSION * shape.rank(), path, "ndarray");
        return NdArray.wrap(dtype, shape, ByteBuffer.wrap(message, ref.offset, ref.length));
    }

    private static DType dtype(Object value, Path path) {
        String text;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof BinRef) {
            throw new IllegalStateException("dtype is never read as a reference");
        } else if (value instanceof byte[] b) {
            text = new String(b, StandardCharsets.ISO_8859_1);
        } else {
            throw new DecodeException(DecodeException.Problem.BAD_ARRAY, path + ": 'dtype' must be a str, got "
                    + describe(value));
        }
        try {
            return DType.parse(text);
        } catch (IllegalArgumentException e) {
            throw new DecodeException(DecodeException.Problem.BAD_DTYPE, path + ": " + e.getMessage());
        }
    }

    private static Shape shape(Object value, Path path) {
        if (!(value instanceof List<?> list)) {
            throw new DecodeException(DecodeException.Problem.BAD_ARRAY, path + ": ndarray 'shape' must be a list of ints, got "
                    + describe(value));
        }
        long[] dims = new long[list.size()];
        for (int i = 0; i < dims.length; i++) {
            Object d = list.get(i);
            if (!(d instanceof Long l) || l < 0) {
                throw new DecodeException(DecodeException.Problem.BAD_SHAPE, path + ": shape " + list
                        + " must hold non-negative ints; dimension " + i + " is " + describe(d));
            }
            dims[i] = l;
        }
        try {
            return Shape.of(dims);
        } catch (IllegalArgumentException e) {
            throw new DecodeException(DecodeException.Problem.BAD_SHAPE, path + ": " + e.getMessage());
        }
    }

    private NpScalar toScalar(Map<Object, Object> map, Path path) {
        if (!map.containsKey(KEY_DATA)) {
            throw new DecodeException(DecodeException.Problem.BAD_SCALAR, path + ": npgeneric map has no 'data'");
        }
        Object data = map.get(KEY_DATA);
        if (data instanceof BinRef ref) {
            data = copy(ref, path);
        }
        DType dtype;
        try {
            dtype = dtype(map.get(KEY_DTYPE), path);
        } catch (DecodeException e) {
            throw new DecodeException(DecodeException.Problem.BAD_SCALAR, e.getMessage());
        }
        if (dtype.kind() == DType.Kind.DATETIME || dtype.kind() == DType.Kind.TIMEDELTA) {
            throw new DecodeException(DecodeException.Problem.BAD_SCALAR, path + ": a " + dtype
                    + " scalar cannot be rebuilt from a plain int without its unit (Python refuses it too)");
        }
        if (!(data instanceof Number) && !(data instanceof Boolean)) {
            throw new DecodeException(DecodeException.Problem.BAD_SCALAR, path + ": npgeneric 'data' for dtype " + dtype
                    + " must be a number or bool, got " + describe(data));
        }
        spend(DecodedSize.NP_SCALAR, path, "numpy scalar");
        try {
            return NpScalar.of(dtype, data);
        } catch (IllegalArgumentException e) {
            throw new DecodeException(DecodeException.Problem.BAD_SCALAR, path + ": " + e.getMessage());
        }
    }

    private static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof BinRef || v instanceof byte[]) {
            return "bin";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof Map) {
            return "map";
        }
        if (v instanceof List) {
            return "list";
        }
        return v.getClass().getSimpleName() + " " + v;
    }
}
