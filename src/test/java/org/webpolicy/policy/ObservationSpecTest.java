package org.webpolicy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertEquals("state: expected an array of <f4 (*,), got a list", rejection(listState));
        assertEquals("state: missing", rejection(observation(cam, null, "p")));
        Map<String, Object> notAMap = observation(null, state, "p");
        notAMap.put("images", "cam_high");
        assertEquals("images/cam_high: missing", rejection(notAMap));
    }

    @Test
    void allProblemsAreListedAtOnce() {
        String message = rejection(observation(null, NdArray.zeros(DType.FLOAT64, 14), 3L));
        assertEquals("images/cam_high: missing; state: dtype <f8, expected <f4; prompt: expected a str, got Long", message);
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
    void builderRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().array("x", DType.UINT8, -2));
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().string("x").string("x"));
        assertThrows(IllegalArgumentException.class, () -> ObservationSpec.builder().string(""));
        assertTrue(ObservationSpec.builder().build().entries().isEmpty());
    }
}
