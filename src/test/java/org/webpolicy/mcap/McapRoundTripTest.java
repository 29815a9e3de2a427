package org.webpolicy.mcap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class McapRoundTripTest {

    @TempDir
    Path dir;

    /** Writes {@code count} messages of varied sizes on two channels; small chunks so there are many. */
    private List<byte[]> write(Path file, ChunkCompression compression, int count) throws IOException {
        List<byte[]> sent = new ArrayList<>();
        Random random = new Random(7);
        try (McapWriter w = new McapWriter(new BufferedOutputStream(Files.newOutputStream(file)), "test", compression, 10_000)) {
            int schema = w.addSchema("test.Thing", "jsonschema", "{}".getBytes());
            int a = w.addChannel(schema, "/a", "json", Map.of("k", "v"));
            int b = w.addChannel(0, "/b", "msgpack", Map.of());
            for (int i = 0; i < count; i++) {
                byte[] data = new byte[random.nextInt(5000)];
                random.nextBytes(data);
                sent.add(data);
                w.addMessage(i % 2 == 0 ? a : b, i, 1_000_000_000L + i, 1_000_000_000L + i, data);
            }
        }
        return sent;
    }

    private static List<McapRecord.Message> messages(McapReader r) {
        List<McapRecord.Message> out = new ArrayList<>();
        for (McapRecord rec = r.next(); rec != null; rec = r.next()) {
            if (rec instanceof McapRecord.Message m) {
                out.add(m);
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(ChunkCompression.class)
    void messagesComeBackByteForByteWithChannelsAndTimes(ChunkCompression compression) throws IOException {
        Path file = dir.resolve("a.mcap");
        List<byte[]> sent = write(file, compression, 200);
        try (McapReader r = McapReader.open(file)) {
            McapRecord first = r.next();
            assertEquals(new McapRecord.Header("", "test"), first);
            List<McapRecord.Message> got = messages(r);
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), got.get(i).data(), "message " + i);
                assertEquals(i, got.get(i).sequence());
                assertEquals(1_000_000_000L + i, got.get(i).logTime());
                assertEquals(i % 2, got.get(i).channelId());
            }
            assertTrue(r.complete());
            assertNull(r.truncation());
            assertTrue(r.chunkCount() > 10, "small chunks: " + r.chunkCount());
            assertEquals("/a", r.channels().get(0).topic());
            assertEquals(Map.of("k", "v"), r.channels().get(0).metadata());
        }
    }

    @Test
    void aFileCutAnywhereReadsUpToItsLastCompleteChunk() throws IOException {
        Path file = dir.resolve("a.mcap");
        List<byte[]> sent = write(file, ChunkCompression.ZSTD, 100);
        byte[] whole = Files.readAllBytes(file);
        int previous = -1;
        for (int cut = 8; cut < whole.length; cut += 997) {
            Path part = dir.resolve("cut.mcap");
            Files.write(part, java.util.Arrays.copyOf(whole, cut));
            try (McapReader r = McapReader.open(part)) {
                List<McapRecord.Message> got = messages(r);
                assertTrue(r.truncation() != null, "cut at " + cut);
                assertTrue(got.size() >= previous, "more bytes never give fewer messages");
                previous = got.size();
                for (int i = 0; i < got.size(); i++) {
                    assertArrayEquals(sent.get(i), got.get(i).data());
                }
            }
        }
        assertTrue(previous > 90, "the last cut keeps nearly everything: " + previous);
    }

    @Test
    void aFlippedByteInAChunkIsReportedWithTheChunksOffset() throws IOException {
        Path file = dir.resolve("a.mcap");
        write(file, ChunkCompression.NONE, 20);
        byte[] bytes = Files.readAllBytes(file);
        long chunkAt = firstChunkOffset(bytes);
        bytes[(int) chunkAt + 200] ^= 0x01;
        Files.write(file, bytes);
        try (McapReader r = McapReader.open(file)) {
            McapFormatException e = assertThrows(McapFormatException.class, () -> messages(r));
            assertEquals(chunkAt, e.offset());
            assertTrue(e.getMessage().contains("Chunk (0x06)") && e.getMessage().contains("CRC"), e.getMessage());
        }
    }

    @Test
    void notMcapAtAllSaysSo() throws IOException {
        Path file = dir.resolve("x.mcap");
        Files.writeString(file, "this is a text file, not a recording");
        try (McapReader r = McapReader.open(file)) {
            McapFormatException e = assertThrows(McapFormatException.class, r::next);
            assertEquals(0, e.offset());
            assertTrue(e.getMessage().contains("not an MCAP file"), e.getMessage());
        }
    }

    @Test
    void aSummaryThatDisagreesWithTheDataFailsItsCrc() throws IOException {
        Path file = dir.resolve("a.mcap");
        write(file, ChunkCompression.NONE, 20);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 40] ^= 0x10; // inside the summary offsets
        Files.write(file, bytes);
        try (McapReader r = McapReader.open(file)) {
            McapFormatException e = assertThrows(McapFormatException.class, () -> messages(r));
            assertTrue(e.getMessage().contains("summary CRC") || e.getMessage().contains("record"), e.getMessage());
        }
    }

    private static long firstChunkOffset(byte[] bytes) {
        int pos = 8;
        while (pos < bytes.length) {
            int opcode = bytes[pos] & 0xFF;
            long length = 0;
            for (int i = 0; i < 8; i++) {
                length |= (long) (bytes[pos + 1 + i] & 0xFF) << (8 * i);
            }
            if (opcode == 0x06) {
                return pos;
            }
            pos += 9 + (int) length;
        }
        throw new AssertionError("no chunk");
    }
}
