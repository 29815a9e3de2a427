package org.webpolicy.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.codec.MsgpackCodec;

/**
 * Every case of golden/images (outputs made by the Python client with Pillow 11.3 and numpy
 * 1.26), through the Java and the native implementation: outputs byte for byte, shapes and
 * dtypes, "same object" where Python returns its input, and the error where Python raised.
 */
class GoldenImageTest {

    private static final String DIR = "/golden/images/";
    private static final MsgpackCodec CODEC = new MsgpackCodec();

    private static JsonNode manifest() throws IOException {
        try (InputStream in = GoldenImageTest.class.getResourceAsStream(DIR + "manifest.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> load(String file) throws IOException {
        try (InputStream in = GoldenImageTest.class.getResourceAsStream(DIR + file)) {
            assertTrue(in != null, "missing golden file " + file);
            return (Map<String, Object>) CODEC.unpack(in.readAllBytes());
        }
    }

    @Test
    void manifestHasAllCases() throws IOException {
        assertEquals(38, manifest().get("cases").size());
    }

    @TestFactory
    Stream<DynamicTest> everyCaseThroughBothPaths() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : manifest().get("cases")) {
            for (String backend : Backends.names().toList()) {
                tests.add(DynamicTest.dynamicTest(c.get("name").asText() + " [" + backend + "]",
                        () -> runCase(c, Backends.byName(backend))));
            }
        }
        return tests.stream();
    }

    private static void runCase(JsonNode c, ImageKernels kernels) throws IOException {
        Map<String, Object> data = load(c.get("file").asText());
        NdArray input = (NdArray) data.get("input");
        assertEquals(c.at("/input/dtype").asText(), input.dtype().str());
        String op = c.get("op").asText();
        JsonNode error = c.get("expect_error");
        if (op.equals("resize_with_pad")) {
            int height = ((Long) data.get("height")).intValue();
            int width = ((Long) data.get("width")).intValue();
            if (error != null) {
                assertFalse(data.containsKey("output"));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ImageTools.resizeWithPad(input, height, width, kernels));
                String expected = switch (c.get("name").asText()) {
                    case "err_1x1000_zero_height" -> "height and width must be > 0";
                    case "err_single_channel" -> "Single-channel";
                    case "err_float32_image" -> "needs uint8 images, got float32";
                    default -> throw new AssertionError("unknown error case " + c.get("name"));
                };
                assertTrue(e.getMessage().contains(expected), e.getMessage());
                return;
            }
            NdArray actual = ImageTools.resizeWithPad(input, height, width, kernels);
            check(c, data, input, actual);
        } else {
            assertEquals("convert_to_uint8", op);
            NdArray actual = ImageTools.convertToUint8(input, kernels);
            check(c, data, input, actual);
        }
    }

    private static void check(JsonNode c, Map<String, Object> data, NdArray input, NdArray actual) {
        NdArray expected = (NdArray) data.get("output");
        if (c.get("returns_input_unchanged").asBoolean()) {
            assertSame(input, actual, "Python returns the input object itself");
        } else {
            assertFalse(input == actual);
        }
        assertEquals(expected.dtype(), actual.dtype());
        assertEquals(expected.shape(), actual.shape());
        List<Long> shape = new ArrayList<>();
        c.at("/output/shape").forEach(n -> shape.add(n.asLong()));
        assertEquals(Shape.of(shape.stream().mapToLong(Long::longValue).toArray()), actual.shape());
        byte[] want = expected.toByteArray();
        byte[] got = actual.toByteArray();
        if (!java.util.Arrays.equals(want, got)) {
            int i = java.util.Arrays.mismatch(want, got);
            long diffs = 0;
            for (int k = 0; k < want.length; k++) {
                diffs += want[k] != got[k] ? 1 : 0;
            }
            assertArrayEquals(want, got, c.get("name").asText() + ": " + diffs + " bytes differ, first at " + i);
        }
    }
}
