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

    /** Every chunk's compression and CRC, and the data end's CRC, as written (top-level records walked). */
    private record Layout(List<String> compressions, List<Long> chunkCrcs, long dataCrc, int dataEnd) {
    }

    private static Layout layout(byte[] bytes) {
        List<String> compressions = new ArrayList<>();
        List<Long> crcs = new ArrayList<>();
        int pos = 8;
        while (pos < bytes.length) {
            int opcode = bytes[pos] & 0xFF;
            long length = le(bytes, pos + 1, 8);
            if (opcode == 0x06) {
                crcs.add(le(bytes, pos + 9 + 24, 4));
                int n = (int) le(bytes, pos + 9 + 28, 4);
                compressions.add(new String(bytes, pos + 9 + 32, n, java.nio.charset.StandardCharsets.UTF_8));
            } else if (opcode == 0x0F) {
                return new Layout(compressions, crcs, le(bytes, pos + 9, 4), pos);
            }
            pos += 9 + (int) length;
        }
        throw new AssertionError("no data end");
    }

    private static long le(byte[] b, int at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) (b[at + i] & 0xFF) << (8 * i);
        }
        return v;
    }

    /**
     * Large data (direct buffers, as a client's frames) is written from its own buffer and handed
     * back only once its chunk is on the file; chunks of mostly such data are stored although
     * zstd was asked for, chunks of small records compressed; both outputs write the same file.
     */
    @Test
    void largeDataIsWrittenFromItsBufferReleasedAfterItsChunkAndStoredUncompressed() throws IOException {
        Random random = new Random(11);
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] data = new byte[i % 4 == 0 ? 100_000 + i : 200 + i];
            random.nextBytes(data);
            sent.add(data);
        }
        McapWriter.Options options = new McapWriter.Options(ChunkCompression.ZSTD, 300_000, 16 << 10, true, true);
        Path viaChannel = dir.resolve("channel.mcap");
        Path viaStream = dir.resolve("stream.mcap");
        int[] released = new int[1];
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(viaChannel,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                McapWriter w = new McapWriter(channel, "test", options)) {
            int a = w.addChannel(0, "/a", "msgpack", Map.of());
            for (int i = 0; i < 20; i++) {
                java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(sent.get(i).length).put(sent.get(i)).flip();
                int before = released[0];
                w.addMessage(a, i, 1_000L + i, 1_000L + i, List.of(direct), () -> released[0]++);
                if (i == 0) {
                    assertEquals(before, released[0], "a large message is held until its chunk is written");
                    direct.put(0, direct.get(0)); // still the caller's buffer: nothing copied it
                }
            }
            w.flushChunk();
            assertEquals(20, released[0], "every buffer is handed back once its chunk is written");
            // Then only small records: a chunk worth compressing.
            for (int i = 20; i < 40; i++) {
                if (sent.get(i).length < 16 << 10) {
                    w.addMessage(a, i, 1_000L + i, 1_000L + i, sent.get(i));
                }
            }
        }
        try (McapWriter w = new McapWriter(new BufferedOutputStream(Files.newOutputStream(viaStream)), "test", options)) {
            int a = w.addChannel(0, "/a", "msgpack", Map.of());
            for (int i = 0; i < 20; i++) {
                w.addMessage(a, i, 1_000L + i, 1_000L + i, List.of(java.nio.ByteBuffer.allocateDirect(sent.get(i).length)
                        .put(sent.get(i)).flip()), null);
            }
            w.flushChunk();
            for (int i = 20; i < 40; i++) {
                if (sent.get(i).length < 16 << 10) {
                    w.addMessage(a, i, 1_000L + i, 1_000L + i, sent.get(i));
                }
            }
        }
        byte[] bytes = Files.readAllBytes(viaChannel);
        assertArrayEquals(bytes, Files.readAllBytes(viaStream), "a channel and a stream get the same file");
        Layout layout = layout(bytes);
        assertEquals("", layout.compressions().get(0), "mostly large data: stored");
        assertEquals("zstd", layout.compressions().get(layout.compressions().size() - 1), "small records: compressed");
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes, 0, layout.dataEnd());
        assertEquals(crc.getValue(), layout.dataCrc(), "the data-section CRC, when asked for, covers the data section");
        try (McapReader r = McapReader.open(viaChannel)) {
            List<McapRecord.Message> got = messages(r);
            int k = 0;
            for (int i = 0; i < 40; i++) {
                if (i < 20 || sent.get(i).length < 16 << 10) {
                    assertArrayEquals(sent.get(i), got.get(k).data(), "message " + i);
                    assertEquals(i, got.get(k).sequence());
                    k++;
                }
            }
            assertEquals(k, got.size());
            assertTrue(r.complete());
        }
    }

    /** CRCs left out are written as 0 ("not computed"), and the file reads; kept ones are real. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"false,false", "true,false", "false,true"})
    void crcsLeftOutAreZeroAndTheFileStillReads(boolean chunkCrc, boolean dataCrc) throws IOException {
        Path file = dir.resolve("crc.mcap");
        List<byte[]> sent = new ArrayList<>();
        Random random = new Random(3);
        try (McapWriter w = new McapWriter(new BufferedOutputStream(Files.newOutputStream(file)), "test",
                new McapWriter.Options(ChunkCompression.NONE, 10_000, 16 << 10, chunkCrc, dataCrc))) {
            int a = w.addChannel(0, "/a", "msgpack", Map.of());
            for (int i = 0; i < 50; i++) {
                byte[] data = new byte[random.nextInt(3000)];
                random.nextBytes(data);
                sent.add(data);
                w.addMessage(a, i, i, i, data);
            }
        }
        Layout layout = layout(Files.readAllBytes(file));
        assertTrue(layout.chunkCrcs().size() > 5);
        assertTrue(layout.chunkCrcs().stream().allMatch(c -> (c != 0) == chunkCrc), "chunk CRCs: " + layout.chunkCrcs());
        assertEquals(dataCrc, layout.dataCrc() != 0);
        try (McapReader r = McapReader.open(file)) {
            List<McapRecord.Message> got = messages(r);
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), got.get(i).data());
            }
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
