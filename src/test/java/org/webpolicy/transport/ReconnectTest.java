package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.transport.client.ClientConnector;
import org.webpolicy.transport.client.ClientHealth;

/**
 * A client outlives its server's restart: reconnection pauses start small and are capped, the
 * outage is counted and logged once, an unreachable server is named as such, and an unclosed
 * client never keeps its JVM alive.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class ReconnectTest {

    private final Wire wire;

    ReconnectTest(Wire wire) {
        this.wire = wire;
    }

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private static int deadPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    private PolicyServer serve(int port) {
        return wire.on(PolicyServer.builder(obs -> Map.of("echo", obs.get("n")))).host("127.0.0.1").port(port).build().start();
    }

    @Test
    void pausesStartAt50MsDoubleAndAreCappedWithJitter() {
        Duration cap = Duration.ofMillis(150);
        for (int i = 0; i < 200; i++) {
            long first = ClientConnector.pauseNanos(0, cap);
            assertTrue(first <= 50_000_000L && first >= 37_500_000L, String.valueOf(first));
            long second = ClientConnector.pauseNanos(1, cap);
            assertTrue(second <= 100_000_000L && second >= 75_000_000L, String.valueOf(second));
            long late = ClientConnector.pauseNanos(40, cap);
            assertTrue(late <= 150_000_000L && late >= 112_500_000L, String.valueOf(late));
            assertTrue(ClientConnector.pauseNanos(0, Duration.ofMillis(10)) <= 10_000_000L);
        }
    }

    @Test
    void aRestartedServerIsReachedAgainAndTheOutageIsCountedAndLoggedOnce() throws Exception {
        PolicyServer first = serve(0);
        int port = first.port();
        PolicyClient client = open.add(wire.client(port)
                .connectTimeout(Duration.ofSeconds(30)).build());
        assertEquals(1L, client.step(Map.of("n", 1L)).get("echo"));
        assertEquals(new ConnectionStats(1, 0, 0, 0, null, null), client.connectionStats());

        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        CompletableFuture<PolicyServer> second;
        Map<String, Object> action;
        try {
            first.close();
            // The server comes back on the same port 1.5 s later; meanwhile the robot calls.
            second = CompletableFuture.supplyAsync(() -> {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return serve(port);
            });
            action = client.step(Map.of("n", 2L));
        } finally {
            System.setErr(err);
        }
        open.add(second.get(30, TimeUnit.SECONDS));
        assertEquals(2L, action.get("echo"));
        ConnectionStats stats = client.connectionStats();
        assertEquals(2, stats.connections(), String.valueOf(stats));
        assertEquals(1, stats.reconnects(), String.valueOf(stats));
        assertEquals(1, stats.outages(), String.valueOf(stats));
        assertNull(stats.unreachableSince(), "reachable again");
        // Pauses of 50 ms growing to 150 ms: several attempts in a 1.5 s outage (a fixed 5 s made one).
        assertTrue(stats.failedAttempts() >= 3, String.valueOf(stats));
        assertNotNull(stats.lastFailure());

        List<String> warnings = new ArrayList<>();
        for (String line : log.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.contains("WARN") && line.contains(ClientHealth.class.getName())) {
                warnings.add(line);
            }
        }
        assertEquals(1, warnings.size(), "one WARN for the outage, not one per attempt: " + warnings);
        assertTrue(warnings.get(0).contains("127.0.0.1:" + port), warnings.get(0));
    }

    @Test
    void anUnreachableServerIsNamedAsSuchWithSinceWhenAndWhy() throws Exception {
        int port = deadPort();
        Instant before = Instant.now();
        PolicyClient client = open.add(wire.client(port)
                .connectTimeout(Duration.ofMillis(500)).build());
        ServerUnreachableException e = assertThrows(ServerUnreachableException.class, () -> client.step(Map.of()));
        assertTrue(e.getMessage().contains("server unreachable since " + e.since()), e.getMessage());
        assertTrue(e.lastCause().startsWith("refused"), e.lastCause());
        assertFalse(e.since().isBefore(before), e.since() + " " + before);
        ConnectionStats stats = client.connectionStats();
        assertEquals(0, stats.connections());
        assertEquals(1, stats.outages());
        assertEquals(e.since(), stats.unreachableSince());
        assertTrue(stats.failedAttempts() >= 2, String.valueOf(stats));
    }

    @Test
    void theOutageBeginsWhenTheConnectionIsLostNotAtTheNextCall() throws Exception {
        PolicyServer server = serve(0);
        PolicyClient client = open.add(wire.client(server.port())
                .connectTimeout(Duration.ofMillis(400)).build());
        client.step(Map.of("n", 1L));
        server.close();
        Instant lost = null;
        for (int i = 0; i < 200 && lost == null; i++) {
            lost = client.connectionStats().unreachableSince();
            Thread.sleep(50);
        }
        assertNotNull(lost, "the loss was noticed without a call");
        assertTrue(client.connectionStats().lastFailure().startsWith("connection lost"), client.connectionStats().lastFailure());
        ServerUnreachableException e = assertThrows(ServerUnreachableException.class, () -> client.step(Map.of("n", 2L)));
        assertEquals(lost, e.since());
        assertEquals(1, client.connectionStats().outages());
    }

    @Test
    void aServerThatAcceptsButNeverAnswersCostsOneAttemptNotTheConnectTimeout() throws Exception {
        // The kernel completes the TCP handshake for a listening socket nobody accepts from: a
        // server that went quiet (one closing). The client must move on, here to the next server.
        ServerSocket quiet = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        open.add(quiet);
        PolicyServer live = open.add(serve(0));
        PolicyClient client = open.add(wire.builder()
                .endpoints(List.of(wire.uri(quiet.getLocalPort()), wire.uri(live.port())))
                .connectTimeout(Duration.ofSeconds(20)).build());
        assertEquals(1L, client.step(Map.of("n", 1L)).get("echo"));
        ConnectionStats stats = client.connectionStats();
        assertEquals(1, stats.failedAttempts(), String.valueOf(stats));
        assertTrue(stats.lastFailure().contains("no handshake within 2000 ms"), stats.lastFailure());
    }

    @Test
    void aServerThatClosesDuringTheHandshakeIsTriedAgain() throws Exception {
        // A server going away closes connections whose handshake it had not answered: that is no
        // refusal, and the next attempt (here to the next server) must be made.
        ServerSocket closing = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        open.add(closing);
        Thread closer = new Thread(() -> {
            while (!closing.isClosed()) {
                try (java.net.Socket s = closing.accept()) {
                    s.getInputStream().read(new byte[256]); // part of the request head, then gone
                } catch (IOException e) {
                    // closed: the test is over
                }
            }
        }, "closing-server");
        closer.setDaemon(true);
        closer.start();
        PolicyServer live = open.add(serve(0));
        PolicyClient client = open.add(wire.builder()
                .endpoints(List.of(wire.uri(closing.getLocalPort()), wire.uri(live.port())))
                .connectTimeout(Duration.ofSeconds(20)).build());
        assertEquals(1L, client.step(Map.of("n", 1L)).get("echo"));
        ConnectionStats stats = client.connectionStats();
        assertEquals(1, stats.failedAttempts(), String.valueOf(stats));
        assertTrue(stats.lastFailure().contains("ended during the handshake"), stats.lastFailure());
    }

    /** Runs {@link UnclosedClientMain} in its own JVM and returns its output once it has exited. */
    private String runUnclosed(String mode, int port) throws Exception {
        String java = System.getProperty("java.home") + "/bin/java";
        List<String> command = new ArrayList<>(List.of(java, "-cp", ChildJvm.classPath(),
                UnclosedClientMain.class.getName(), mode, String.valueOf(port)));
        if (wire == Wire.WSS) {
            command.add(TestTls.get().store.toString());
        }
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Generous: the JVM exits within a second or two once main returns; a kept-alive one never does.
        boolean exited = child.waitFor(60, TimeUnit.SECONDS);
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited) {
            child.destroyForcibly();
            throw new AssertionError("the JVM did not exit after main returned with an unclosed client ("
                    + mode + "); its output:\n" + output);
        }
        assertEquals(0, child.exitValue(), output);
        return output;
    }

    @Test
    void anUnclosedClientNeverKeepsItsJvmAlive() throws Exception {
        PolicyServer server = open.add(serve(0));
        assertTrue(runUnclosed("step", server.port()).contains("stepped: {echo=1}"));
        assertTrue(runUnclosed("unreachable", deadPort()).contains("unreachable: "));
    }
}
