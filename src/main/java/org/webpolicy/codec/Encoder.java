package org.webpolicy.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;

/**
 * One encoding run. Structure goes through msgpack-core's packer; the bytes of large arrays are
 * not copied into it but cut in as segments of their own.
 */
final class Encoder {

    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final BigInteger INT64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final byte[] KEY_NDARRAY = ascii("__ndarray__");
    private static final byte[] KEY_NPGENERIC = ascii("__npgeneric__");
    private static final byte[] KEY_DATA = ascii("data");
    private static final byte[] KEY_DTYPE = ascii("dtype");
    private static final byte[] KEY_SHAPE = ascii("shape");

    private final int maxDepth;
    private final MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
    private final List<ByteBuffer> segments = new ArrayList<>();
    private CharsetEncoder utf8;

    Encoder(int maxDepth) {
        this.maxDepth = maxDepth;
    }

    List<ByteBuffer> encode(Object value) {
        try {
            write(value, Path.ROOT, 0);
            cutSegment();
            return segments;
        } catch (IOException e) {
            // The packer writes to memory only.
            throw new UncheckedIOException(e);
        }
    }

    private void write(Object value, Path path, int depth) throws IOException {
        if (value == null) {
            packer.packNil();
        } else if (value instanceof String s) {
            writeString(s, path);
        } else if (value instanceof Boolean b) {
            packer.packBoolean(b);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            packer.packLong(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            writeDouble(((Number) value).doubleValue());
        } else if (value instanceof NdArray a) {
            writeArray(a);
        } else if (value instanceof Map<?, ?> m) {
            checkDepth(path, depth);
            writeMap(m, path, depth);
        } else if (value instanceof List<?> l) {
            checkDepth(path, depth);
            packer.packArrayHeader(l.size());
            int i = 0;
            for (Object item : l) {
                write(item, path.index(i++), depth + 1);
            }
        } else if (value instanceof byte[] bytes) {
            packer.packBinaryHeader(bytes.length);
            packer.writePayload(bytes);
        } else if (value instanceof NpScalar s) {
            writeScalar(s, path);
        } else if (value instanceof BigInteger big) {
            if (big.compareTo(INT64_MIN) < 0 || big.compareTo(UINT64_MAX) > 0) {
                throw new EncodeException(path + ": integer " + big + " is out of msgpack's range -2^63 .. 2^64-1");
            }
            packer.packBigInteger(big);
        } else {
            throw new EncodeException(path + ": cannot encode a " + (value.getClass().isArray() ? value.getClass().getSimpleName() : value.getClass().getName()) + refusalHint(value));
        }
    }

    private static String refusalHint(Object value) {
        if (value.getClass().isArray()) {
            return " (wrap Java arrays in an NdArray, e.g. NdArray.ofFloat32(values, shape), so the dtype is explicit)";
        }
        if (value instanceof java.util.Set) {
            return " (msgpack has no set; send a List)";
        }
        return " (supported: Map, List, String, byte[], Boolean, null, integers, Double/Float, NdArray, NpScalar)";
    }

    private void checkDepth(Path path, int depth) {
        if (depth >= maxDepth) {
            throw new EncodeException(path + ": nested deeper than " + maxDepth + " maps and lists");
        }
    }

    private void writeMap(Map<?, ?> map, Path path, int depth) throws IOException {
        packer.packMapHeader(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) {
            Object key = e.getKey();
            Path childPath;
            if (key instanceof String s) {
                writeString(s, path);
                childPath = path.key(s);
            } else if (key instanceof BinaryKey k) {
                writeBin(k.raw());
                childPath = path.key(k);
            } else if (key instanceof byte[] bytes) {
                writeBin(bytes);
                childPath = path.key(BinaryKey.of(bytes));
            } else {
                throw new EncodeException(path + ": map key " + key + " of type "
                        + (key == null ? "null" : key.getClass().getSimpleName())
                        + " cannot be sent: Python peers accept only str and bytes keys");
            }
            write(e.getValue(), childPath, depth + 1);
        }
    }

    private void writeString(String s, Path path) throws IOException {
        byte[] bytes = utf8(s, path);
        packer.packRawStringHeader(bytes.length);
        packer.writePayload(bytes);
    }

    private byte[] utf8(String s, Path path) {
        // Strings are mostly short ASCII prompts and keys; check that first.
        boolean ascii = true;
        for (int i = 0; i < s.length() && ascii; i++) {
            ascii = s.charAt(i) < 0x80;
        }
        if (ascii) {
            return s.getBytes(StandardCharsets.ISO_8859_1);
        }
        if (utf8 == null) {
            utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
        }
        try {
            ByteBuffer b = utf8.reset().encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new EncodeException(path + ": string holds an unpaired surrogate and is not valid Unicode");
        }
    }

    private void writeBin(byte[] bytes) throws IOException {
        packer.packBinaryHeader(bytes.length);
        packer.writePayload(bytes);
    }

    /** Python floats are always float 64; the bits are written as they are (NaN payloads kept). */
    private void writeDouble(double d) throws IOException {
        long bits = Double.doubleToRawLongBits(d);
        byte[] b = new byte[9];
        b[0] = (byte) 0xcb;
        for (int i = 0; i < 8; i++) {
            b[1 + i] = (byte) (bits >>> (56 - 8 * i));
        }
        packer.writePayload(b);
    }

    private void writeArray(NdArray a) throws IOException {
        packer.packMapHeader(4);
        writeBin(KEY_NDARRAY);
        packer.packBoolean(true);
        writeBin(KEY_DATA);
        packer.packBinaryHeader(a.nbytes());
        ByteBuffer data = a.data();
        if (a.nbytes() >= MsgpackCodec.REFERENCE_THRESHOLD) {
            cutSegment();
            segments.add(data);
        } else {
            byte[] small = new byte[a.nbytes()];
            data.get(small);
            packer.writePayload(small);
        }
        writeBin(KEY_DTYPE);
        writeAscii(a.dtype().str());
        writeBin(KEY_SHAPE);
        long[] dims = a.shape().toArray();
        packer.packArrayHeader(dims.length);
        for (long d : dims) {
            packer.packLong(d);
        }
    }

    private void writeScalar(NpScalar s, Path path) throws IOException {
        packer.packMapHeader(3);
        writeBin(KEY_NPGENERIC);
        packer.packBoolean(true);
        writeBin(KEY_DATA);
        write(s.item(), path, 0);
        writeBin(KEY_DTYPE);
        writeAscii(s.dtype().str());
    }

    private void writeAscii(String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        packer.packRawStringHeader(b.length);
        packer.writePayload(b);
    }

    /** Moves what the packer holds into a segment of its own. */
    private void cutSegment() {
        if (packer.getTotalWrittenBytes() > 0) {
            segments.add(ByteBuffer.wrap(packer.toByteArray()));
            packer.clear();
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
