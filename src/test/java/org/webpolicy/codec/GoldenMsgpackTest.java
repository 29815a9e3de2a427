package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;

/**
 * Every case of the golden msgpack manifest (made by the Python implementation): decoding gives
 * the expected value, repacking gives the same bytes where Python's does, and what Python refuses
 * to decode we refuse too.
 */
class GoldenMsgpackTest {

    private static final String DIR = "/golden/msgpack/";
    private static final HexFormat HEX = HexFormat.of();

    /**
     * Where we are deliberately stricter than Python (see MsgpackCodec's Javadoc): Python uses the
     * leading bytes of over-long array data; we refuse the array, because extra bytes mean the
     * sender's shape or dtype is not what it meant.
     */
    private static final Map<String, DecodeException.Problem> STRICTER = Map.of(
            "dec_ndarray_data_too_long", DecodeException.Problem.DATA_LENGTH_MISMATCH);

    private final MsgpackCodec codec = new MsgpackCodec();

    static JsonNode manifest() {
        try (InputStream in = GoldenMsgpackTest.class.getResourceAsStream(DIR + "manifest.json")) {
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] file(String name) {
        try (InputStream in = GoldenMsgpackTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("missing golden file " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenCase() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : manifest().get("cases")) {
            String name = c.get("name").asText();
            if (c.get("file").isNull()) {
                continue; // Python could not pack these; see the pack-side tests below.
            }
            tests.add(DynamicTest.dynamicTest(name, () -> checkCase(name, c)));
        }
        assertTrue(tests.size() >= 100, "expected the whole manifest, got " + tests.size());
        return tests.stream();
    }

    private void checkCase(String name, JsonNode c) {
        byte[] bytes = file(c.get("file").asText());
        assertEquals(c.get("sha256").asText(), sha256(bytes), "golden file changed");
        if (STRICTER.containsKey(name)) {
            DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(bytes));
            assertEquals(STRICTER.get(name), e.problem(), e.getMessage());
            return;
        }
        if (c.has("expect_error")) {
            JsonNode err = c.get("expect_error");
            assertEquals("unpack", err.get("stage").asText());
            DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(bytes));
            assertTrue(e.getMessage().length() > 10, "message should say what is wrong: " + e.getMessage());
            return;
        }
        Object decoded = codec.unpack(bytes);
        assertMatches(c.get("expect"), decoded, "$");
        if (c.path("repack_identical").asBoolean(false)) {
            assertArrayEquals(bytes, codec.pack(decoded), "repacked bytes differ");
        }
    }

    // ---- the pack-side refusals Python has (cases with no file) ----

