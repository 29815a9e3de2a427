package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.RemotePolicyException;

class CommandLineTest {

    @Test
    void echoAnswersTheObservationItself() {
        Map<String, Object> obs = Observations.LIBERO.random(new Random(1));
        Map<String, Object> action = ServePolicies.echo(Map.of()).step(obs);
        assertEquals(Map.of("echo", obs), action);
    }

    @Test
    void randomAnswersFloat32ChunksOfTheAskedShape() {
        Map<String, Object> action = ServePolicies.random(10, 7, Map.of()).step(Map.of());
        NdArray actions = (NdArray) action.get("actions");
        assertEquals(DType.parse("<f4"), actions.dtype());
        assertEquals(Shape.of(10, 7), actions.shape());
    }

    @Test
    void failAfterAnswersNThenFails() {
        Policy p = ServePolicies.failAfter(2, Map.of());
        p.step(Map.of());
        p.step(Map.of());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.step(Map.of()));
        assertTrue(e.getMessage().contains("call 3"), e.getMessage());
    }

    @Test
    void observationFormatsFollowTheProtocol() {
        Map<String, Object> droid = Observations.DROID.random(new Random(2));
        assertEquals(List.of("observation/exterior_image_1_left", "observation/wrist_image_left",
                "observation/joint_position", "observation/gripper_position", "prompt"), List.copyOf(droid.keySet()));
        assertEquals(Shape.of(224, 224, 3), ((NdArray) droid.get("observation/wrist_image_left")).shape());
        Map<?, ?> images = (Map<?, ?>) Observations.ALOHA.random(new Random(2)).get("images");
        assertEquals(Shape.of(3, 224, 224), ((NdArray) images.get("cam_high")).shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Observations.parse("franka"));
        assertTrue(e.getMessage().contains("franka"));
    }

    @Test
    void metadataJsonIsParsedOrNamedWhereItBreaks() {
        assertEquals(Map.of("a", List.of(1L, 2.5, true, "x"), "b", Map.of()), Json.parse("{\"a\": [1, 2.5, true, \"x\"], \"b\": {}}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
        assertTrue(e.getMessage().contains("unexpected character"), e.getMessage());
        assertNotEquals(0, Main.run("serve", "--port", "0", "--metadata", "[1]"));
        assertNotEquals(0, Main.run("serve", "--port", "0", "--policy", "nonsense"));
    }

    @Test
    void clientCommandDrivesAServerForEveryEnvironment() {
        AtomicInteger steps = new AtomicInteger();
        Policy counting = observation -> {
            steps.incrementAndGet();
            return Map.of("actions", NdArray.ofFloat32(new float[14], 1, 14));
        };
        try (PolicyServer server = PolicyServer.builder(counting).host("127.0.0.1").port(0).build().start()) {
            for (String env : List.of("aloha", "aloha_sim", "droid", "libero")) {
                assertEquals(0, Main.run("client", "--host", "127.0.0.1", "--port", String.valueOf(server.port()),
                        "--env", env, "--num-steps", "3", "--connect-timeout-s", "10"));
            }
            assertEquals(12, steps.get());
        }
    }

    @Test
    void clientCommandFailsCleanlyWithoutAServer() throws IOException {
        assertEquals(1, Main.run("client", "--host", "127.0.0.1", "--port", String.valueOf(freePort()), "--num-steps", "1",
                "--connect-timeout-s", "1"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void serveCommandServesWhatItWasAskedTo() throws Exception {
        int port = freePort();
        Thread serving = new Thread(() -> Main.run("serve", "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--policy", "fail-after", "--fail-after", "1", "--metadata", "{\"robot\": \"aloha\"}"));
        serving.setDaemon(true); // the command serves until the JVM ends, as it does from a shell
        serving.start();
        try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port)
                .retryInterval(Duration.ofMillis(100)).connectTimeout(Duration.ofSeconds(20)).build()) {
            assertEquals("aloha", client.metadata().get("robot"));
            Map<String, Object> obs = Map.of("state", NdArray.ofFloat64(new double[] {1, 2}));
            assertEquals(obs, client.step(obs).get("echo"));
            RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(obs));
            assertTrue(e.getMessage().contains("call 2 fails"), e.getMessage());
        }
    }
}
