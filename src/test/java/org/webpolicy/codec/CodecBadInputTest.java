package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.webpolicy.array.NdArray;

/** Each way a message from the network can be broken gets its own named problem. */
class CodecBadInputTest {

    private final MsgpackCodec codec = new MsgpackCodec();

    /** Builds an ndarray-like map by hand, with whatever fields a test wants to break. */
    private static byte[] arrayMap(Object data, Object dtype, Object shape) throws IOException {
        MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
        p.packMapHeader(4);
        bin(p, "__ndarray__");
        p.packBoolean(true);
        bin(p, "data");
        value(p, data);
        bin(p, "dtype");
        value(p, dtype);
        bin(p, "shape");
        value(p, shape);
        return p.toByteArray();
    }

    private static void bin(MessageBufferPacker p, String s) throws IOException {
        byte[] b = s.getBytes();
        p.packBinaryHeader(b.length).writePayload(b);
    }

    private static void value(MessageBufferPacker p, Object v) throws IOException {
        if (v instanceof byte[] b) {
            p.packBinaryHeader(b.length).writePayload(b);
        } else if (v instanceof String s) {
            p.packString(s);
        } else if (v instanceof List<?> l) {
            p.packArrayHeader(l.size());
            for (Object o : l) {
                value(p, o);
            }
        } else if (v instanceof Long l) {
            p.packLong(l);
        } else {
            p.packNil();
        }
    }

