package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;
import org.webpolicy.array.Shape;

/**
 * Property tests over generated values: random values round-trip byte-identically; random and
 * mutated bytes either decode to a value that encodes again or fail with a named
 * {@link DecodeException}, never anything else. Seeded, so a failure names the seed that
 * reproduces it.
 */
class CodecPropertiesTest {

    private static final List<String> DTYPES = List.of("|b1", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", "|u1",
            "<u2", "<u4", "<u8", ">u8", "<f2", "<f4", ">f4", "<f8", ">f8", "<U3", ">U1", "|S5", "<M8[ns]", "<m8[s]");
    private static final int TRIES = 2000;

    private final MsgpackCodec codec = new MsgpackCodec();

    @Test
    void valuesRoundTrip() {
        for (long seed = 0; seed < TRIES; seed++) {
            Object value = new Generator(seed).value(3);
            try {
                byte[] bytes = codec.pack(value);
                Object back = codec.unpack(bytes);
                assertEquals(normalize(value), normalize(back));
                assertArrayEquals(bytes, codec.pack(back), "repacking is byte-identical");
                assertArrayEquals(bytes, concat(codec.encode(value)), "encode() segments hold pack()'s bytes");
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ", value " + value, e);
            }
        }
    }

    @Test
    void randomBytesDecodeOrFailWithANamedProblem() {
        for (long seed = 0; seed < TRIES; seed++) {
            Random random = new Random(seed);
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            decodeOrNamedFailure(bytes, seed);
        }
    }

    @Test
    void mutatedMessagesDecodeOrFailWithANamedProblem() {
        for (long seed = 0; seed < TRIES; seed++) {
            Random random = new Random(seed);
            byte[] bytes = codec.pack(new Generator(seed).value(3));
            int edits = 1 + random.nextInt(4);
            for (int i = 0; i < edits && bytes.length > 0; i++) {
                switch (random.nextInt(3)) {
                    case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
                    default -> bytes[random.nextInt(bytes.length)] = (byte) (0xc4 + random.nextInt(0x1c)); // length headers
                }
            }
            decodeOrNamedFailure(bytes, seed);
        }
    }

    private void decodeOrNamedFailure(byte[] bytes, long seed) {
        try {
            Object v = codec.unpack(bytes);
            codec.pack(v); // whatever decodes is a valid value and encodes again
        } catch (DecodeException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("seed " + seed + ": decode failure without a message", e);
            }
        } catch (RuntimeException e) {
            throw new AssertionError("seed " + seed + ": " + e.getClass().getSimpleName() + " escaped the decoder", e);
        }
    }

    /** Random wire values: leaves, lists and str-keyed maps nested a few levels. */
    private static final class Generator {
        private final Random random;

        Generator(long seed) {
            this.random = new Random(seed);
        }

        Object value(int depth) {
            int kind = random.nextInt(depth > 0 ? 10 : 8);
            return switch (kind) {
                case 0 -> null;
                case 1 -> random.nextBoolean();
                case 2 -> random.nextBoolean() ? random.nextLong() : (long) random.nextInt(300) - 150;
                case 3 -> random.nextBoolean() ? random.nextDouble() * 1e6 : Double.longBitsToDouble(random.nextLong());
                case 4 -> string();
                case 5 -> bytes(random.nextInt(40));
                case 6 -> array();
                case 7 -> scalar();
                case 8 -> {
                    List<Object> list = new ArrayList<>();
                    for (int i = random.nextInt(4); i > 0; i--) {
                        list.add(value(depth - 1));
                    }
                    yield list;
                }
                default -> {
                    Map<String, Object> map = new LinkedHashMap<>();
                    for (int i = random.nextInt(4); i > 0; i--) {
                        map.put(string(), value(depth - 1));
                    }
                    yield map;
                }
            };
        }

        private String string() {
            StringBuilder s = new StringBuilder();
            for (int i = random.nextInt(12); i > 0; i--) {
                int cp = switch (random.nextInt(4)) {
                    case 0 -> 0x20 + random.nextInt(0x5f);
                    case 1 -> 0xa0 + random.nextInt(0x700);
                    case 2 -> 0x4e00 + random.nextInt(0x100);
                    default -> 0x1f600 + random.nextInt(0x40);
                };
                s.appendCodePoint(cp);
            }
            return s.toString();
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            random.nextBytes(b);
            return b;
        }

        private NdArray array() {
            DType dtype = DType.parse(DTYPES.get(random.nextInt(DTYPES.size())));
            long[] dims = new long[random.nextInt(4)];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = random.nextInt(6);
            }
            Shape shape = Shape.of(dims);
            return NdArray.wrap(dtype, shape, ByteBuffer.wrap(bytes((int) NdArray.byteSize(dtype, shape))));
        }

        private NpScalar scalar() {
            return switch (random.nextInt(4)) {
                case 0 -> NpScalar.ofBool(random.nextBoolean());
                case 1 -> NpScalar.ofFloat32(Float.intBitsToFloat(random.nextInt()));
                case 2 -> NpScalar.ofInt64(random.nextLong());
                default -> NpScalar.of(DType.UINT8, (long) random.nextInt(256));
            };
        }
    }

    /** byte[] has identity equality and NaN != NaN: compare as the wire sees them. */
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
            List<Object> entries = new ArrayList<>();
            m.forEach((k, x) -> entries.add(Arrays.asList(k, normalize(x))));
            return entries;
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