    @Test
    void refusesComplexObjectAndVoidDtypes() {
        for (String dtype : List.of("<c16", "<c8", "|O", "|V4")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> org.webpolicy.array.DType.parse(dtype));
            assertTrue(e.getMessage().contains(dtype), e.getMessage());
        }
    }

    @Test
    void refusesIntegersOutsideMsgpackRange() {
        BigInteger tooLarge = BigInteger.ONE.shiftLeft(64);
        BigInteger tooSmall = BigInteger.valueOf(Long.MIN_VALUE).subtract(BigInteger.ONE);
        assertThrows(EncodeException.class, () -> codec.pack(tooLarge));
        assertThrows(EncodeException.class, () -> codec.pack(tooSmall));
    }

    @Test
    void refusesSetsAndDatetimeScalars() {
        assertThrows(EncodeException.class, () -> codec.pack(java.util.Set.of(1L, 2L)));
        assertThrows(IllegalArgumentException.class,
                () -> NpScalar.of(org.webpolicy.array.DType.parse("<M8[s]"), 5L));
        assertThrows(IllegalArgumentException.class,
                () -> NpScalar.of(org.webpolicy.array.DType.parse("<m8[ms]"), 5L));
    }

    @Test
    void refusesIntMapKeysOnPackToo() {
        EncodeException e = assertThrows(EncodeException.class, () -> codec.pack(Map.of(1L, "a")));
        assertTrue(e.getMessage().contains("key"), e.getMessage());
    }

    // ---- matching the manifest's JSON encoding of Python values ----

    static void assertMatches(JsonNode expect, Object actual, String path) {
        if (expect.isNull()) {
            assertEquals(null, actual, path);
        } else if (expect.isBoolean()) {
            assertEquals(expect.asBoolean(), actual, path);
        } else if (expect.isIntegralNumber()) {
            BigInteger want = expect.bigIntegerValue();
            if (want.bitLength() < 64) {
                assertEquals(want.longValue(), assertInstanceOf(Long.class, actual, path), path);
            } else {
                assertEquals(want, assertInstanceOf(BigInteger.class, actual, path), path);
            }
        } else if (expect.isTextual()) {
            assertEquals(expect.asText(), actual, path);
        } else if (expect.isArray()) {
            List<?> list = assertInstanceOf(List.class, actual, path);
            assertEquals(expect.size(), list.size(), path + " length");
            for (int i = 0; i < list.size(); i++) {
                assertMatches(expect.get(i), list.get(i), path + "[" + i + "]");
            }
        } else if (expect.has("__float__")) {
            double d = assertInstanceOf(Double.class, actual, path);
            assertEquals(expect.get("__float__").get("bits_hex").asText(),
                    String.format("%016x", Double.doubleToRawLongBits(d)), path);
        } else if (expect.has("__bytes__")) {
            byte[] b = assertInstanceOf(byte[].class, actual, path);
            JsonNode e = expect.get("__bytes__");
            if (e.isTextual()) {
                assertEquals(e.asText(), HEX.formatHex(b), path);
            } else {
                assertEquals(e.get("len").asInt(), b.length, path);
                assertEquals(e.get("sha256").asText(), sha256(b), path);
            }
        } else if (expect.has("__str__")) {
            String s = assertInstanceOf(String.class, actual, path);
            JsonNode e = expect.get("__str__");
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            assertEquals(e.get("chars").asInt(), s.codePointCount(0, s.length()), path);
            assertEquals(e.get("sha256").asText(), sha256(utf8), path);
        } else if (expect.has("__map__")) {
            Map<?, ?> map = assertInstanceOf(Map.class, actual, path);
            JsonNode entries = expect.get("__map__");
            assertEquals(entries.size(), map.size(), path + " size");
            Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
            for (JsonNode entry : entries) {
                Map.Entry<?, ?> got = it.next();
                Object key = "bytes".equals(entry.get("key_type").asText())
                        ? BinaryKey.of(entry.has("bytes_hex") ? HEX.parseHex(entry.get("bytes_hex").asText())
                                : entry.get("key").asText().getBytes(StandardCharsets.UTF_8))
                        : entry.get("key").asText();
                assertEquals(key, got.getKey(), path + " key order");
                assertMatches(entry.get("value"), got.getValue(), path + "." + key);
            }
        } else if (expect.has("__ndarray__")) {
            NdArray a = assertInstanceOf(NdArray.class, actual, path);
            JsonNode e = expect.get("__ndarray__");
            assertEquals(e.get("dtype").asText(), a.dtype().str(), path + " dtype");
            long[] shape = new long[e.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.get("shape").get(i).asLong();
            }
            assertArrayEquals(shape, a.shape().toArray(), path + " shape");
            assertEquals(e.get("nbytes").asInt(), a.nbytes(), path + " nbytes");
            byte[] data = a.toByteArray();
            assertEquals(e.get("data_sha256").asText(), sha256(data), path + " data");
            if (e.has("data_hex")) {
                assertEquals(e.get("data_hex").asText(), HEX.formatHex(data), path + " data");
            }
        } else if (expect.has("__npgeneric__")) {
            NpScalar s = assertInstanceOf(NpScalar.class, actual, path);
            JsonNode e = expect.get("__npgeneric__");
            assertEquals(e.get("dtype").asText(), s.dtype().str(), path + " dtype");
            assertEquals(e.get("data_hex").asText(), HEX.formatHex(s.toArray().toByteArray()), path + " value");
        } else {
            fail(path + ": unknown expectation " + expect);
        }
    }

    static String sha256(byte[] b) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
