package org.webpolicy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;

class ObservationSpecTest {

    static final ObservationSpec ALOHA = ObservationSpec.builder()
            .array("images/cam_high", DType.UINT8, 3, 224, 224)
            .array("state", DType.FLOAT32, ObservationSpec.ANY)
            .string("prompt")
            .build();

    static Map<String, Object> observation(NdArray cam, NdArray state, Object prompt) {
        Map<String, Object> obs = new LinkedHashMap<>();
        if (cam != null) {
            obs.put("images", Map.of("cam_high", cam));
        }
        if (state != null) {
            obs.put("state", state);
        }
        if (prompt != null) {
            obs.put("prompt", prompt);
        }
        return obs;
    }

    private static String rejection(Map<String, Object> obs) {
        return assertThrows(IllegalArgumentException.class, () -> ALOHA.check(obs)).getMessage();
    }

    @Test
    void matchingObservationsPassWildcardsIncluded() {
        ALOHA.check(observation(NdArray.zeros(DType.UINT8, 3, 224, 224), NdArray.zeros(DType.FLOAT32, 14), "fold"));
        ALOHA.check(observation(NdArray.zeros(DType.UINT8, 3, 224, 224), NdArray.zeros(DType.FLOAT32, 0), "fold"));
        Map<String, Object> flat = observation(null, NdArray.zeros(DType.FLOAT32, 7), "x");
        flat.put("images/cam_high", NdArray.zeros(DType.UINT8, 3, 224, 224)); // a flat key with a slash counts too
        flat.put("extra", 5L); // keys the spec does not name are allowed
        ALOHA.check(flat);
    }

    @Test
    void eachMismatchNamesTheKeyAndWhatIsWrong() {
        NdArray cam = NdArray.zeros(DType.UINT8, 3, 224, 224);
        NdArray state = NdArray.zeros(DType.FLOAT32, 14);
        assertEquals("images/cam_high: missing", rejection(observation(null, state, "p")));
        assertEquals("images/cam_high: dtype <f4, expected |u1",
                rejection(observation(NdArray.zeros(DType.FLOAT32, 3, 224, 224), state, "p")));
        assertEquals("images/cam_high: rank 2 (shape (224, 224)), expected rank 3 (shape (3, 224, 224))",
                rejection(observation(NdArray.zeros(DType.UINT8, 224, 224), state, "p")));
        assertEquals("images/cam_high: dim 1 is 480, expected 224 (shape (3, 480, 640), expected (3, 224, 224))",
                rejection(observation(NdArray.zeros(DType.UINT8, 3, 480, 640), state, "p")));
        Map<String, Object> listState = observation(cam, null, "p");
        listState.put("state", List.of(1.0, 2.0));
        assertEquals("state: expected a float32 array (<f4) of shape (*,), got a list of 2 numbers;"
                + " wrap it with NdArray.ofFloat32(list)", rejection(listState));
        assertEquals("state: missing", rejection(observation(cam, null, "p")));
        Map<String, Object> notAMap = observation(null, state, "p");
        notAMap.put("images", "cam_high");
        assertEquals("images/cam_high: missing", rejection(notAMap));
    }

    @Test
    void allProblemsAreListedAtOnce() {
        String message = rejection(observation(null, NdArray.zeros(DType.FLOAT64, 14), 3L));
        assertEquals("images/cam_high: missing; state: dtype <f8, expected <f4; prompt: expected a str, got an int", message);
    }

    @Test
    void metadataFormRoundTripsThroughMsgpack() {
        Map<String, Object> meta = ALOHA.toMetadata();
        MsgpackCodec codec = new MsgpackCodec();
        Map<?, ?> back = (Map<?, ?>) codec.unpack(codec.pack(meta));
        assertEquals(ALOHA, ObservationSpec.fromMetadata(back));
        Map<?, ?> cam = (Map<?, ?>) back.get("images/cam_high");
        assertEquals("|u1", cam.get("dtype"));
        assertEquals(List.of(3L, 224L, 224L), cam.get("shape"));
        assertEquals(Arrays.asList((Object) null), ((Map<?, ?>) back.get("state")).get("shape"));
        assertEquals(Map.of("type", "str"), back.get("prompt"));
        // -1 is read as a wildcard too
        ObservationSpec minusOne = ObservationSpec.fromMetadata(Map.of("s", Map.of("dtype", "<f4", "shape", List.of(-1L))));
        assertEquals(ALOHA.entries().get("state"), minusOne.entries().get("s"));
    }

