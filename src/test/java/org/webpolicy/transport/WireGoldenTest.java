package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * The bytes on the wire, both ways, are the bytes the Python peers send (golden messages made
 * by the Python implementation).
 */
class WireGoldenTest {

    private final MsgpackCodec codec = new MsgpackCodec();

    static byte[] golden(String name) {
        try (InputStream in = WireGoldenTest.class.getResourceAsStream("/golden/msgpack/" + name + ".msgpack")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> goldenMap(String name) {
        return (Map<String, Object>) codec.unpack(golden(name));
    }

    @Test
    void clientRequestsAreThePythonClientsBytes() throws Exception {
        RecordingServer recorder = new RecordingServer(null);
        recorder.start();
        recorder.started.await(10, TimeUnit.SECONDS);
        try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(recorder.getPort())
                .protocolMode(ProtocolMode.ENVELOPE).connectTimeout(Duration.ofSeconds(10)).build()) {
            recorder.reply = golden("webpolicy_reset_ack");
            client.reset(Map.of());
            assertArrayEquals(golden("webpolicy_reset_request"), recorder.requests.poll(10, TimeUnit.SECONDS));

            Map<String, Object> resetWithPayload = goldenMap("webpolicy_reset_payload_request");
            @SuppressWarnings("unchecked")
            Map<String, Object> payload = (Map<String, Object>) resetWithPayload.get("payload");
            client.reset(payload);
            assertArrayEquals(golden("webpolicy_reset_payload_request"), recorder.requests.poll(10, TimeUnit.SECONDS));

            Map<String, Object> stepRequest = goldenMap("webpolicy_step_request");
            @SuppressWarnings("unchecked")
            Map<String, Object> obs = (Map<String, Object>) stepRequest.get("obs");
            recorder.reply = golden("webpolicy_step_response");
            Map<String, Object> action = client.step(obs);
            assertArrayEquals(golden("webpolicy_step_request"), recorder.requests.poll(10, TimeUnit.SECONDS));
            assertEquals(goldenMap("webpolicy_step_response").get("action"), action);
        } finally {
            recorder.stop(1000);
        }
    }

    @Test
    void serverRepliesAreThePythonServersBytes() throws Exception {
        Map<String, Object> goldenAction = goldenMap("webpolicy_step_response");
        @SuppressWarnings("unchecked")
        Map<String, Object> action = (Map<String, Object>) goldenAction.get("action");
        Policy fixed = new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return action;
            }

            @Override
            public Map<String, Object> metadata() {
                return goldenMap("openpi_metadata_example");
            }
        };
        try (PolicyServer server = PolicyServer.builder(fixed).host("127.0.0.1").port(0).build().start()) {
            RawClient raw = RawClient.connect(server.port());
            assertArrayEquals(golden("openpi_metadata_example"), raw.nextBinary());
            raw.send(golden("webpolicy_step_request"));
            assertArrayEquals(golden("webpolicy_step_response"), raw.nextBinary());
            raw.send(golden("webpolicy_reset_request"));
            assertArrayEquals(golden("webpolicy_reset_ack"), raw.nextBinary());
            raw.close();
        }
        try (PolicyServer server = PolicyServer.builder(obs -> Map.of()).host("127.0.0.1").port(0).build().start()) {
            RawClient raw = RawClient.connect(server.port());
            assertArrayEquals(golden("openpi_metadata_empty"), raw.nextBinary());
            raw.close();
        }
    }
}
