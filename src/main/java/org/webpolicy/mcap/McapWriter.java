package org.webpolicy.mcap;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Writes an MCAP file (version 0): magic, header, then messages in chunks, each followed by its
 * message indexes; on {@link #close()} the data end, a summary (schemas, channels, statistics,
 * chunk indexes), summary offsets, the footer and the closing magic.
 *
 * <p>Schema and channel records go into the data section as soon as they are added, outside
 * any chunk, and each finished chunk is flushed to the stream: a process killed mid-recording
 * leaves a file that {@link McapReader} reads up to its last complete chunk.
 *
 * <p>Large message data (at least {@link Options#referenceBytes()}) is not copied into the chunk:
 * the chunk keeps a reference and writes it from its own buffer when the chunk is written (one
 * gathering write on a channel), then runs the message's {@code written} callback, so the owner
 * of a pooled buffer gets it back. A chunk whose bytes are mostly such data is stored even when
 * {@link ChunkCompression#ZSTD} is asked for: camera arrays with sensor noise and JPEG bytes gain
 * a few percent from zstd at several times the CPU of writing them.
 *
 * <p>Not thread-safe: one thread (a recorder's writer thread) owns it.
 */
public final class McapWriter implements Closeable {

    /** Chunks close at this many uncompressed bytes by default: a few ALOHA steps, a bounded loss on a kill. */
    public static final int DEFAULT_CHUNK_BYTES = 4 << 20;

    /** Message data at least this large is referenced, not copied, by default: a JPEG camera step and up. */
    public static final int DEFAULT_REFERENCE_BYTES = 16 << 10;

    /** A chunk writes out once it holds this many referenced buffers: their owners' pools stay small. */
    static final int MAX_REFERENCES_PER_CHUNK = 4;

    /**
     * How a writer lays out and checks its file.
     *
     * @param compression how chunks of small records are compressed
     * @param chunkBytes a chunk is written once its records reach this many bytes
     * @param referenceBytes message data at least this large is written from its own buffer
     *     ({@link Integer#MAX_VALUE}: always copied into the chunk)
     * @param chunkCrc whether each chunk's records get a CRC (0, "not computed", otherwise)
     * @param dataCrc whether the data end carries the CRC of the whole data section (0 otherwise):
     *     one more pass over every byte, and no reader needs it to read the file
     */
    public record Options(ChunkCompression compression, int chunkBytes, int referenceBytes, boolean chunkCrc, boolean dataCrc) {

        /**
         * Checks the sizes.
         *
         * @param compression how chunks of small records are compressed
         * @param chunkBytes a chunk is written once its records reach this many bytes
         * @param referenceBytes message data at least this large is written from its own buffer
         * @param chunkCrc whether each chunk's records get a CRC
         * @param dataCrc whether the data end carries the CRC of the whole data section
         */
        public Options {
            java.util.Objects.requireNonNull(compression, "compression");
            if (chunkBytes < 1) {
                throw new IllegalArgumentException("chunkBytes must be at least 1, got " + chunkBytes);
            }
            if (referenceBytes < 1) {
                throw new IllegalArgumentException("referenceBytes must be at least 1, got " + referenceBytes);
            }
        }

        /**
         * The defaults with {@code compression}: 4 MiB chunks, data from 16 KiB referenced, chunk
         * CRCs, no data-section CRC.
         *
         * @param compression how chunks of small records are compressed
         * @return options
         */
        public static Options of(ChunkCompression compression) {
            return new Options(compression, DEFAULT_CHUNK_BYTES, DEFAULT_REFERENCE_BYTES, true, false);
        }
    }

    private final Output out;
    private final Options options;
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

    /** The chunk's records that were copied; referenced data sits between runs of these. */
    private final RecordBuffer chunk;
    /** The chunk's records in order: views of {@link #chunk} runs and referenced data. */
    private final List<ByteBuffer> pieces = new ArrayList<>();
    /** Where the current run of copied bytes in {@link #chunk} started. */
    private int runStart;
    private long chunkSize;
    private long chunkReferenced;
    private final List<Runnable> afterChunk = new ArrayList<>();
    private final TreeMap<Integer, RecordBuffer> chunkIndex = new TreeMap<>();
    private long chunkStartTime = Long.MAX_VALUE;
    private long chunkEndTime = Long.MIN_VALUE;
    private int chunkMessages;

    private long messageCount;
    private long messageStartTime = Long.MAX_VALUE;
    private long messageEndTime = Long.MIN_VALUE;
    private int chunkCount;

    /**
     * Starts a file on {@code out} with the default options (buffer it; the writer flushes after each chunk).
     *
     * @param out where the file goes; closed by {@link #close()}
     * @param library written in the header, e.g. "webpolicy-java 0.1.0"
     * @param compression how chunks are compressed
     * @param chunkBytes a chunk is written once its records reach this many bytes
     * @throws IllegalStateException when the compression's library is missing
     */
    public McapWriter(OutputStream out, String library, ChunkCompression compression, int chunkBytes) {
        this(out, library, new Options(compression, chunkBytes, DEFAULT_REFERENCE_BYTES, true, false));
    }

    /**
     * Starts a file on {@code out} (buffer it; the writer flushes after each chunk).
     *
     * @param out where the file goes; closed by {@link #close()}
     * @param library written in the header, e.g. "webpolicy-java 0.1.0"
     * @param options compression, sizes and checks
     * @throws IllegalStateException when the compression's library is missing
     */
    public McapWriter(OutputStream out, String library, Options options) {
        this(new StreamOutput(java.util.Objects.requireNonNull(out, "out")), library, options);
    }

    /**
     * Starts a file on a channel (a {@code FileChannel}): each chunk goes out in one gathering
     * write, its large data straight from the buffers it was handed.
     *
     * @param out where the file goes; closed by {@link #close()}
     * @param library written in the header, e.g. "webpolicy-java 0.1.0"
     * @param options compression, sizes and checks
     * @throws IllegalStateException when the compression's library is missing
     */
    public McapWriter(GatheringByteChannel out, String library, Options options) {
        this(new ChannelOutput(java.util.Objects.requireNonNull(out, "out")), library, options);
    }

    private McapWriter(Output out, String library, Options options) {
        options.compression().requireAvailable();
        this.out = out;
        this.options = options;
        this.compression = options.compression();
        this.chunkBytes = options.chunkBytes();
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
     * @param data the message's bytes: small segments copied before this returns, large ones
     *     referenced until the chunk is written (they must not change until then)
     */
    public void addMessage(int channelId, long sequence, long logTime, long publishTime, List<ByteBuffer> data) {
        addMessage(channelId, sequence, logTime, publishTime, data, null);
    }

    /**
     * {@link #addMessage(int, long, long, long, List)}, with {@code written} run (on this thread)
     * once nothing refers to {@code data} any more: when its chunk has been written, or at once
     * when it was copied. A pooled buffer goes back to its pool there.
     *
     * @param channelId the channel's id
     * @param sequence a number the channel gives its messages
     * @param logTime when it was recorded, ns since the epoch
     * @param publishTime when it was sent, ns since the epoch
     * @param data the message's bytes
     * @param written run once {@code data} is no longer needed, or null
     */
    public void addMessage(int channelId, long sequence, long logTime, long publishTime, List<ByteBuffer> data, Runnable written) {
        ensureOpen();
        Long count = channelMessageCounts.get(channelId);
        if (count == null) {
            throw new IllegalArgumentException("no channel " + channelId);
        }
        long length = 0;
        for (ByteBuffer segment : data) {
            length += segment.remaining();
        }
        channelMessageCounts.put(channelId, count + 1);
        RecordBuffer index = chunkIndex.computeIfAbsent(channelId, k -> new RecordBuffer(256));
        index.u64(logTime);
        index.u64(chunkSize);
        int start = chunk.size();
        chunk.u8(Opcode.MESSAGE);
        chunk.u64(2 + 4 + 8 + 8 + length);
        chunk.u16(channelId);
        chunk.u32(sequence);
        chunk.u64(logTime);
        chunk.u64(publishTime);
        chunkSize += chunk.size() - start;
        boolean referenced = false;
        for (ByteBuffer segment : data) {
            int n = segment.remaining();
            if (n >= options.referenceBytes()) {
                endRun();
                pieces.add(segment.duplicate());
                chunkReferenced += n;
                referenced = true;
            } else {
                chunk.raw(segment);
            }
            chunkSize += n;
        }
        if (written != null) {
            if (referenced) {
                afterChunk.add(written);
            } else {
                written.run();
            }
        }
        chunkStartTime = Math.min(chunkStartTime, logTime);
        chunkEndTime = Math.max(chunkEndTime, logTime);
        messageStartTime = Math.min(messageStartTime, logTime);
        messageEndTime = Math.max(messageEndTime, logTime);
        chunkMessages++;
        messageCount++;
        if (chunkSize >= chunkBytes || afterChunk.size() >= MAX_REFERENCES_PER_CHUNK) {
            flushChunk();
        }
    }

    /** Closes the run of copied bytes before a referenced piece. */
    private void endRun() {
        if (chunk.size() > runStart) {
            pieces.add(ByteBuffer.wrap(chunk.array(), runStart, chunk.size() - runStart));
        }
        runStart = chunk.size();
    }

    /**
     * {@link #addMessage(int, long, long, long, List)} for one array.
     *
     * @param channelId the channel's id
     * @param sequence a number the channel gives its messages
     * @param logTime when it was recorded, ns since the epoch
     * @param publishTime when it was sent, ns since the epoch
     * @param data the message's bytes, not to be changed until its chunk is written
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
        endRun();
        // Mostly referenced data (camera arrays, JPEG): stored, since zstd gains little there.
        boolean compress = compression != ChunkCompression.NONE && chunkReferenced * 2 < chunkSize;
        ChunkCompression used = compress ? compression : ChunkCompression.NONE;
        long crc = 0;
        List<ByteBuffer> records = pieces;
        if (compress) {
            byte[] whole = gather();
            crc = options.chunkCrc() ? crc(List.of(ByteBuffer.wrap(whole))) : 0;
            records = List.of(ByteBuffer.wrap(compression.compress(whole, whole.length)));
        } else if (options.chunkCrc()) {
            crc = crc(pieces);
        }
        long recordsLength = 0;
        for (ByteBuffer b : records) {
            recordsLength += b.remaining();
        }
        long chunkStart = position;
        scratch.clear();
        int start = scratch.beginRecord(Opcode.CHUNK);
        scratch.u64(chunkStartTime);
        scratch.u64(chunkEndTime);
        scratch.u64(chunkSize);
        scratch.u32(crc);
        scratch.string(used.specName());
        scratch.u64(recordsLength);
        // The record's length counts the records written right after this prefix.
        scratch.u64At(start + 1, scratch.size() - start - 9 + recordsLength);
        int prefixEnd = scratch.size();
        long indexStart = chunkStart + prefixEnd + recordsLength;
        Map<Integer, Long> indexOffsets = new TreeMap<>();
        for (Map.Entry<Integer, RecordBuffer> e : chunkIndex.entrySet()) {
            indexOffsets.put(e.getKey(), indexStart + scratch.size() - prefixEnd);
            int at = scratch.beginRecord(Opcode.MESSAGE_INDEX);
            scratch.u16(e.getKey());
            scratch.u32(e.getValue().size());
            scratch.raw(e.getValue().array(), 0, e.getValue().size());
            scratch.endRecord(at);
        }
        long indexLength = scratch.size() - prefixEnd;
        ByteBuffer[] all = new ByteBuffer[records.size() + 2];
        all[0] = ByteBuffer.wrap(scratch.array(), 0, prefixEnd);
        for (int i = 0; i < records.size(); i++) {
            all[i + 1] = records.get(i).duplicate();
        }
        all[all.length - 1] = ByteBuffer.wrap(scratch.array(), prefixEnd, scratch.size() - prefixEnd);
        try {
            writeData(all);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            releaseReferences();
        }
        long chunkLength = prefixEnd + recordsLength;

        RecordBuffer ix = new RecordBuffer(128);
        int at = ix.beginRecord(Opcode.CHUNK_INDEX);
        ix.u64(chunkStartTime);
        ix.u64(chunkEndTime);
        ix.u64(chunkStart);
        ix.u64(chunkLength);
        ix.u32(indexOffsets.size() * 10L);
        for (Map.Entry<Integer, Long> e : indexOffsets.entrySet()) {
            ix.u16(e.getKey());
            ix.u64(e.getValue());
        }
        ix.u64(indexLength);
        ix.string(used.specName());
        ix.u64(recordsLength);
        ix.u64(chunkSize);
        ix.endRecord(at);
        chunkIndexRecords.add(java.util.Arrays.copyOf(ix.array(), ix.size()));

        chunkCount++;
        chunk.clear();
        pieces.clear();
        runStart = 0;
        chunkSize = 0;
        chunkReferenced = 0;
        chunkIndex.clear();
        chunkMessages = 0;
        chunkStartTime = Long.MAX_VALUE;
        chunkEndTime = Long.MIN_VALUE;
    }

    /** Hands referenced buffers back to their owners: after their chunk was written, or when writing failed. */
    private void releaseReferences() {
        List<Runnable> done = new ArrayList<>(afterChunk);
        afterChunk.clear();
        for (Runnable r : done) {
            r.run();
        }
    }

    /** The chunk's records in one array, for the compressor. */
    private byte[] gather() {
        byte[] whole = new byte[Math.toIntExact(chunkSize)];
        int at = 0;
        for (ByteBuffer piece : pieces) {
            int n = piece.remaining();
            piece.duplicate().get(whole, at, n);
            at += n;
        }
        return whole;
    }

    private static long crc(List<ByteBuffer> parts) {
        CRC32 crc = new CRC32();
        for (ByteBuffer part : parts) {
            crc.update(part.duplicate());
        }
        return crc.getValue();
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
            end.u32(options.dataCrc() ? dataCrc.getValue() : 0);
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

    /** Data-section bytes: counted into the data CRC when it is kept (from the leading magic on, as the reference writer does). */
    private void writeData(byte[] b, int len) {
        writeData(new ByteBuffer[] {ByteBuffer.wrap(b, 0, len)});
    }

    private void writeData(ByteBuffer[] parts) {
        if (options.dataCrc()) {
            for (ByteBuffer part : parts) {
                dataCrc.update(part.duplicate());
            }
        }
        write(parts);
    }

    private void write(byte[] b, int len) {
        write(new ByteBuffer[] {ByteBuffer.wrap(b, 0, len)});
    }

    private void write(ByteBuffer[] parts) {
        long n = 0;
        for (ByteBuffer part : parts) {
            n += part.remaining();
        }
        try {
            out.write(parts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        position += n;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the MCAP writer is closed");
        }
    }

    /** Where the file's bytes go. */
    private interface Output {
        /**
         * Writes every byte of {@code parts}, in order, or holds them until {@link #flush()}: the
         * writer changes no part it passed here before the next flush (fresh arrays, or the chunk's
         * buffers, which it flushes before it clears them).
         */
        void write(ByteBuffer[] parts) throws IOException;

        void flush() throws IOException;

        void close() throws IOException;
    }

    /** A stream: heap parts as they are, direct ones through a small array. */
    private static final class StreamOutput implements Output {
        private final OutputStream out;
        private byte[] transfer;

        StreamOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(ByteBuffer[] parts) throws IOException {
            for (ByteBuffer part : parts) {
                if (part.hasArray()) {
                    out.write(part.array(), part.arrayOffset() + part.position(), part.remaining());
                    continue;
                }
                if (transfer == null) {
                    transfer = new byte[64 << 10];
                }
                ByteBuffer b = part.duplicate();
                while (b.hasRemaining()) {
                    int n = Math.min(transfer.length, b.remaining());
                    b.get(transfer, 0, n);
                    out.write(transfer, 0, n);
                }
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /**
     * A channel: what comes before a flush goes out in one gathering write, direct buffers
     * handed to the kernel as they are.
     */
    private static final class ChannelOutput implements Output {
        private final GatheringByteChannel out;
        private final List<ByteBuffer> held = new ArrayList<>();

        ChannelOutput(GatheringByteChannel out) {
            this.out = out;
        }

        @Override
        public void write(ByteBuffer[] parts) {
            for (ByteBuffer part : parts) {
                held.add(part.duplicate());
            }
        }

        @Override
        public void flush() throws IOException {
            ByteBuffer[] all = held.toArray(new ByteBuffer[0]);
            held.clear();
            long left = 0;
            for (ByteBuffer b : all) {
                left += b.remaining();
            }
            int first = 0;
            while (left > 0) {
                left -= out.write(all, first, all.length - first);
                while (first < all.length && !all[first].hasRemaining()) {
                    first++;
                }
            }
        }

        @Override
        public void close() throws IOException {
            try {
                flush();
            } finally {
                out.close();
            }
        }
    }
}
