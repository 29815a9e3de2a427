package org.webpolicy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.RemotePolicyException;

class DemoPolicyTest {

    @Test
    void answersChunksForTheEnvironmentsObservations() {
        Map<String, Object> obs = new SimulatedAlohaEnvironment("fold").getObservation();
        NdArray actions = (NdArray) new DemoPolicy(Duration.ZERO).step(obs).get("actions");
        assertEquals(DType.FLOAT32, actions.dtype());
        assertEquals(Shape.of(DemoPolicy.CHUNK_LENGTH, SimulatedAlohaEnvironment.STATE_DIM), actions.shape());
    }

    @Test
    void aWrongObservationIsNamedByKey() {
        Map<String, Object> obs = new LinkedHashMap<>(new SimulatedAlohaEnvironment("fold").getObservation());
        Map<String, Object> images = new LinkedHashMap<>((Map<String, Object>) obs.get("images"));
        images.put("cam_left_wrist", NdArray.zeros(DType.UINT8, 224, 224, 3));
        obs.put("images", images);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DemoPolicy(Duration.ZERO).step(obs));
        assertTrue(e.getMessage().contains("images/cam_left_wrist"), e.getMessage());
    }

    @Test
    void itsServerAdvertisesTheSpecAndRejectsBeforeThePolicyRuns() {
        DemoPolicy policy = new DemoPolicy(Duration.ZERO);
        try (PolicyServer server = PolicyServer.builder(policy).observationSpec(DemoPolicy.OBSERVATION_SPEC)
                .host("127.0.0.1").port(0).build().start();
             PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                     .connectTimeout(Duration.ofSeconds(10)).build()) {
            assertEquals(DemoPolicy.OBSERVATION_SPEC, ObservationSpec.fromMetadata(
                    (Map<?, ?>) client.metadata().get("observation_spec")));
            RemotePolicyException e = assertThrows(RemotePolicyException.class,
                    () -> client.step(Map.of("state", NdArray.ofFloat32(new float[14]))));
            assertTrue(e.getMessage().contains("state"), e.getMessage());
            assertEquals(0, policy.calls());
        }
    }
}
