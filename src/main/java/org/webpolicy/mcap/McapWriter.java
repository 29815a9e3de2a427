package org.webpolicy.mcap;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Writes an MCAP file (version 0): magic, header, then messages in compressed chunks, each
 * followed by its message indexes; on {@link #close()} the data end, a summary (schemas,
 * channels, statistics, chunk indexes), summary offsets, the footer and the closing magic.
 *
 * <p>Schema and channel records go into the data section as soon as they are added, outside
 * any chunk, and each finished chunk is flushed to the stream: a process killed mid-recording
 * leaves a file that {@link McapReader} reads up to its last complete chunk.
 *
 * <p>Not thread-safe: one thread (a recorder's writer thread) owns it.
 */
public final class McapWriter implements Closeable {

    /** Chunks close at this many uncompressed bytes by default: a few ALOHA steps, a bounded loss on a kill. */
    public static final int DEFAULT_CHUNK_BYTES = 4 << 20;

    private final OutputStream out;
    private final ChunkCompression compression;
    private final int chunkBytes;
    private final CRC32 dataCrc = new CRC32();
    private final RecordBuffer scratch = new RecordBuffer(1 << 12);
    private final List<byte[]> schemaRecords = new ArrayList<>();
    private final List<byte[]> channelRecords = new ArrayList<>();
    private final List<byte[]> chunkIndexRecords = new ArrayList<>();
    private final TreeMap<Integer, Long> channelMessageCounts = new TreeMap<>();
    private long position;
    private boolean closed;

    private final RecordBuffer chunk;
    private final TreeMap<Integer, RecordBuffer> chunkIndex = new TreeMap<>();
    private long chunkStartTime = Long.MAX_VALUE;
    private long chunkEndTime = Long.MIN_VALUE;
    private int chunkMessages;
    private int lastDataStart;
    private int lastDataLength;

    private long messageCount;
    private long messageStartTime = Long.MAX_VALUE;
    private long messageEndTime = Long.MIN_VALUE;
    private int chunkCount;

    /**
     * Starts a file on {@code out} (buffer it; the writer flushes after each chunk).
     *
     * @param out where the file goes; closed by {@link #close()}
     * @param library written in the header, e.g. "webpolicy-java 0.1.0"
     * @param compression how chunks are compressed
     * @param chunkBytes a chunk is written once its records reach this many bytes
     * @throws IllegalStateException when the compression's library is missing
     */
    public McapWriter(OutputStream out, String library, ChunkCompression compression, int chunkBytes) {
        if (chunkBytes < 1) {
            throw new IllegalArgumentException("chunkBytes must be at least 1, got " + chunkBytes);
        }
        compression.requireAvailable();
        this.out = out;
        this.compression = compression;
        this.chunkBytes = chunkBytes;
        this.chunk = new RecordBuffer(Math.min(chunkBytes, 1 << 20) + 1024);
        RecordBuffer head = new RecordBuffer(64);
        head.raw(Opcode.MAGIC, 0, Opcode.MAGIC.length);
        int start = head.beginRecord(Opcode.HEADER);
        head.string("");
        head.string(library);
        head.endRecord(start);
        writeData(head.array(), head.size());
    }

    /**
     * Adds a schema: add it before the channels that use it.
     *
     * @param name the schema's name, e.g. "foxglove.CompressedImage"
     * @param encoding its encoding, e.g. "jsonschema"
     * @param data the schema itself
     * @return its id (1, 2, ...)
     */
    public int addSchema(String name, String encoding, byte[] data) {
        ensureOpen();
        int id = schemaRecords.size() + 1;
        scratch.clear();
        int start = scratch.beginRecord(Opcode.SCHEMA);
        scratch.u16(id);
        scratch.string(name);
        scratch.string(encoding);
        scratch.u32(data.length);
        scratch.raw(data, 0, data.length);
        scratch.endRecord(start);
        byte[] record = java.util.Arrays.copyOf(scratch.array(), scratch.size());
        schemaRecords.add(record);
        writeData(record, record.length);
        return id;
    }

    /**
     * Adds a channel.
     *
     * @param schemaId its schema's id, 0 for none
     * @param topic its topic
     * @param messageEncoding how its messages are encoded, e.g. "json"
     * @param metadata free key-value pairs
     * @return its id (0, 1, ...)
     */
    public int addChannel(int schemaId, String topic, String messageEncoding, Map<String, String> metadata) {
        ensureOpen();
        if (schemaId < 0 || schemaId > schemaRecords.size()) {
            throw new IllegalArgumentException("no schema " + schemaId + " (" + schemaRecords.size() + " added)");
        }
        int id = channelRecords.size();
        if (id > 0xFFFF) {
            throw new IllegalStateException("an MCAP file holds at most 65536 channels");
        }
        scratch.clear();
        int start = scratch.beginRecord(Opcode.CHANNEL);
        scratch.u16(id);
        scratch.u16(schemaId);
        scratch.string(topic);
        scratch.string(messageEncoding);
        scratch.stringMap(metadata);
        scratch.endRecord(start);
        byte[] record = java.util.Arrays.copyOf(scratch.array(), scratch.size());
        channelRecords.add(record);
        channelMessageCounts.put(id, 0L);
        writeData(record, record.length);
        return id;
    }

    /**
     * Adds a message to the current chunk; the chunk is written once it reaches the chunk size.
     *
     * @param channelId the channel's id
     * @param sequence a number the channel gives its messages
     * @param logTime when it was recorded, ns since the epoch
     * @param publishTime when it was sent, ns since the epoch
     * @param data the message's bytes, copied before this returns
     */
    public void addMessage(int channelId, long sequence, long logTime, long publishTime, List<ByteBuffer> data) {
        ensureOpen();
        Long count = channelMessageCounts.get(channelId);
        if (count == null) {
            throw new IllegalArgumentException("no channel " + channelId);
        }
        channelMessageCounts.put(channelId, count + 1);
        chunkIndex.computeIfAbsent(channelId, k -> new RecordBuffer(256));
        RecordBuffer index = chunkIndex.get(channelId);
        index.u64(logTime);
        index.u64(chunk.size());
        int start = chunk.beginRecord(Opcode.MESSAGE);
        chunk.u16(channelId);
        chunk.u32(sequence);
        chunk.u64(logTime);
        chunk.u64(publishTime);
        lastDataStart = chunk.size();
        chunk.raw(data);
        lastDataLength = chunk.size() - lastDataStart;
        chunk.endRecord(start);
        chunkStartTime = Math.min(chunkStartTime, logTime);
        chunkEndTime = Math.max(chunkEndTime, logTime);
        messageStartTime = Math.min(messageStartTime, logTime);
        messageEndTime = Math.max(messageEndTime, logTime);
        chunkMessages++;
        messageCount++;
        if (chunk.size() >= chunkBytes) {
            flushChunk();
        }
    }

    /**
     * The data of the message just added, viewed in the chunk buffer (no copy): a writer that wants
     * to read what it wrote (decode it) reads it here instead of keeping a copy. Valid only until
     * the next call to this writer; must not be changed.
     *
     * @return a heap buffer over the last message's data
     */
    public ByteBuffer lastMessageData() {
        return ByteBuffer.wrap(chunk.array(), lastDataStart, lastDataLength).slice();
    }

    /**
     * {@link #addMessage(int, long, long, long, List)} for one array.
     *
     * @param channelId the channel's id
     * @param sequence a number the channel gives its messages
     * @param logTime when it was recorded, ns since the epoch
     * @param publishTime when it was sent, ns since the epoch
     * @param data the message's bytes, copied before this returns
     */
    public void addMessage(int channelId, long sequence, long logTime, long publishTime, byte[] data) {
        addMessage(channelId, sequence, logTime, publishTime, List.of(ByteBuffer.wrap(data)));
    }

    /** Writes the current chunk (if it holds anything) and its indexes, and flushes the stream. */
    public void flushChunk() {
        ensureOpen();
        if (chunkMessages == 0) {
            return;
        }
        CRC32 crc = new CRC32();
        crc.update(chunk.array(), 0, chunk.size());
        // Stored chunks are written from the chunk buffer itself: no copy.
        byte[] compressed = compression == ChunkCompression.NONE ? chunk.array() : compression.compress(chunk.array(), chunk.size());
        int compressedLength = compression == ChunkCompression.NONE ? chunk.size() : compressed.length;
        long chunkStart = position;
        scratch.clear();
        int start = scratch.beginRecord(Opcode.CHUNK);
        scratch.u64(chunkStartTime);
        scratch.u64(chunkEndTime);
        scratch.u64(chunk.size());
        scratch.u32(crc.getValue());
        scratch.string(compression.specName());
        scratch.u64(compressedLength);
        // The record's length counts the compressed bytes written right after this prefix.
        scratch.u64At(start + 1, scratch.size() - start - 9 + (long) compressedLength);
        writeData(scratch.array(), scratch.size());
        writeData(compressed, compressedLength);
        long chunkLength = position - chunkStart;

        long indexStart = position;
        Map<Integer, Long> indexOffsets = new TreeMap<>();
        scratch.clear();
        for (Map.Entry<Integer, RecordBuffer> e : chunkIndex.entrySet()) {
            indexOffsets.put(e.getKey(), indexStart + scratch.size());
            int at = scratch.beginRecord(Opcode.MESSAGE_INDEX);
            scratch.u16(e.getKey());
            scratch.u32(e.getValue().size());
            scratch.raw(e.getValue().array(), 0, e.getValue().size());
            scratch.endRecord(at);
        }
        writeData(scratch.array(), scratch.size());
        long indexLength = position - indexStart;

        scratch.clear();
        int at = scratch.beginRecord(Opcode.CHUNK_INDEX);
        scratch.u64(chunkStartTime);
        scratch.u64(chunkEndTime);
        scratch.u64(chunkStart);
        scratch.u64(chunkLength);
        scratch.u32(indexOffsets.size() * 10L);
        for (Map.Entry<Integer, Long> e : indexOffsets.entrySet()) {
            scratch.u16(e.getKey());
            scratch.u64(e.getValue());
        }
        scratch.u64(indexLength);
        scratch.string(compression.specName());
        scratch.u64(compressedLength);
        scratch.u64(chunk.size());
        scratch.endRecord(at);
        chunkIndexRecords.add(java.util.Arrays.copyOf(scratch.array(), scratch.size()));

        chunkCount++;
        chunk.clear();
        chunkIndex.clear();
        chunkMessages = 0;
        chunkStartTime = Long.MAX_VALUE;
        chunkEndTime = Long.MIN_VALUE;
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Bytes written to the stream so far (the current chunk not included).
     *
     * @return a count
     */
    public long bytesWritten() {
        return position;
    }

    /**
     * Messages added so far.
     *
     * @return a count
     */
    public long messageCount() {
        return messageCount;
    }

    /** Finishes the file: the last chunk, the data end, the summary and the footer; closes the stream. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            flushChunk();
            RecordBuffer end = new RecordBuffer(64);
            int at = end.beginRecord(Opcode.DATA_END);
            end.u32(dataCrc.getValue());
            end.endRecord(at);
            write(end.array(), end.size());
            writeSummary();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            closed = true;
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void writeSummary() {
        long summaryStart = position;
        CRC32 summaryCrc = new CRC32();
        RecordBuffer offsets = new RecordBuffer(256);
        summaryGroup(Opcode.SCHEMA, schemaRecords, summaryCrc, offsets);
        summaryGroup(Opcode.CHANNEL, channelRecords, summaryCrc, offsets);
        summaryGroup(Opcode.STATISTICS, List.of(statistics()), summaryCrc, offsets);
        summaryGroup(Opcode.CHUNK_INDEX, chunkIndexRecords, summaryCrc, offsets);
        long summaryOffsetStart = position;
        summaryCrc.update(offsets.array(), 0, offsets.size());
        write(offsets.array(), offsets.size());
        RecordBuffer footer = new RecordBuffer(64);
        int at = footer.beginRecord(Opcode.FOOTER);
        footer.u64(summaryStart);
        footer.u64(summaryOffsetStart);
        footer.u64At(at + 1, 8 + 8 + 4); // the length, known now: the CRC covers it
        // The summary CRC covers the summary, the summary offsets and the footer up to this field.
        summaryCrc.update(footer.array(), 0, footer.size());
        footer.u32(summaryCrc.getValue());
        footer.endRecord(at);
        footer.raw(Opcode.MAGIC, 0, Opcode.MAGIC.length);
        write(footer.array(), footer.size());
    }

    private void summaryGroup(int opcode, List<byte[]> records, CRC32 crc, RecordBuffer offsets) {
        if (records.isEmpty()) {
            return;
        }
        long groupStart = position;
        for (byte[] r : records) {
            crc.update(r);
            write(r, r.length);
        }
        int at = offsets.beginRecord(Opcode.SUMMARY_OFFSET);
        offsets.u8(opcode);
        offsets.u64(groupStart);
        offsets.u64(position - groupStart);
        offsets.endRecord(at);
    }

    private byte[] statistics() {
        RecordBuffer s = new RecordBuffer(128);
        int at = s.beginRecord(Opcode.STATISTICS);
        s.u64(messageCount);
        s.u16(schemaRecords.size());
        s.u32(channelRecords.size());
        s.u32(0);
        s.u32(0);
        s.u32(chunkCount);
        s.u64(messageCount == 0 ? 0 : messageStartTime);
        s.u64(messageCount == 0 ? 0 : messageEndTime);
        s.u32(channelMessageCounts.size() * 10L);
        for (Map.Entry<Integer, Long> e : channelMessageCounts.entrySet()) {
            s.u16(e.getKey());
            s.u64(e.getValue());
        }
        s.endRecord(at);
        return java.util.Arrays.copyOf(s.array(), s.size());
    }

    /** Data-section bytes: counted into the data CRC (from the leading magic on, as the reference writer does). */
    private void writeData(byte[] b, int len) {
        dataCrc.update(b, 0, len);
        write(b, len);
    }

    private void write(byte[] b, int len) {
        try {
            out.write(b, 0, len);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        position += len;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the MCAP writer is closed");
        }
    }
}
