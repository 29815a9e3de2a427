package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.java_websocket.enums.ReadyState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.mcap.ChunkCompression;
import org.webpolicy.record.Recorder;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/** The record proxy's upstream connections: made off the decoder thread robots share, given up on, and bounded. */
class RecordingProxyTest {

    @TempDir
    Path dir;

    /**
     * A TCP stand-in for the upstream: the first {@code hang} connections are accepted and never
     * answered (an upstream that hangs); the others are piped to a real server.
     */
    static final class Gate implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> hung = new CopyOnWriteArrayList<>();
        /** Counted down as each hung connection is accepted. */
        final CountDownLatch hungAccepted;
        /** Counted down as each hung connection is closed by the other side (the proxy). */
        final CountDownLatch hungClosed;

        Gate(int target, int hang) throws IOException {
            hungAccepted = new CountDownLatch(hang);
            hungClosed = new CountDownLatch(hang);
            Thread accept = new Thread(() -> {
                int n = 0;
                while (!listener.isClosed()) {
                    try {
                        Socket s = listener.accept();
                        if (n++ < hang) {
                            hung.add(s);
                            hungAccepted.countDown();
                            daemon(() -> {
                                try (InputStream in = s.getInputStream()) {
                                    while (in.read() >= 0) {
                                        // swallow the upgrade request, answer nothing
                                    }
                                } catch (IOException e) {
                                    // closed here
                                }
                                hungClosed.countDown();
                            });
                        } else {
                            Socket up = new Socket(InetAddress.getLoopbackAddress(), target);
                            daemon(() -> pipe(s, up));
                            daemon(() -> pipe(up, s));
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "gate-accept");
            accept.setDaemon(true);
            accept.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private static void daemon(Runnable r) {
            Thread t = new Thread(r, "gate-pipe");
            t.setDaemon(true);
            t.start();
        }

        private static void pipe(Socket from, Socket to) {
            byte[] buf = new byte[1 << 16];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // closing
                }
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : hung) {
                s.close();
            }
        }
    }

    private RecordingProxy proxy(int upstreamPort, Recorder recorder, int maxConnections, Duration upstreamTimeout)
            throws InterruptedException {
        // One decoder thread: every robot's connection shares it, which is the case to show.
        RecordingProxy proxy = new RecordingProxy(new InetSocketAddress("127.0.0.1", 0),
                URI.create("ws://127.0.0.1:" + upstreamPort), recorder, MessageLimit.DEFAULT_BYTES, 1, maxConnections,
                upstreamTimeout);
        proxy.start();
        assertTrue(proxy.started.await(30, TimeUnit.SECONDS), "the proxy did not start");
        return proxy;
    }

    private Recorder recorder() {
        return Recorder.builder(dir.resolve("proxy.mcap")).compression(ChunkCompression.NONE).build();
    }

    private static Map<String, Object> observation() {
        return RecordReplayTest.observation(1);
    }

    private static final String UPGRADE = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    /** A raw socket that has sent an upgrade request (with {@code extraHeaders}, each ending in CRLF). */
    static Socket upgrade(int port, String extraHeaders) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(30_000);
        s.getOutputStream().write((UPGRADE + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    /** Everything the server answers until it closes: the status line, headers and body of a refusal. */
    static String answer(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** The answer to a raw upgrade request (read until the server closes). */
    static String rawUpgrade(int port, String extraHeaders) throws IOException {
        try (Socket s = upgrade(port, extraHeaders)) {
            return answer(s);
        }
    }

    /** The answer to a raw upgrade request sent one byte per write. */
    static String upgradeByteByByte(int port) throws IOException, InterruptedException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            s.setTcpNoDelay(true);
            for (byte b : (UPGRADE + "\r\n").getBytes(StandardCharsets.US_ASCII)) {
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                Thread.sleep(1);
            }
            return answer(s);
        }
    }

    /** A port nothing listens on. */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRobotWhoseUpstreamHangsDoesNotHoldAnotherRobotsSession() throws Exception {
        try (PolicyServer server = PolicyServer.builder(new RecordReplayTest.StatePolicy()).host("127.0.0.1").port(0).build().start();
                Gate gate = new Gate(server.port(), 1);
                Recorder recorder = recorder()) {
            RecordingProxy proxy = proxy(gate.port(), recorder, 8, Duration.ofMinutes(10));
            try {
                RecordReplayTest.BareClient first = new RecordReplayTest.BareClient(proxy.getPort());
                first.connect();
                assertTrue(gate.hungAccepted.await(20, TimeUnit.SECONDS), "the proxy did not connect the first robot upstream");

                try (PolicyClient second = PolicyClient.builder().uri("ws://127.0.0.1:" + proxy.getPort()).reconnect(false)
                        .build().connect()) {
                    assertEquals(new RecordReplayTest.StatePolicy().metadata(), second.metadata());
                    Object actions = second.step(observation()).get("actions");
                    assertEquals(100f, ((NdArray) actions).toFloatArray()[0], "the upstream's action, through the proxy");
                }
                assertEquals(ReadyState.NOT_YET_CONNECTED, first.getReadyState(),
                        "the first robot still waits for its upstream, while the second's session went through");

                // The hung upstream gives up: the first robot is refused, never opened.
                for (Socket s : gate.hung) {
                    s.close();
                }
                assertTrue(((String) first.next()).startsWith("closed"), "the first robot is refused");
                assertFalse(first.isOpen());
            } finally {
                proxy.stop(1000);
            }
            assertEquals(1, recorder.stats().exchangesRecorded(), "the second robot's step");
        }
    }

    @Test
    void anUpstreamThatDoesNotAnswerInTimeIsGivenUpAndItsSocketClosed() throws Exception {
        try (Gate gate = new Gate(1, 1); Recorder recorder = recorder()) {
            RecordingProxy proxy = proxy(gate.port(), recorder, 8, Duration.ofMillis(300));
            try {
                String answer = rawUpgrade(proxy.getPort(), "");
                assertTrue(answer.startsWith("HTTP/1.1 504 Gateway Timeout\r\n"), answer);
                assertTrue(answer.contains("did not accept the connection within 300 ms"), answer);
                assertTrue(gate.hungClosed.await(30, TimeUnit.SECONDS),
                        "the proxy closes the upstream socket it gave up on (its client thread is not left in a read)");
            } finally {
                proxy.stop(1000);
            }
        }
    }

    /**
     * The replay server's bound counts connections still in their handshake: a silent one holds
     * the only slot until its handshake time is up, is then closed, and a robot gets in.
     */
    @Test
    void aSilentConnectionHoldsItsSlotOnlyUntilItsHandshakeTimeIsUp() throws Exception {
        Path file = dir.resolve("one.mcap");
        try (Recorder recorder = Recorder.builder(file).build();
                org.webpolicy.record.RecordingPolicy robot = new org.webpolicy.record.RecordingPolicy(
                        new RecordReplayTest.StatePolicy(), recorder)) {
            robot.step(observation());
        }
        ReplayServer replay = new ReplayServer(new InetSocketAddress("127.0.0.1", 0), file, ReplayServer.Match.ORDER, false,
                // Long enough for a robot's whole handshake on a loaded machine: the robot below must
                // finish its own within the same time.
                MessageLimit.DEFAULT_BYTES, 1, Duration.ofSeconds(3));
        replay.start();
        assertTrue(replay.started.await(30, TimeUnit.SECONDS));
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), replay.getPort())) {
            // Connected, sending nothing: the server closes it when its handshake time is up.
            silent.setSoTimeout(30_000);
            assertEquals(-1, silent.getInputStream().read(), "the silent connection is closed");
            RecordReplayTest.BareClient robot = new RecordReplayTest.BareClient(replay.getPort());
            assertTrue(robot.connectBlocking(30, TimeUnit.SECONDS), "its slot is free again");
            assertTrue(robot.next() instanceof byte[], "the recorded metadata");
            RecordReplayTest.BareClient another = new RecordReplayTest.BareClient(replay.getPort());
            assertFalse(another.connectBlocking(30, TimeUnit.SECONDS), "one robot too many is refused");
            String answer = rawUpgrade(replay.getPort(), "");
            assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), answer);
            assertTrue(answer.contains("too many connections"), answer);
            // The same head a byte at a time: its blank line is found across arrivals.
            String piecewise = upgradeByteByByte(replay.getPort());
            assertTrue(piecewise.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), piecewise);
            robot.closeBlocking();
        } finally {
            replay.stop(1000);
        }
    }

    @Test
    void robotsBeyondTheBoundAreRefusedUntilOneLeaves() throws Exception {
        try (PolicyServer server = PolicyServer.builder(new RecordReplayTest.StatePolicy()).host("127.0.0.1").port(0).build().start();
                Gate gate = new Gate(server.port(), 0);
                Recorder recorder = recorder()) {
            RecordingProxy proxy = proxy(gate.port(), recorder, 1, Duration.ofSeconds(20));
            try {
                try (PolicyClient first = PolicyClient.builder().uri("ws://127.0.0.1:" + proxy.getPort()).reconnect(false)
                        .build().connect()) {
                    first.step(observation());
                    RecordReplayTest.BareClient second = new RecordReplayTest.BareClient(proxy.getPort());
                    assertFalse(second.connectBlocking(30, TimeUnit.SECONDS), "one robot too many is refused");
                    String answer = rawUpgrade(proxy.getPort(), "");
                    assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), answer);
                    assertTrue(answer.contains("too many connections (1 at most"), answer);
                    first.step(observation()); // the held one is served on
                }
                // Once the first has left, a robot gets in again (the proxy sees the close shortly after).
                boolean in = false;
                for (int i = 0; i < 100 && !in; i++) {
                    RecordReplayTest.BareClient third = new RecordReplayTest.BareClient(proxy.getPort());
                    in = third.connectBlocking(30, TimeUnit.SECONDS);
                    if (in) {
                        third.closeBlocking();
                    } else {
                        Thread.sleep(50);
                    }
                }
                assertTrue(in, "a robot gets in once the first has left");
            } finally {
                proxy.stop(1000);
            }
        }
    }

    @Test
    void anUpstreamThatCannotBeReachedGetsTheRobotA502SayingWhy() throws Exception {
        try (Recorder recorder = recorder()) {
            RecordingProxy proxy = proxy(closedPort(), recorder, 8, Duration.ofSeconds(20));
            try {
                String answer = rawUpgrade(proxy.getPort(), "");
                assertTrue(answer.startsWith("HTTP/1.1 502 Bad Gateway\r\n"), answer);
                assertTrue(answer.contains("could not be reached"), answer);
                assertTrue(answer.contains("Content-Type: text/plain"), answer);
            } finally {
                proxy.stop(1000);
            }
        }
    }

    /** The upstream's own refusal (a wrong API key: 401) reaches the robot as it was: status, headers, body. */
    @Test
    void anUpstreamRefusalReachesTheRobotWithItsOwnStatus() throws Exception {
        try (PolicyServer server = PolicyServer.builder(new RecordReplayTest.StatePolicy()).host("127.0.0.1").port(0)
                .apiKey("sesame").build().start();
                Recorder recorder = recorder()) {
            String direct = rawUpgrade(server.port(), "Authorization: Api-Key wrong\r\n");
            RecordingProxy proxy = proxy(server.port(), recorder, 8, Duration.ofSeconds(20));
            try {
                String viaProxy = rawUpgrade(proxy.getPort(), "Authorization: Api-Key wrong\r\n");
                assertTrue(direct.startsWith("HTTP/1.1 401 Unauthorized\r\n"), direct);
                assertTrue(viaProxy.startsWith("HTTP/1.1 401 Unauthorized\r\n"), viaProxy);
                assertTrue(viaProxy.contains("WWW-Authenticate: Api-Key\r\n"), viaProxy);
                assertEquals(direct.substring(direct.indexOf("\r\n\r\n")), viaProxy.substring(viaProxy.indexOf("\r\n\r\n")),
                        "the same body");
                Exception e = assertThrows(Exception.class, () -> PolicyClient.builder().uri("ws://127.0.0.1:" + proxy.getPort())
                        .apiKey("wrong").reconnect(false).build().connect());
                assertTrue(String.valueOf(e.getMessage()).contains("API key"), "our client reads the 401 as a refused key: " + e);
                try (PolicyClient good = PolicyClient.builder().uri("ws://127.0.0.1:" + proxy.getPort()).apiKey("sesame")
                        .reconnect(false).build().connect()) {
                    good.step(observation());
                }
            } finally {
                proxy.stop(1000);
            }
            assertEquals(1, recorder.stats().exchangesRecorded(), "the robot with the key");
        }
    }

    @Test
    void aRobotStillInItsHandshakeWhenTheProxyStopsGetsA503() throws Exception {
        try (Gate gate = new Gate(1, 1); Recorder recorder = recorder()) {
            RecordingProxy proxy = proxy(gate.port(), recorder, 8, Duration.ofMinutes(10));
            try (Socket robot = upgrade(proxy.getPort(), "")) {
                assertTrue(gate.hungAccepted.await(20, TimeUnit.SECONDS), "the robot is held while its upstream connects");
                proxy.stop(1000);
                String answer = answer(robot);
                assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), answer);
                assertTrue(answer.contains("shutting down"), answer);
                assertTrue(gate.hungClosed.await(30, TimeUnit.SECONDS), "its upstream connection is given up");
            } finally {
                proxy.stop(1000);
            }
        }
    }

    /**
     * A robot that gave up during its handshake (here: it had the 101 and the metadata, as a
     * loaded robot whose timer fired at that moment, and cut the connection) and came back on a
     * new one: the recording holds one connection, the one it used, so a replay serves it first.
     */
    @Test
    void aRobotThatGaveUpDuringItsHandshakeLeavesNoConnectionInTheRecording() throws Exception {
        Path file = dir.resolve("proxy.mcap");
        try (PolicyServer server = PolicyServer.builder(new RecordReplayTest.StatePolicy()).host("127.0.0.1").port(0).build().start()) {
            try (Recorder recorder = recorder()) {
                RecordingProxy proxy = proxy(server.port(), recorder, 8, Duration.ofSeconds(20));
                try {
                    try (Socket first = upgrade(proxy.getPort(), "")) {
                        java.io.DataInputStream in = new java.io.DataInputStream(first.getInputStream());
                        String head = readHead(in);
                        assertTrue(head.startsWith("HTTP/1.1 101"), head);
                        int b0 = in.readUnsignedByte();
                        assertEquals(0x82, b0, "a binary frame: the metadata");
                        int len = in.readUnsignedByte() & 0x7f;
                        in.readNBytes(len == 126 ? in.readUnsignedShort() : len);
                        first.setSoLinger(true, 0); // cut, as a client whose handshake timer fired
                    }
                    try (PolicyClient second = PolicyClient.builder().uri("ws://127.0.0.1:" + proxy.getPort()).reconnect(false)
                            .build().connect()) {
                        second.step(observation());
                    }
                } finally {
                    proxy.stop(1000);
                }
            }
        }
        try (org.webpolicy.record.RecordingReader reader = org.webpolicy.record.RecordingReader.open(file)) {
            int exchanges = 0;
            while (reader.next() != null) {
                exchanges++;
            }
            assertEquals(1, exchanges);
            assertEquals(1, reader.connections().size(), "only the connection the robot used: " + reader.connections().keySet());
        }
    }

    private static String readHead(java.io.DataInputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.readUnsignedByte());
        }
        return head.toString();
    }
}
