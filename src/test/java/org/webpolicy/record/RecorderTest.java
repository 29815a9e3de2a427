package org.webpolicy.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.mcap.McapReader;
import org.webpolicy.mcap.McapRecord;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.ProtocolMode;

class RecorderTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    @TempDir
    Path dir;

    static Map<String, Object> aloha(int step) {
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : List.of("cam_high", "cam_low")) {
            byte[] pixels = new byte[3 * 224 * 224];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (byte) (i * 7 + step + cam.length());
            }
            images.put(cam, NdArray.ofUint8(pixels, 3, 224, 224));
        }
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(new double[] {step, 1.5, -2.25, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
        obs.put("images", images);
        obs.put("prompt", "fold the towel");
        return obs;
    }

    /** A policy whose action depends on the observation's state, so replies differ per step. */
    static final class StatePolicy implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            double first = ((NdArray) observation.get("state")).toDoubleArray()[0];
            float[] actions = new float[50 * 14];
            for (int i = 0; i < actions.length; i++) {
                actions[i] = (float) (first + i * 0.25);
            }
            return Map.of("actions", NdArray.ofFloat32(actions, 50, 14));
        }

        @Override
        public Map<String, Object> metadata() {
            return Map.of("policy", "state", "horizon", 50L);
        }
    }

    private static List<RecordedExchange> readAll(Path file) throws IOException {
        List<RecordedExchange> out = new ArrayList<>();
        try (RecordingReader r = RecordingReader.open(file)) {
            for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                out.add(x);
            }
            assertNull(r.truncation(), "a closed recording is complete");
        }
        return out;
    }

    /**
     * The server's tap and a RecordingPolicy around the client (raw form) record the same bytes:
     * re-encoding the client's observation and decoded action with our codec gives exactly what
     * went on the wire.
     */
    @Test
    void robotSideRecordingMatchesTheWireBytesTheServerRecorded() throws Exception {
        Path serverFile = dir.resolve("server.mcap");
        Path robotFile = dir.resolve("robot.mcap");
        List<Map<String, Object>> sent = new ArrayList<>();
        try (Recorder serverRecorder = Recorder.builder(serverFile).build();
                PolicyServer server = PolicyServer.builder(new StatePolicy()).host("127.0.0.1").port(0)
                        .exchangeTap(serverRecorder.serverTap()).build().start();
                Recorder robotRecorder = Recorder.builder(robotFile).build();
                PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port())
                        .protocolMode(ProtocolMode.RAW).build().connect();
                RecordingPolicy robot = new RecordingPolicy(client, robotRecorder)) {
            for (int step = 0; step < 20; step++) {
                Map<String, Object> obs = aloha(step);
                sent.add(obs);
                robot.step(obs);
                // A robot's pace (100 Hz): a loop that outruns the writer by a whole frame pool
                // drops steps, counted (aClientWhoseFramesAreAllOutDropsAndCountsItsSteps).
                Thread.sleep(10);
            }
        }
        List<RecordedExchange> atServer = readAll(serverFile);
        List<RecordedExchange> atRobot = readAll(robotFile);
        assertEquals(20, atServer.size());
        assertEquals(20, atRobot.size());
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(CODEC.pack(sent.get(i)), atServer.get(i).request(), "wire request " + i);
            assertArrayEquals(atServer.get(i).request(), atRobot.get(i).request(), "request " + i);
            assertArrayEquals(atServer.get(i).reply(), atRobot.get(i).reply(), "reply " + i);
            assertEquals("raw", atServer.get(i).form());
            assertEquals(i, atServer.get(i).index());
            assertTrue(atServer.get(i).serverTiming().containsKey("infer_ms"), "openpi's server_timing is read back");
        }
    }

    /**
     * A server that reuses its request buffers lends each request to its recorder's tap until it
     * is written: every request and reply (an echo of the request's own bytes) is recorded as it
     * went on the wire, though the robot steps without pause.
     */
    @Test
    void aServerThatReusesItsBuffersRecordsEveryExchangeIntact() throws Exception {
        Path serverFile = dir.resolve("server.mcap");
        List<Map<String, Object>> sent = new ArrayList<>();
        Policy echo = observation -> Map.of("state", observation.get("state"), "images", observation.get("images"));
        try (Recorder serverRecorder = Recorder.builder(serverFile).build();
                PolicyServer server = PolicyServer.builder(echo).host("127.0.0.1").port(0).reuseMessageBuffers(true)
                        .exchangeTap(serverRecorder.serverTap()).build().start();
                PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port())
                        .protocolMode(ProtocolMode.RAW).build().connect()) {
            for (int step = 0; step < 40; step++) {
                Map<String, Object> obs = aloha(step);
                sent.add(obs);
                client.step(obs);
            }
        }
        List<RecordedExchange> atServer = readAll(serverFile);
        assertEquals(40, atServer.size());
        for (int i = 0; i < 40; i++) {
            assertArrayEquals(CODEC.pack(sent.get(i)), atServer.get(i).request(), "request " + i);
            Map<String, Object> echoed = new LinkedHashMap<>();
            echoed.put("state", sent.get(i).get("state"));
            echoed.put("images", sent.get(i).get("images"));
            Map<?, ?> reply = (Map<?, ?>) CODEC.unpack(atServer.get(i).reply());
            assertEquals(((NdArray) echoed.get("state")), reply.get("state"), "reply " + i);
            assertEquals(echoed.get("images"), reply.get("images"), "reply " + i);
        }
    }

    /**
     * Around a client in the envelope form, the recording is the wire's too: the envelopes (ids
     * included) and replies byte for byte as the server recorded them, resets as well, and the
     * handshake a replay needs to make a client choose envelopes again.
     */
    @Test
    void aClientInTheEnvelopeFormIsRecordedAsItWentOnTheWire() throws Exception {
        Path serverFile = dir.resolve("server.mcap");
        Path robotFile = dir.resolve("robot.mcap");
        try (Recorder serverRecorder = Recorder.builder(serverFile).build();
                PolicyServer server = PolicyServer.builder(new StatePolicy()).host("127.0.0.1").port(0)
                        .exchangeTap(serverRecorder.serverTap()).build().start();
                Recorder robotRecorder = Recorder.builder(robotFile).build();
                PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port())
                        .protocolMode(ProtocolMode.ENVELOPE).build().connect();
                RecordingPolicy robot = new RecordingPolicy(client, robotRecorder)) {
            for (int step = 0; step < 6; step++) {
                robot.step(aloha(step));
                Thread.sleep(10);
                if (step == 2) {
                    robot.reset(Map.of("prompt", "next"));
                }
            }
        }
        List<RecordedExchange> atServer = readAll(serverFile);
        List<RecordedExchange> atRobot = readAll(robotFile);
        assertEquals(7, atRobot.size());
        assertEquals(atServer.size(), atRobot.size());
        for (int i = 0; i < atRobot.size(); i++) {
            assertArrayEquals(atServer.get(i).request(), atRobot.get(i).request(), "request " + i);
            assertArrayEquals(atServer.get(i).reply(), atRobot.get(i).reply(), "reply " + i);
            assertEquals("envelope", atRobot.get(i).form());
        }
        assertEquals(List.of("step", "step", "step", "reset", "step", "step", "step"),
                atRobot.stream().map(RecordedExchange::op).toList());
        try (RecordingReader r = RecordingReader.open(robotFile)) {
            while (r.next() != null) {
                // to the end, where the connections are known
            }
            assertEquals("envelope", r.connections().get(1L).handshake().get("X-Webpolicy-Protocol"));
        }
    }

    /**
     * A stuck disk under a client's recording: the writer holds the frames it was handed, the
     * client hands over no more than its pool, and every later step is dropped and counted while
     * the robot steps on.
     */
    @Test
    void aClientWhoseFramesAreAllOutDropsAndCountsItsSteps() throws Exception {
        StuckOutput out = new StuckOutput();
        int steps = 40;
        RecorderStats stats;
        try (PolicyServer server = PolicyServer.builder(new StatePolicy()).host("127.0.0.1").port(0).build().start();
                PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + server.port()).build().connect()) {
            Recorder recorder = Recorder.builder(out).build();
            RecordingPolicy robot = new RecordingPolicy(client, recorder);
            for (int step = 0; step < steps; step++) {
                Map<String, Object> action = robot.step(aloha(step));
                assertEquals(step, ((NdArray) action.get("actions")).toFloatArray()[0], 0f, "the robot gets its actions");
            }
            stats = recorder.stats();
            out.release.countDown();
            recorder.close();
        }
        assertEquals(steps, stats.exchangesRecorded() + stats.exchangesDropped(), "every step accounted for: " + stats);
        assertTrue(stats.exchangesDropped() >= steps - 16 - 1, "beyond the client's pool, steps are dropped: " + stats);
    }

    @Test
    void metadataConnectionsAndCamerasAreRecorded() throws Exception {
        Path file = dir.resolve("r.mcap");
        try (Recorder recorder = Recorder.builder(file).cameraImages(true, Duration.ZERO).build();
                RecordingPolicy robot = new RecordingPolicy(new StatePolicy(), recorder)) {
            robot.step(aloha(0));
            robot.reset(Map.of("prompt", "next"));
            robot.step(aloha(1));
        }
        try (RecordingReader r = RecordingReader.open(file)) {
            List<RecordedExchange> xs = new ArrayList<>();
            for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                xs.add(x);
            }
            assertEquals(List.of("step", "reset", "step"), xs.stream().map(RecordedExchange::op).toList());
            RecordedConnection c = r.connections().get(1L);
            assertNotNull(c);
            assertArrayEquals(CODEC.pack(new StatePolicy().metadata()), c.metadata());
        }
        int images = 0;
        try (McapReader m = McapReader.open(file)) {
            for (McapRecord rec = m.next(); rec != null; rec = m.next()) {
                if (rec instanceof McapRecord.Message msg && m.channels().get(msg.channelId()).topic()
                        .equals(Topics.CAMERA_PREFIX + "images/cam_high")) {
                    String json = new String(msg.data(), java.nio.charset.StandardCharsets.UTF_8);
                    assertTrue(json.contains("\"format\":\"jpeg\"") && json.contains("\"data\":\"/9j/"), "a JPEG: " + json.substring(0, 80));
                    images++;
                }
            }
            assertTrue(m.schemas().values().stream().anyMatch(s -> s.name().equals("foxglove.CompressedImage")));
        }
        assertEquals(2, images, "one image per step on each camera channel");
    }

    /** An output that blocks every write until released: a disk that stopped. */
    static final class StuckOutput extends OutputStream {
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
    }

    @Test
    void aStuckDiskDropsAndCountsExchangesAndNeverBlocksTheCaller() throws Exception {
        StuckOutput out = new StuckOutput();
        Recorder recorder = Recorder.builder(out).queueCapacity(8).build();
        long connection = recorder.connectionOpened("robot", List.of(ByteBuffer.wrap(new byte[] {(byte) 0x80})));
        List<ByteBuffer> request = CODEC.encode(aloha(0));
        List<ByteBuffer> reply = CODEC.encode(Map.of("actions", NdArray.ofFloat32(new float[700], 50, 14)));
        for (int i = 0; i < 1000; i++) {
            // Returns at once although the writer is stuck in its first write (the header).
            recorder.exchanged(connection, request, reply, System.nanoTime(), System.nanoTime());
        }
        RecorderStats stats = recorder.stats();
        assertEquals(1000, stats.exchangesRecorded() + stats.exchangesDropped());
        assertTrue(stats.exchangesRecorded() <= 8, "the queue holds at most 8: " + stats);
        assertTrue(stats.exchangesDropped() >= 992, "the rest are dropped: " + stats);
        out.release.countDown();
        recorder.close();
    }

    /** What a kill leaves (no summary, no footer) is read up to its last chunk; chunks are flushed on a timer. */
    @Test
    void aRecordingCopiedMidwayIsReadableUpToItsLastChunk() throws Exception {
        Path file = dir.resolve("live.mcap");
        Path copy = dir.resolve("copy.mcap");
        int found = -1;
        String truncation = null;
        try (Recorder recorder = Recorder.builder(file).flushInterval(Duration.ofMillis(50)).build();
                RecordingPolicy robot = new RecordingPolicy(new StatePolicy(), recorder)) {
            for (int step = 0; step < 10; step++) {
                robot.step(aloha(step));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (found < 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                if (!Files.exists(file) || Files.size(file) < 8) {
                    continue; // the writer thread has not written the magic yet: a file, not yet a recording
                }
                Files.copy(file, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                try (RecordingReader r = RecordingReader.open(copy)) {
                    found = 0;
                    for (RecordedExchange x = r.next(); x != null; x = r.next()) {
                        assertEquals(found, x.index());
                        found++;
                    }
                    truncation = r.truncation();
                }
            }
        }
        assertEquals(10, found, "all ten exchanges reach the file within a flush interval or so, without a close");
        assertNotNull(truncation, "the copy has no footer");
    }
}
