package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.ObservationSpec;

/** A server with an observation spec: advertised in the metadata, checked before the policy. */
class ObservationSpecServerTest {

    private static final ObservationSpec SPEC = ObservationSpec.builder()
            .array("images/cam_high", DType.UINT8, 3, ObservationSpec.ANY, ObservationSpec.ANY)
            .array("state", DType.FLOAT32, 2)
            .string("prompt")
            .build();

    @Test
    void mismatchesAreNamedToThatClientAndOthersGoOn() throws Exception {
        TestPolicies.Echo echo = new TestPolicies.Echo();
        try (PolicyServer server = PolicyServer.builder(echo).observationSpec(SPEC)
                .observationCheck(obs -> {
                    if ("forbidden".equals(obs.get("prompt"))) {
                        throw new IllegalArgumentException("prompt: forbidden");
                    }
                }).host("127.0.0.1").port(0).build().start();
             PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                     .connectTimeout(Duration.ofSeconds(10)).build()) {
            Map<String, Object> metadata = client.connect().metadata();
            assertEquals("echo", metadata.get("policy"), "the policy's metadata is kept");
            assertEquals(SPEC, ObservationSpec.fromMetadata((Map<?, ?>) metadata.get("observation_spec")));

            Map<String, Object> good = new LinkedHashMap<>(TestPolicies.observation(1));
            good.put("images", Map.of("cam_high", NdArray.zeros(DType.UINT8, 3, 48, 64)));
            assertEquals(good.get("state"), ((Map<?, ?>) client.step(good).get("echo")).get("state"));

            Map<String, Object> wrongDim = new LinkedHashMap<>(good);
            wrongDim.put("images", Map.of("cam_high", NdArray.zeros(DType.UINT8, 4, 48, 64)));
            RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(wrongDim));
            assertTrue(e.serverText().contains("images/cam_high: dim 0 is 4, expected 3"), e.serverText());

            Map<String, Object> missing = new LinkedHashMap<>(good);
            missing.remove("state");
            missing.put("prompt", List.of("not", "a", "str"));
            e = assertThrows(RemotePolicyException.class, () -> client.step(missing));
            assertTrue(e.serverText().contains("state: missing; prompt: expected a str, got a list"), e.serverText());

            Map<String, Object> forbidden = new LinkedHashMap<>(good);
            forbidden.put("prompt", "forbidden");
            e = assertThrows(RemotePolicyException.class, () -> client.step(forbidden));
            assertTrue(e.serverText().contains("prompt: forbidden"), "the custom check runs after the spec");

            assertEquals(1, echo.steps.get(), "the policy saw only the good observation");
            client.step(good); // the same client reconnects and is served
            try (PolicyClient other = PolicyClient.builder().host("127.0.0.1").port(server.port()).build()) {
                assertEquals(good.get("state"), ((Map<?, ?>) other.step(good).get("echo")).get("state"));
            }
            assertEquals(3, echo.steps.get());
        }
    }
}
