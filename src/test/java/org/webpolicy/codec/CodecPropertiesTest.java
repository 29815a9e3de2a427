package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.BeforeTry;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;
import org.webpolicy.array.Shape;

/** Random values round-trip; random and mutated bytes never get past the decoder unnamed. */
class CodecPropertiesTest {

    private static final List<String> DTYPES = List.of("|b1", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", "|u1",
            "<u2", "<u4", "<u8", ">u8", "<f2", "<f4", ">f4", "<f8", ">f8", "<U3", ">U1", "|S5", "<M8[ns]", "<m8[s]");

    private MsgpackCodec codec;

    @BeforeTry
    void setUp() {
        codec = new MsgpackCodec();
    }

    @Property(tries = 300)
    void valuesRoundTrip(@ForAll("values") Object value) {
        byte[] bytes = codec.pack(value);
        Object back = codec.unpack(bytes);
        assertEquals(normalize(value), normalize(back));
        assertArrayEquals(bytes, codec.pack(back), "repacking is byte-identical");
        byte[] segmented = concat(codec.encode(value));
        assertArrayEquals(bytes, segmented, "encode() segments hold the same bytes as pack()");
    }

    @Property(tries = 1000)
    void randomBytesFailWithADecodeExceptionOrDecode(@ForAll byte[] bytes) {
        decodeOrNamedFailure(bytes);
    }

    @Property(tries = 1000)
    void mutatedMessagesFailWithADecodeExceptionOrDecode(@ForAll("values") Object value, @ForAll long seed) {
        byte[] bytes = codec.pack(value);
        Random random = new Random(seed);
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits && bytes.length > 0; i++) {
            switch (random.nextInt(3)) {
                case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                default -> {
                    int at = random.nextInt(bytes.length);
                    bytes[at] = (byte) (0xc4 + random.nextInt(0x1c)); // a header byte with lengths
                }
            }
        }
        decodeOrNamedFailure(bytes);
    }

    private void decodeOrNamedFailure(byte[] bytes) {
        try {
            Object v = codec.unpack(bytes);
            // Whatever decodes must encode again (it is a valid value).
            codec.pack(v);
        } catch (DecodeException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("decode failure without a message", e);
            }
        }
    }

    @Provide
    Arbitrary<Object> values() {
        return Arbitraries.lazyOf(
                this::leaves,
                () -> leaves().list().ofMaxSize(4).map(l -> (Object) l),
                () -> Combinators.combine(Arbitraries.strings().ofMaxLength(8), leaves()).as(java.util.AbstractMap.SimpleEntry::new)
                        .list().ofMaxSize(4).map(entries -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            entries.forEach(e -> m.put(e.getKey(), e.getValue()));
                            return (Object) m;
                        }),
                () -> values().list().ofMaxSize(3).map(l -> (Object) l));
    }

    private Arbitrary<Object> leaves() {
        return Arbitraries.oneOf(
                Arbitraries.just(null),
                Arbitraries.of(true, false),
                Arbitraries.longs().map(l -> (Object) l),
                Arbitraries.doubles().map(d -> (Object) d),
                Arbitraries.strings().ofMaxLength(40).filter(CodecPropertiesTest::validUnicode).map(s -> (Object) s),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40).map(b -> (Object) b),
                arrays(),
                scalars());
    }

    private static boolean validUnicode(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private Arbitrary<Object> arrays() {
        Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 5).array(long[].class).ofMaxSize(3);
        return Combinators.combine(Arbitraries.of(DTYPES), shapes, Arbitraries.longs()).as((dtype, shape, seed) -> {
            DType d = DType.parse(dtype);
            Shape s = Shape.of(shape);
            byte[] data = new byte[(int) NdArray.byteSize(d, s)];
            new Random(seed).nextBytes(data);
            return (Object) NdArray.wrap(d, s, ByteBuffer.wrap(data));
        });
    }

    private Arbitrary<Object> scalars() {
        return Arbitraries.oneOf(
                Arbitraries.of(true, false).map(b -> (Object) NpScalar.ofBool(b)),
                Arbitraries.floats().map(f -> (Object) NpScalar.ofFloat32(f)),
                Arbitraries.longs().map(l -> (Object) NpScalar.ofInt64(l)),
                Arbitraries.integers().between(0, 255).map(i -> (Object) NpScalar.of(DType.UINT8, (long) i)));
    }

    /** byte[] has identity equality and decoded Integer/Float widen: compare as the wire sees them. */
    private static Object normalize(Object v) {
        if (v instanceof byte[] b) {
            return ByteBuffer.wrap(b);
        }
        if (v instanceof Double d) {
            return Double.doubleToRawLongBits(d);
        }
        if (v instanceof List<?> l) {
            return l.stream().map(CodecPropertiesTest::normalize).toList();
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, normalize(x)));
            return new java.util.ArrayList<>(out.entrySet());
        }
        return v;
    }

    private static byte[] concat(List<ByteBuffer> segments) {
        int total = segments.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer out = ByteBuffer.allocate(total);
        segments.forEach(s -> out.put(s.duplicate()));
        return out.array();
    }
}
