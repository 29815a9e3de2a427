package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.record.ContinuingPolicy;
import org.webpolicy.record.RecordedExchange;
import org.webpolicy.record.Recorder;
import org.webpolicy.record.RecordingPolicy;
import org.webpolicy.record.RecordingReader;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.RemotePolicyException;
import picocli.CommandLine;

/** {@code webpolicy record} between a client and a server, then {@code replay} and {@code inspect} of what it wrote. */
class RecordReplayTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    @TempDir
    Path dir;

    /** Answers with actions that depend on the state; fails when state[0] is negative. */
    static final class StatePolicy implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            double first = ((NdArray) observation.get("state")).toDoubleArray()[0];
            if (first < 0) {
                throw new IllegalStateException("negative state " + first);
            }
            float[] a = new float[10 * 14];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (first * 100 + i);
            }
            return Map.of("actions", NdArray.ofFloat32(a, 10, 14));
        }

        @Override
        public Map<String, Object> metadata() {
            return Map.of("policy", "state", "action_horizon", 10L);
        }
    }

    static Map<String, Object> observation(double first) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(new double[] {first, 2, 3, 4, 5, 6, 7}));
        byte[] pixels = new byte[3 * 64 * 64];
        new Random((long) first).nextBytes(pixels);
        obs.put("images", Map.of("cam_high", NdArray.ofUint8(pixels, 3, 64, 64)));
        obs.put("prompt", "stack the cups");
        return obs;
    }

    /** Runs a long-lived subcommand (record, replay) on its own thread; returns its command object once it listens. */
    private static <T> T start(String name, Class<T> type, String... args) throws Exception {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new ByteArrayOutputStream(), true));
        Thread t = new Thread(() -> cli.execute(args), "cli-" + name);
        t.setDaemon(true);
        t.start();
        T command = type.cast(cli.getSubcommands().get(name).getCommand());
        java.util.concurrent.CountDownLatch listening = command instanceof RecordCommand r ? r.listening
                : ((ReplayCommand) command).listening;
        assertTrue(listening.await(30, TimeUnit.SECONDS), name + " did not start listening");
        return command;
    }

    /** A bare WebSocket client: sends bytes, returns the frames it gets, metadata first. */
    static final class BareClient extends WebSocketClient {
        final BlockingQueue<Object> frames = new ArrayBlockingQueue<>(1000);

        BareClient(int port) {
            super(URI.create("ws://127.0.0.1:" + port));
        }

        @Override
        public void onOpen(ServerHandshake h) {
        }

        @Override
        public void onMessage(String message) {
            frames.add(message);
        }

        @Override
        public void onMessage(ByteBuffer bytes) {
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            frames.add(b);
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
            frames.add("closed " + code);
        }

        @Override
        public void onError(Exception ex) {
        }

        Object next() throws InterruptedException {
            Object f = frames.poll(20, TimeUnit.SECONDS);
            assertTrue(f != null, "no frame within 20 s");
            return f;
        }
    }

    @Test
    void recordsThroughTheProxyThenReplaysTheRepliesByteForByte() throws Exception {
        Path file = dir.resolve("session.mcap");
        String directError;
        try (PolicyServer server = PolicyServer.builder(new StatePolicy()).host("127.0.0.1").port(0).build().start()) {
            try (PolicyClient direct = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port()).reconnect(false).build().connect()) {
                directError = assertThrows(RemotePolicyException.class, () -> direct.step(observation(-1))).getMessage();
            }
            RecordCommand record = start("record", RecordCommand.class, "record", "--listen", "0", "--upstream",
                    "ws://127.0.0.1:" + server.port(), "--out", file.toString());
            int proxyPort = record.proxy.getPort();
            try (PolicyClient robot = PolicyClient.builder().uri("ws://127.0.0.1:" + proxyPort).build().connect()) {
                assertEquals(new StatePolicy().metadata(), robot.metadata(), "the upstream's metadata, through the proxy");
                for (int i = 0; i < 12; i++) {
                    robot.step(observation(i));
                }
                robot.reset(Map.of("prompt", "again"));
            }
            try (PolicyClient robot = PolicyClient.builder().uri("ws://127.0.0.1:" + proxyPort).reconnect(false).build().connect()) {
                String viaProxy = assertThrows(RemotePolicyException.class, () -> robot.step(observation(-1))).getMessage();
                assertEquals(firstLine(directError), firstLine(viaProxy), "the upstream's error, through the proxy");
            }
            Thread.sleep(200); // the proxy sees the upstream's close
            record.stop();
            for (int i = 0; i < 200 && !Files.exists(file); i++) {
                Thread.sleep(10);
            }
        }
        List<RecordedExchange> recorded = new ArrayList<>();
        try (RecordingReader r = waitComplete(file)) {
            for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                recorded.add(x);
            }
            assertNull(r.truncation());
            assertEquals(2, r.connections().size());
            assertEquals(Map.of("X-Webpolicy-Protocol", "envelope", "X-Webpolicy-Request-Id", "echo"),
                    r.connections().get(1L).handshake());
        }
        assertEquals(14, recorded.size(), "12 steps, a reset, a failure");
        assertEquals("envelope", recorded.get(0).form());
        assertEquals("reset", recorded.get(12).op());
        assertTrue(recorded.get(13).failure().contains("negative state"), recorded.get(13).failure());

        // Replay in order: the recorded requests get the recorded replies, byte for byte.
        ReplayCommand replay = start("replay", ReplayCommand.class, "replay", file.toString(), "--port", "0");
        BareClient bare = new BareClient(replay.server.getPort());
        assertTrue(bare.connectBlocking(20, TimeUnit.SECONDS));
        assertArrayEquals(CODEC.pack(new StatePolicy().metadata()), (byte[]) bare.next(), "recorded metadata");
        for (int i = 0; i < 13; i++) {
            bare.send(recorded.get(i).request());
            assertArrayEquals(recorded.get(i).reply(), (byte[]) bare.next(), "reply " + i);
        }
        bare.closeBlocking();
        // The second recorded connection: its failure comes back as the text and 1011.
        BareClient second = new BareClient(replay.server.getPort());
        assertTrue(second.connectBlocking(20, TimeUnit.SECONDS));
        second.next();
        second.send(recorded.get(13).request());
        assertTrue(((String) second.next()).contains("negative state"));
        assertEquals("closed 1011", second.next());
        replay.stop();

        // Replay by content: a real client, steps in another order, gets each observation's recorded action.
        ReplayCommand byContent = start("replay", ReplayCommand.class, "replay", file.toString(), "--port", "0",
                "--match", "content", "--timing");
        List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
        Collections.shuffle(order, new Random(3));
        try (PolicyClient robot = PolicyClient.builder().uri("ws://127.0.0.1:" + byContent.server.getPort()).build().connect()) {
            for (int i : order) {
                Map<String, Object> action = robot.step(observation(i));
                assertArrayEquals(CODEC.pack(new StatePolicy().step(observation(i))), CODEC.pack(action), "step " + i);
            }
        }
        byContent.stop();

        CommandLine cli = Main.commandLine();
        java.io.StringWriter out = new java.io.StringWriter();
        cli.setOut(new PrintWriter(out));
        Path png = dir.resolve("latency.png");
        java.io.PrintStream old = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true));
        try {
            assertEquals(0, cli.execute("inspect", file.toString(), "--plot", png.toString()));
        } finally {
            System.setOut(old);
        }
        String summary = printed.toString();
        assertTrue(summary.contains("exchanges:     14 (steps 13, resets 1, failed 1"), summary);
        assertTrue(summary.contains("latency ms:") && summary.contains("p99"), summary);
        assertTrue(Files.size(png) > 1000);
    }

    @Test
    void aBadFileNamesTheOffsetAndTheRecord() throws Exception {
        Path file = dir.resolve("bad.mcap");
        Files.write(file, "not a recording at all".getBytes());
        CommandLine cli = Main.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("inspect", file.toString()));
        assertTrue(err.toString().contains("byte offset 0") && err.toString().contains("not an MCAP file"), err.toString());
    }

    @Test
    void aFrameLongerThanTheLimitIsRefusedBeforeItsPayloadAndOthersAreServed() throws Exception {
        Path file = dir.resolve("bounded.mcap");
        try (PolicyServer server = PolicyServer.builder(new StatePolicy()).host("127.0.0.1").port(0).build().start()) {
            RecordCommand record = start("record", RecordCommand.class, "record", "--listen", "0", "--upstream",
                    "ws://127.0.0.1:" + server.port(), "--out", file.toString(), "--max-message-bytes", "65536");
            int proxyPort = record.proxy.getPort();
            assertEquals(1009, closeCodeAfterClaiming(proxyPort, 1L << 30), "a 1 GiB claim, refused from its header");
            assertEquals(1009, closeCodeAfterClaiming(proxyPort, 65537), "one byte over the limit");
            try (PolicyClient robot = PolicyClient.builder().uri("ws://127.0.0.1:" + proxyPort).build().connect()) {
                robot.step(observation(1)); // 12 KiB: under the limit, served
            }
            Thread.sleep(200);
            record.stop();
        }
        waitComplete(file).close();
        ReplayCommand replay = start("replay", ReplayCommand.class, "replay", file.toString(), "--port", "0",
                "--max-message-bytes", "65536");
        assertEquals(1009, closeCodeAfterClaiming(replay.server.getPort(), 1L << 30));
        BareClient bare = new BareClient(replay.server.getPort());
        assertTrue(bare.connectBlocking(20, TimeUnit.SECONDS));
        assertArrayEquals(CODEC.pack(new StatePolicy().metadata()), (byte[]) bare.next(), "still serving");
        bare.closeBlocking();
        replay.stop();
    }

    /**
     * Upgrades a raw connection, sends the header of a masked binary frame claiming
     * {@code claimed} bytes (and no payload) and returns the code of the close frame that comes
     * back, or -1 when the connection ends without one.
     */
    private static int closeCodeAfterClaiming(int port, long claimed) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            java.io.OutputStream out = s.getOutputStream();
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            int matched = 0;
            while (matched < 4) { // the response head ends with an empty line
                int b = in.read();
                assertTrue(b >= 0, "connection ended during the handshake");
                matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            ByteBuffer header = ByteBuffer.allocate(14).put((byte) 0x82).put((byte) (0x80 | 127)).putLong(claimed).putInt(0x01020304);
            out.write(header.array());
            out.flush();
            while (true) { // skip the metadata frame; the server's frames are not masked
                int first;
                try {
                    first = in.read();
                } catch (java.net.SocketException e) {
                    return -1;
                }
                if (first < 0) {
                    return -1;
                }
                int len = in.readUnsignedByte() & 0x7f;
                long length = len == 126 ? in.readUnsignedShort() : len == 127 ? in.readLong() : len;
                byte[] payload = in.readNBytes((int) length);
                if ((first & 0x0f) == 0x8) {
                    return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
                }
            }
        }
    }

    /**
     * A recording made around a local policy that takes continuations, with a step that could not
     * be encoded between two others: the replay skips the step nothing ever sent, and our client,
     * stepping with the same continuation, gets the recorded action and the echo it checks.
     */
    @Test
    void replaySkipsWhatWasNeverSentAndServesARecordedContinuationToAClient() throws Exception {
        Path file = dir.resolve("local.mcap");
        Continuation continuation = new Continuation(2, NdArray.ofFloat32(new float[] {0.5f, 0.25f, 1, 2}, 2, 2), 5, 99L, 7);
        Map<String, Object> unencodable = new LinkedHashMap<>(observation(2));
        unencodable.put("clock", new Object());
        try (Recorder recorder = Recorder.builder(file).build();
                RecordingPolicy robot = new RecordingPolicy(new ContinuingPolicy(), recorder)) {
            robot.step(observation(1));
            robot.step(unencodable); // the policy answers; the recording keeps the failure to encode, as not sent
            robot.step(observation(3), continuation);
        }
        try (RecordingReader r = RecordingReader.open(file)) {
            List<Boolean> sent = new ArrayList<>();
            for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                sent.add(x.sent());
            }
            assertEquals(List.of(true, false, true), sent);
        }
        ReplayCommand replay = start("replay", ReplayCommand.class, "replay", file.toString(), "--port", "0");
        try (PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + replay.server.getPort()).reconnect(false)
                .build().connect()) {
            assertTrue(client.acceptsContinuation(), "the replay announces the continuation, as recorded");
            assertEquals(-1f, ((NdArray) client.step(observation(1)).get("actions")).toFloatArray()[0]);
            Map<String, Object> action = client.step(observation(3), continuation);
            assertEquals(5f, ((NdArray) action.get("actions")).toFloatArray()[0], "the continued step's recorded action");
        } finally {
            replay.stop();
        }
    }

    private static RecordingReader waitComplete(Path file) throws Exception {
        for (int i = 0; i < 500; i++) {
            if (Files.exists(file)) {
                try (RecordingReader r = RecordingReader.open(file)) {
                    while (r.next() != null) {
                        // read to the end
                    }
                    if (r.truncation() == null) {
                        break;
                    }
                } catch (org.webpolicy.mcap.McapFormatException e) {
                    // created, but the writer thread has not written its magic yet: look again
                }
            }
            Thread.sleep(20);
        }
        return RecordingReader.open(file);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
