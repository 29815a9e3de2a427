package org.webpolicy.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageTools;

class SimulatedAlohaEnvironmentTest {

    @Test
    void observationsHaveOpenpisAlohaLayout() {
        SimulatedAlohaEnvironment env = new SimulatedAlohaEnvironment("fold");
        env.reset();
        Map<String, Object> obs = env.getObservation();
        assertEquals(List.of("state", "images", "prompt"), List.copyOf(obs.keySet()));
        NdArray state = (NdArray) obs.get("state");
        assertEquals(DType.FLOAT64, state.dtype());
        assertEquals(Shape.of(14), state.shape());
        assertEquals("fold", obs.get("prompt"));
        Map<?, ?> images = (Map<?, ?>) obs.get("images");
        assertEquals(SimulatedAlohaEnvironment.CAMERAS, List.copyOf(images.keySet()));
        for (Object image : images.values()) {
            assertEquals(Shape.of(3, 224, 224), ((NdArray) image).shape());
            assertEquals(DType.UINT8, ((NdArray) image).dtype());
        }
        // The demo policy accepts exactly this layout.
        new DemoPolicy(Duration.ZERO).step(obs);
    }

    @Test
    void imagesAreTheResizedFramesChannelsFirstAndChangePerStep() {
        SimulatedAlohaEnvironment env = new SimulatedAlohaEnvironment("p");
        NdArray first = (NdArray) ((Map<?, ?>) env.getObservation().get("images")).get("cam_high");
        env.applyAction(Map.of("actions", NdArray.zeros(DType.FLOAT32, 14)));
        NdArray second = (NdArray) ((Map<?, ?>) env.getObservation().get("images")).get("cam_high");
        assertNotEquals(first, second);
        // 480x640 fits 224 wide as 168 high: 28 rows of zero padding on top.
        assertEquals(0, first.getLong(first.flatIndex(0, 0, 100)));
        assertTrue(first.getLong(first.flatIndex(0, 112, 100)) != 0 || first.getLong(first.flatIndex(1, 112, 100)) != 0);
        assertTrue(env.resizeNanos() > 0);
        assertEquals(2, env.observations());
    }

    @Test
    void channelsFirstMovesEachChannelToItsOwnPlane() {
        byte[] hwc = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};   // 2x2 pixels, 3 channels
        NdArray chw = SimulatedAlohaEnvironment.channelsFirst(NdArray.ofUint8(hwc, 2, 2, 3));
        assertEquals(Shape.of(3, 2, 2), chw.shape());
        assertArrayEquals(new byte[] {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}, chw.toByteArray());
    }

    @Test
    void theResizeMatchesImageToolsOnTheSameFrame() {
        SimulatedAlohaEnvironment env = new SimulatedAlohaEnvironment("p");
        NdArray image = (NdArray) ((Map<?, ?>) env.getObservation().get("images")).get("cam_left_wrist");
        // Rebuild frame 0 of camera 1 from the documented gradient and resize it directly.
        byte[] px = new byte[480 * 640 * 3];
        int i = 0;
        for (int y = 0; y < 480; y++) {
            for (int x = 0; x < 640; x++) {
                int g = (x + y) / 4 + 60;
                px[i++] = (byte) g;
                px[i++] = (byte) (g + 85);
                px[i++] = (byte) (255 - g);
            }
        }
        NdArray expected = SimulatedAlohaEnvironment.channelsFirst(
                ImageTools.resizeWithPad(NdArray.ofUint8(px, 480, 640, 3), 224, 224));
        assertEquals(expected, image);
    }

    @Test
    void actionsSetTheJointsAndMustHaveTheRightShape() {
        SimulatedAlohaEnvironment env = new SimulatedAlohaEnvironment("p");
        float[] target = new float[14];
        target[3] = 0.5f;
        env.applyAction(Map.of("actions", NdArray.ofFloat32(target)));
        assertArrayEquals(target, ((NdArray) env.getObservation().get("state")).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> env.applyAction(Map.of("actions", NdArray.zeros(DType.FLOAT32, 7))));
        env.reset();
        assertArrayEquals(new float[14], ((NdArray) env.getObservation().get("state")).toFloatArray());
    }

    @Test
    void theDemoPolicyRefusesAnotherLayoutByName() {
        Map<String, Object> obs = new SimulatedAlohaEnvironment("p").getObservation();
        java.util.Map<String, Object> bad = new java.util.LinkedHashMap<>(obs);
        bad.put("images", Map.of("cam_high", NdArray.zeros(DType.UINT8, 224, 224, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DemoPolicy(Duration.ZERO).step(bad));
        assertTrue(e.getMessage().contains("images/cam_high"), e.getMessage());
        NdArray actions = (NdArray) new DemoPolicy(Duration.ZERO).step(obs).get("actions");
        assertEquals(Shape.of(50, 14), actions.shape());
    }
}