    private DecodeException.Problem problemOf(byte[] message) {
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(message));
        assertTrue(e.getMessage().length() > 15, e.getMessage());
        return e.problem();
    }

    @Test
    void truncatedAtEveryPosition() {
        byte[] whole = codec.pack(Map.of("state", NdArray.ofFloat64(new double[14]), "prompt", "hello"));
        for (int n = 0; n < whole.length; n++) {
            assertEquals(DecodeException.Problem.TRUNCATED, problemOf(Arrays.copyOf(whole, n)), "cut at " + n);
        }
    }

    @Test
    void trailingBytes() {
        byte[] whole = codec.pack(Map.of("a", 1L));
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(longer));
        assertEquals(DecodeException.Problem.TRAILING_BYTES, e.problem());
        assertTrue(e.getMessage().contains("1 bytes follow"), e.getMessage());
    }

    @Test
    void dataLengthMustMatchShapeTimesItemSize() throws IOException {
        DecodeException e = assertThrows(DecodeException.class,
                () -> codec.unpack(arrayMap(new byte[12], "<f4", List.of(2L))));
        assertEquals(DecodeException.Problem.DATA_LENGTH_MISMATCH, e.problem());
        assertTrue(e.getMessage().contains("needs 8 bytes of data, got 12"), e.getMessage());
        assertEquals(DecodeException.Problem.DATA_LENGTH_MISMATCH,
                problemOf(arrayMap(new byte[4], "<f4", List.of(2L))));
    }

    @Test
    void hugeOrNegativeShapesAreRefusedBeforeAllocating() throws IOException {
        // A terabyte claimed by an 8-byte message: refused on arithmetic alone.
        assertEquals(DecodeException.Problem.BAD_SHAPE,
                problemOf(arrayMap(new byte[8], "<f4", List.of(1L << 20, 1L << 20, 1L << 20))));
        assertEquals(DecodeException.Problem.BAD_SHAPE,
                problemOf(arrayMap(new byte[8], "<f4", List.of(Long.MAX_VALUE, Long.MAX_VALUE))));
        assertEquals(DecodeException.Problem.BAD_SHAPE, problemOf(arrayMap(new byte[8], "<f4", List.of(-2L))));
        assertEquals(DecodeException.Problem.BAD_SHAPE, problemOf(arrayMap(new byte[8], "<f4", List.of("2"))));
        assertEquals(DecodeException.Problem.BAD_ARRAY, problemOf(arrayMap(new byte[8], "<f4", 2L)));
    }

    @Test
    void badDtypes() throws IOException {
        assertEquals(DecodeException.Problem.BAD_DTYPE, problemOf(arrayMap(new byte[8], "<x4", List.of(2L))));
        assertEquals(DecodeException.Problem.BAD_DTYPE, problemOf(arrayMap(new byte[16], "<c8", List.of(2L))));
        assertEquals(DecodeException.Problem.BAD_DTYPE, problemOf(arrayMap(new byte[8], "", List.of(2L))));
        assertEquals(DecodeException.Problem.BAD_ARRAY, problemOf(arrayMap(new byte[8], 4L, List.of(2L))));
        assertEquals(DecodeException.Problem.BAD_ARRAY, problemOf(arrayMap(new byte[8], null, List.of(2L))));
    }

    @Test
    void dataOfTheWrongType() throws IOException {
        assertEquals(DecodeException.Problem.BAD_ARRAY, problemOf(arrayMap("abcdefgh", "<f4", List.of(2L))));
        assertEquals(DecodeException.Problem.BAD_ARRAY, problemOf(arrayMap(List.of(1L, 2L), "<f4", List.of(2L))));
    }

    @Test
    void nestingDeeperThanTheLimit() {
        byte[] deep = new byte[100_000];
        Arrays.fill(deep, (byte) 0x91); // fixarray of one element, 100 000 deep
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(deep));
        assertEquals(DecodeException.Problem.TOO_DEEP, e.problem());

        Object value = "leaf";
        for (int i = 0; i < MsgpackCodec.DEFAULT_MAX_DEPTH; i++) {
            value = List.of(value);
        }
        Object atLimit = value;
        assertEquals(atLimit, codec.unpack(codec.pack(atLimit)));
        Object overLimit = List.of(atLimit);
        EncodeException tooDeep = assertThrows(EncodeException.class, () -> codec.pack(overLimit));
        assertTrue(tooDeep.getMessage().contains("deeper than 64"), tooDeep.getMessage());
        byte[] overLimitBytes = new MsgpackCodec(65).pack(overLimit);
        assertEquals(DecodeException.Problem.TOO_DEEP, problemOf(overLimitBytes));
    }

    @Test
    void mapKeysOtherThanStrOrBin() {
        byte[] intKey = {(byte) 0x81, 0x01, (byte) 0xa1, 'a'};
        assertEquals(DecodeException.Problem.BAD_MAP_KEY, problemOf(intKey));
        byte[] nilKey = {(byte) 0x81, (byte) 0xc0, 0x01};
        assertEquals(DecodeException.Problem.BAD_MAP_KEY, problemOf(nilKey));
        byte[] mapKey = {(byte) 0x81, (byte) 0x80, 0x01};
        assertEquals(DecodeException.Problem.BAD_MAP_KEY, problemOf(mapKey));
    }

    @Test
    void lengthsLargerThanTheMessage() {
        // array32 claiming 2^32-1 entries, map32 claiming 2^31, bin32 and str32 claiming 2 GB.
        assertEquals(DecodeException.Problem.TRUNCATED, problemOf(new byte[] {(byte) 0xdd, -1, -1, -1, -1}));
        assertEquals(DecodeException.Problem.TRUNCATED, problemOf(new byte[] {(byte) 0xdf, (byte) 0x80, 0, 0, 0}));
        assertEquals(DecodeException.Problem.TRUNCATED, problemOf(new byte[] {(byte) 0xc6, 0x7f, -1, -1, -1, 0}));
        assertEquals(DecodeException.Problem.TRUNCATED, problemOf(new byte[] {(byte) 0xdb, 0x7f, -1, -1, -1, 'a'}));
    }

    @Test
    void notMsgpackAtAll() {
        assertEquals(DecodeException.Problem.MALFORMED, problemOf(new byte[] {(byte) 0xc1}));
        assertEquals(DecodeException.Problem.MALFORMED, problemOf(new byte[] {(byte) 0xa2, (byte) 0xc3, 0x28}));
        assertEquals(DecodeException.Problem.UNSUPPORTED_TYPE, problemOf(new byte[] {(byte) 0xd4, 0x01, 0x02}));
        assertEquals(DecodeException.Problem.TRUNCATED, problemOf(new byte[0]));
    }

    @Test
    void badScalars() throws IOException {
        MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
        p.packMapHeader(3);
        bin(p, "__npgeneric__");
        p.packBoolean(true);
        bin(p, "data");
        p.packLong(300);
        bin(p, "dtype");
        p.packString("|u1");
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(p.toByteArray()));
        assertEquals(DecodeException.Problem.BAD_SCALAR, e.problem());
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void errorsNameWhereInTheMessage() throws IOException {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("images", Map.of("cam_high", "placeholder"));
        byte[] good = codec.pack(obs);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(good, 0, good.length - "placeholder".length() - 1);
        out.write(arrayMap(new byte[3], "<f4", List.of(1L)));
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(out.toByteArray()));
        assertTrue(e.getMessage().startsWith("$.images.cam_high"), e.getMessage());
    }

    @Test
    void encodeRefusesWhatPythonCannotReceive() {
        EncodeException javaArray = assertThrows(EncodeException.class, () -> codec.pack(Map.of("x", new float[3])));
        assertTrue(javaArray.getMessage().contains("$.x") && javaArray.getMessage().contains("NdArray"),
                javaArray.getMessage());
        assertThrows(EncodeException.class, () -> codec.pack("\ud800 lone surrogate"));
        assertThrows(EncodeException.class, () -> codec.pack(new Object()));
        assertThrows(EncodeException.class, () -> codec.pack('c'));
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThrows(EncodeException.class, () -> codec.pack(cycle));
    }

    @Test
    void floatsAreWidenedExactlyAndDecodeAsDouble() {
        assertEquals((double) 0.1f, assertInstanceOf(Double.class, codec.unpack(codec.pack(0.1f))));
        assertEquals(5L, codec.unpack(codec.pack(5)));
    }
}