    @Test
    void aListOfNumbersWhereAFloat64ArrayIsExpectedSaysHowToWrapIt() {
        ObservationSpec spec = ObservationSpec.builder().array("state", DType.FLOAT64, 14).build();
        List<Double> state = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            state.add(i * 0.5);
        }
        String message = assertThrows(IllegalArgumentException.class,
                () -> spec.check(Map.of("state", state))).getMessage();
        assertEquals("state: expected a float64 array (<f8) of shape (14,), got a list of 14 numbers;"
                + " wrap it with NdArray.ofFloat64(list)", message);
        // and the wrapped list passes, with the same values
        NdArray wrapped = NdArray.ofFloat64(state);
        spec.check(Map.of("state", wrapped));
        assertEquals(6.5, wrapped.toDoubleArray()[13]);
        // other dtypes get no float factory, mixed lists no hint
        ObservationSpec ints = ObservationSpec.builder().array("ids", DType.parse("<i4"), 2).build();
        assertEquals("ids: expected an int32 array (<i4) of shape (2,), got a list of 2 numbers;"
                + " send an NdArray of dtype <i4 instead (NdArray.fromBytes, NdArray.ofInt64, ...)",
                assertThrows(IllegalArgumentException.class, () -> ints.check(Map.of("ids", List.of(1L, 2L)))).getMessage());
        assertEquals("ids: expected an int32 array (<i4) of shape (2,), got a list of 2 values",
                assertThrows(IllegalArgumentException.class, () -> ints.check(Map.of("ids", List.of(1L, "x")))).getMessage());
    }

    @Test
    void whatAServerSendsBackSpeaksTheWiresLanguageNotJava() {
        ObservationSpec spec = ObservationSpec.builder().array("state", DType.FLOAT32, 14).string("prompt").build();
        Map<String, Object> fromPython = new LinkedHashMap<>();
        fromPython.put("state", List.of(0.5, 1.5));
        fromPython.put("prompt", 7L);
        String message = assertThrows(IllegalArgumentException.class, () -> spec.checkReceived(fromPython)).getMessage();
        assertEquals("state: expected a float32 array (<f4) of shape (14,), got a list of 2 numbers; a list travels as"
                + " a msgpack array, not an ndarray: send an ndarray of dtype <f4 (numpy: np.asarray(value,"
                + " dtype=\"<f4\")); prompt: expected a str, got an int", message);
        // the Java caller's check keeps the Java advice
        assertTrue(assertThrows(IllegalArgumentException.class, () -> spec.check(fromPython)).getMessage()
                .contains("; wrap it with NdArray.ofFloat32(list); prompt: expected a str, got an int"));
        Map<String, Object> floats = new LinkedHashMap<>();
        floats.put("state", NdArray.zeros(DType.FLOAT32, 14));
        floats.put("prompt", 2.5);
        assertEquals("prompt: expected a str, got a float",
                assertThrows(IllegalArgumentException.class, () -> spec.checkReceived(floats)).getMessage());
        floats.put("prompt", NdArray.zeros(DType.UINT8, 3));
        assertEquals("prompt: expected a str, got an uint8 ndarray (|u1) of shape (3,)",
                assertThrows(IllegalArgumentException.class, () -> spec.checkReceived(floats)).getMessage());
    }

    @Test
    void malformedMetadataIsAnIllegalArgumentNamingTheKey() {
        assertMalformed("state: dim 0 of the shape must be a size, nil or -1, got fourteen",
                Map.of("state", Map.of("dtype", "<f8", "shape", List.of("fourteen"))));
        assertMalformed("state: dim 1 of the shape must be a size, nil or -1, got 2.5",
                Map.of("state", Map.of("dtype", "<f8", "shape", List.of(3L, 2.5))));
        assertMalformed("state: dim 0 of the shape must be a size, nil or -1, got -3",
                Map.of("state", Map.of("dtype", "<f8", "shape", List.of(-3L))));
        assertMalformed("state: dim 0 of the shape must be a size, nil or -1, got a map",
                Map.of("state", Map.of("dtype", "<f8", "shape", List.of(Map.of()))));
        assertMalformed("state: shape must be a list or nil, got a str",
                Map.of("state", Map.of("dtype", "<f8", "shape", "(14,)")));
        assertMalformed("state: dtype must be a str such as \"<f4\" or nil, got an int",
                Map.of("state", Map.of("dtype", 8L)));
        String badDtype = assertThrows(IllegalArgumentException.class,
                () -> ObservationSpec.fromMetadata(Map.of("state", Map.of("dtype", "<q9")))).getMessage();
        assertTrue(badDtype.startsWith("state: "), badDtype);
        assertMalformed("state: type must be \"ndarray\" or \"str\", got \"tensor\"",
                Map.of("state", Map.of("type", "tensor")));
        assertMalformed("state: expected a map like {\"type\": \"ndarray\", \"dtype\": ..., \"shape\": [...]}, got a list of 1 number",
                Map.of("state", List.of(14L)));
        assertMalformed("an observation spec maps str keys to maps, got an int key (7)",
                Map.of(7L, Map.of("type", "str")));
        assertMalformed("an observation spec is a map of str keys, got nil", null);
    }

    private static void assertMalformed(String expected, Map<?, ?> metadata) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class,
                () -> ObservationSpec.fromMetadata(metadata)).getMessage());
    }

    @Test
    void builderRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().array("x", DType.UINT8, -2));
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().string("x").string("x"));
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().string(""));
        assertTrue(ObservationSpec.builder().build().entries().isEmpty());
    }
}
