package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.LinkedHashMap;
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
import picocli.CommandLine;

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
    }

    @Test
    void metadataJsonIsParsedStrictlyOrNamedWhereItBreaks() {
        assertEquals(Map.of("a", List.of(1L, 2.5, true, "x"), "b", Map.of()),
                JsonValues.parse("{\"a\": [1, 2.5, true, \"x\"], \"b\": {}}"));
        assertEquals(new BigInteger("18446744073709551615"), JsonValues.parse("18446744073709551615"));
        for (String bad : List.of("{\"a\": }", "01", "1.", "{\"a\": 1} x", "{\"a\": 1, \"a\": 2}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsonValues.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("invalid JSON at line 1, column "), e.getMessage());
        }
        Map<String, Object> printed = new LinkedHashMap<>();
        printed.put("state", NdArray.ofFloat64(new double[] {1, 2}));
        printed.put("n", List.of(1L, 2.5));
        assertEquals("{\"state\":\"" + printed.get("state") + "\",\"n\":[1,2.5]}", JsonValues.print(printed));
    }

    /** Runs the command line with its output captured: {exit code, stdout, stderr}. */
    static Object[] runCaptured(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Object[] {code, out.toString(), err.toString()};
    }

    private static void assertRefused(String expectedMessage, String... args) {
        Object[] r = runCaptured(args);
        assertEquals(2, r[0], "exit code of " + List.of(args) + "; stderr:\n" + r[2]);
        assertTrue(((String) r[2]).contains(expectedMessage), "stderr of " + List.of(args) + ":\n" + r[2]);
        assertTrue(((String) r[2]).contains("Usage:"), "the usage follows the message");
        assertEquals("", r[1], "nothing ran, nothing was printed");
    }

    @Test
    void aNegativeDrainIsRefused() {
        assertRefused("--drain-ms", "serve", "--drain-ms", "-1");
        assertTrue(((String) runCaptured("serve", "--help")[1]).contains("--drain-ms"));
    }

    @Test
    void enumOptionsNameTheirValidValuesInErrorsAndHelp() {
        assertRefused("Invalid value for option '--policy': expected one of echo, random, fail-after, demo but was 'nope'",
                "serve", "--policy", "nope");
        assertRefused("expected one of aloha, aloha_sim, droid, libero but was 'franka'", "client", "--env", "franka");
        assertRefused("expected one of raw, envelope, auto but was 'json'", "client", "--protocol", "json");
        assertRefused("expected one of sync, async, scheduler but was 'later'", "demo", "--broker", "later");
        String clientHelp = (String) runCaptured("client", "--help")[1];
        assertTrue(clientHelp.contains("aloha, aloha_sim, droid, libero"), clientHelp);
        assertTrue(clientHelp.contains("raw, envelope, auto"), clientHelp);
        assertTrue(((String) runCaptured("serve", "--help")[1]).contains("echo, random, fail-after, demo"));
        // either spelling and any case
        assertEquals(Observations.ALOHA_SIM, new Choices.Environments().convert("ALOHA-SIM"));
        assertEquals(ServeCommand.Kind.FAIL_AFTER, new Choices.ServedPolicies().convert("fail_after"));
    }

    @Test
    void everyArgumentIsCheckedBeforeAnythingStarts() {
        assertRefused("--num-steps must be at least 1, got -5", "client", "--num-steps", "-5");
        assertRefused("--port must be from 1 to 65535, got 70000", "client", "--port", "70000");
        assertRefused("--uri must be a ws:// or wss:// URI with a host, got 'http://x:1'", "client", "--uri", "http://x:1");
        assertRefused("--connect-timeout-s must be at least 1, got 0", "client", "--connect-timeout-s", "0");
        assertRefused("--port must be from 0 to 65535, got -1", "serve", "--port", "-1");
        assertRefused("--action-horizon must be at least 1, got 0", "serve", "--action-horizon", "0");
        assertRefused("--max-message-mb must be from 1 to 2047, got 4096", "serve", "--max-message-mb", "4096");
        assertRefused("--metadata must be a JSON object, got [1]", "serve", "--port", "0", "--metadata", "[1]");
        assertRefused("--metadata: invalid JSON at line 1, column ", "serve", "--port", "0", "--metadata", "{\"a\": 01}");
        assertRefused("--metadata cannot be sent: ", "serve", "--port", "0", "--metadata", "{\"a\": 123456789012345678901234}");
        assertRefused("--hz must be a rate above 0, got -1.0", "demo", "--hz", "-1");
        assertRefused("--steps must be at least 1, got 0", "demo", "--steps", "0");
        assertRefused("--action-horizon must be from 1 to 50, got 60", "demo", "--action-horizon", "60");
        assertRefused("--threshold must be from 1 to 25, got 30", "demo", "--threshold", "30");
        assertRefused("--connect must be a ws:// or wss:// URI with a host", "demo", "--connect", "localhost:8000");
        assertRefused("--clients must be from 1 to 256, got 0", "bench", "--clients", "0");
    }

    @Test
    void imageCodecIsOfferedAndReportedOrRefusedWithItsForms() {
        assertRefused("Image codec must be raw, png, jpeg or jpeg:QUALITY (1-100), got 'gif'", "client", "--image-codec", "gif");
        assertRefused("JPEG quality must be 1 to 100, got 0", "demo", "--image-codec", "jpeg:0");
        Policy counting = observation -> Map.of("actions", NdArray.ofFloat32(new float[14], 1, 14));
        for (boolean accept : new boolean[] {true, false}) {
            try (PolicyServer server = PolicyServer.builder(counting).acceptImageCodecs(accept).host("127.0.0.1").port(0)
                    .build().start()) {
                Object[] r = runCaptured("client", "--host", "127.0.0.1", "--port", String.valueOf(server.port()),
                        "--num-steps", "2", "--image-codec", "jpeg:80", "--connect-timeout-s", "10");
                assertEquals(0, r[0], "stderr:\n" + r[2]);
                String expected = accept ? "Images sent as jpeg:80 (the server accepted it)"
                        : "Images sent raw: the server did not accept jpeg:80";
                assertTrue(((String) r[1]).contains(expected), (String) r[1]);
            }
        }
    }

    @Test
    void clientCommandExitsNonZeroWhenAStepFails() {
        try (PolicyServer server = PolicyServer.builder(ServePolicies.failAfter(2, Map.of())).host("127.0.0.1").port(0)
                .build().start()) {
            Object[] r = runCaptured("client", "--host", "127.0.0.1", "--port", String.valueOf(server.port()),
                    "--env", "libero", "--num-steps", "5", "--connect-timeout-s", "10");
            assertEquals(1, r[0], "stderr:\n" + r[2]);
            assertTrue(((String) r[1]).contains("Sent 2 of 5 libero observations"), (String) r[1]);
            assertTrue(((String) r[2]).contains("step 3 of 5 failed: "), (String) r[2]);
            assertTrue(((String) r[2]).contains("call 3 fails"), (String) r[2]);
        }
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
