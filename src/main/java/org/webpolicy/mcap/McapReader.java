package org.webpolicy.mcap;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Reads an MCAP file front to back, one record at a time, chunks opened and their CRCs checked:
 * {@link #next()} gives the header, schemas, channels and messages in file order, then null.
 * Index and summary records are checked (the data CRC, the summary CRC, the statistics' message
 * and chunk counts against what was read) but not handed out.
 *
 * <p>A file that simply stops (a recording whose process was killed) is not an error: the
 * records up to the last complete one are read, then {@link #truncation()} says where and why it
 * ended. Anything else wrong (bad magic, a CRC that does not match, a field that runs past its
 * record, a message on an unknown channel) throws {@link McapFormatException} naming the offset
 * and the record. Memory: one record (one chunk) at a time.
 */
public final class McapReader implements Closeable {

    /** Records larger than this are refused rather than allocated (a chunk is a few MiB). */
    static final long MAX_RECORD_BYTES = 1L << 30;

    private final InputStream in;
    private final long fileSize;
    private final CRC32 dataCrc = new CRC32();
    private final CRC32 summaryCrc = new CRC32();
    private final ArrayDeque<McapRecord> pending = new ArrayDeque<>();
    private final Map<Integer, McapRecord.Channel> channels = new HashMap<>();
    private final Map<Integer, McapRecord.Schema> schemas = new HashMap<>();
    private long position;
    private boolean started;
    private boolean dataEnded;
    private boolean finished;
    private String truncation;
    private long messages;
    private long chunks;
    private Long statisticsMessages;
    private Long statisticsChunks;
    private boolean footerRead;
    private boolean headerSeen;

    private McapReader(InputStream in, long fileSize) {
        this.in = in;
        this.fileSize = fileSize;
    }

    /**
     * Opens {@code file}; nothing is read until {@link #next()}.
     *
     * @param file an MCAP file
     * @return a reader at the start of the file
     * @throws IOException when the file cannot be opened
     */
    public static McapReader open(Path file) throws IOException {
        return new McapReader(new BufferedInputStream(Files.newInputStream(file), 1 << 16), Files.size(file));
    }

    /**
     * The next header, schema, channel or message record.
     *
     * @return the record, or null at the end of the file (or of what it holds)
     * @throws McapFormatException naming the offset and the record when the file is malformed
     */
    public McapRecord next() {
        while (pending.isEmpty() && !finished) {
            readOne();
        }
        return pending.poll();
    }

    /**
     * Why the file ended early, once {@link #next()} returned null.
     *
     * @return null for a file read to its footer and closing magic; otherwise where and how it stopped short
     */
    public String truncation() {
        return truncation;
    }

    /**
     * Messages read so far.
     *
     * @return a count
     */
    public long messageCount() {
        return messages;
    }

    /**
     * Chunks read so far.
     *
     * @return a count
     */
    public long chunkCount() {
        return chunks;
    }

    /**
     * The channels seen so far.
     *
     * @return channels by id
     */
    public Map<Integer, McapRecord.Channel> channels() {
        return Map.copyOf(channels);
    }

    /**
     * The schemas seen so far.
     *
     * @return schemas by id
     */
    public Map<Integer, McapRecord.Schema> schemas() {
        return Map.copyOf(schemas);
    }

    private void readOne() {
        try {
            if (!started) {
                started = true;
                readMagic(true);
                return;
            }
            long recordStart = position;
            byte[] head = new byte[9];
            int got = readUpTo(head, 9);
            if (got == 0 && !dataEnded) {
                stop("the file ends at byte " + recordStart + " with no data end, summary or footer (a recording that was not closed)");
                return;
            }
            if (got < 9) {
                stop("the file ends inside a record's opcode and length at byte " + recordStart);
                return;
            }
            int opcode = head[0] & 0xFF;
            long length = new RecordReader(head, 1, 9, recordStart, opcode).u64("length");
            if (length > fileSize - position) {
                stop("record " + Opcode.describe(opcode) + " at byte " + recordStart + " claims " + length
                        + " bytes, only " + (fileSize - position) + " follow (the file was cut short)");
                return;
            }
            if (length > MAX_RECORD_BYTES) {
                throw new McapFormatException(recordStart, Opcode.describe(opcode), "a record of " + length
                        + " bytes is larger than this reader accepts (" + MAX_RECORD_BYTES + ")");
            }
            if (opcode == Opcode.DATA_END || dataEnded) {
                // The summary CRC starts right after the data end record; the data CRC stops before it.
                if (dataEnded) {
                    summaryCrc.update(head, 0, 9);
                }
            } else {
                dataCrc.update(head, 0, 9);
            }
            long dataCrcBefore = dataCrc.getValue();
            byte[] content = new byte[(int) length];
            int n = readUpTo(content, content.length);
            if (n < content.length) {
                stop("record " + Opcode.describe(opcode) + " at byte " + recordStart + " is cut short");
                return;
            }
            if (opcode == Opcode.FOOTER) {
                // Only the footer's first two fields are inside the summary CRC.
                summaryCrc.update(content, 0, Math.min(16, content.length));
            } else if (dataEnded) {
                summaryCrc.update(content);
            } else if (opcode != Opcode.DATA_END) {
                dataCrc.update(content);
            }
            handle(opcode, content, recordStart, dataCrcBefore);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the MCAP file at byte " + position, e);
        }
    }

    private void handle(int opcode, byte[] content, long offset, long dataCrcBefore) throws IOException {
        RecordReader r = new RecordReader(content, 0, content.length, offset, opcode);
        if (!headerSeen && opcode != Opcode.HEADER) {
            throw r.bad("the first record must be a Header (0x01)");
        }
        headerSeen = true;
        switch (opcode) {
            case Opcode.HEADER -> pending.add(new McapRecord.Header(r.string("profile"), r.string("library")));
            case Opcode.SCHEMA -> schema(r, false);
            case Opcode.CHANNEL -> channel(r, false);
            case Opcode.MESSAGE -> message(r, content.length, offset);
            case Opcode.CHUNK -> chunk(r, offset);
            case Opcode.STATISTICS -> statistics(r);
            case Opcode.DATA_END -> {
                long crc = r.u32("data_section_crc");
                if (crc != 0 && crc != dataCrcBefore) {
                    throw r.bad("data section CRC is " + dataCrcBefore + ", the record says " + crc);
                }
                dataEnded = true;
            }
            case Opcode.FOOTER -> footer(r);
            default -> {
                // Index, attachment, metadata and private records: checked by their length only.
            }
        }
    }

    private void schema(RecordReader r, boolean inChunk) {
        int id = r.u16("id");
        McapRecord.Schema s = new McapRecord.Schema(id, r.string("name"), r.string("encoding"),
                r.bytes(r.u32("data length"), "data"));
        if (id == 0) {
            throw r.bad("schema id 0 is reserved");
        }
        if (schemas.putIfAbsent(id, s) == null && !dataEnded) {
            pending.add(s);
        }
    }

    private void channel(RecordReader r, boolean inChunk) {
        int id = r.u16("id");
        int schemaId = r.u16("schema_id");
        McapRecord.Channel c = new McapRecord.Channel(id, schemaId, r.string("topic"), r.string("message_encoding"),
                r.stringMap("metadata"));
        if (schemaId != 0 && !schemas.containsKey(schemaId)) {
            throw r.bad("channel " + id + " names schema " + schemaId + ", which no earlier record defines");
        }
        if (channels.putIfAbsent(id, c) == null && !dataEnded) {
            pending.add(c);
        }
    }

    private void message(RecordReader r, int length, long offset) {
        int channel = r.u16("channel_id");
        long sequence = r.u32("sequence");
        long logTime = r.u64("log_time");
        long publishTime = r.u64("publish_time");
        if (!channels.containsKey(channel)) {
            throw r.bad("message on channel " + channel + ", which no earlier record defines");
        }
        pending.add(new McapRecord.Message(channel, sequence, logTime, publishTime, r.bytes(r.remaining(), "data"), offset));
        messages++;
    }

    private void chunk(RecordReader r, long offset) {
        r.u64("message_start_time");
        r.u64("message_end_time");
        long uncompressedSize = r.u64("uncompressed_size");
        long crc = r.u32("uncompressed_crc");
        String compressionName = r.string("compression");
        long recordsLength = r.u64("records length");
        byte[] compressed = r.bytes(recordsLength, "records");
        ChunkCompression compression = ChunkCompression.bySpecName(compressionName);
        if (compression == null) {
            throw r.bad("compression '" + compressionName + "' is not one this reader knows (zstd or none)");
        }
        if (uncompressedSize > MAX_RECORD_BYTES) {
            throw r.bad("uncompressed size " + uncompressedSize + " is larger than this reader accepts");
        }
        byte[] records;
        try {
            records = compression.decompress(compressed, uncompressedSize);
        } catch (IllegalArgumentException e) {
            throw r.bad(e.getMessage());
        }
        if (records.length != uncompressedSize) {
            throw r.bad("records are " + records.length + " bytes, uncompressed_size says " + uncompressedSize);
        }
        CRC32 actual = new CRC32();
        actual.update(records);
        if (crc != 0 && crc != actual.getValue()) {
            throw r.bad("uncompressed CRC is " + actual.getValue() + ", the chunk says " + crc);
        }
        int pos = 0;
        while (pos < records.length) {
            RecordReader head = new RecordReader(records, pos, records.length, offset, Opcode.CHUNK);
            int opcode = head.u8("inner record opcode");
            long length = head.u64("inner record length");
            if (length > records.length - head.position()) {
                throw r.bad("inner record " + Opcode.describe(opcode) + " at chunk offset " + pos + " runs past the chunk");
            }
            int from = head.position();
            int to = from + (int) length;
            RecordReader inner = new RecordReader(records, from, to, offset, opcode);
            switch (opcode) {
                case Opcode.SCHEMA -> schema(inner, true);
                case Opcode.CHANNEL -> channel(inner, true);
                case Opcode.MESSAGE -> message(inner, (int) length, offset);
                default -> throw r.bad("a chunk may hold schemas, channels and messages, not " + Opcode.describe(opcode));
            }
            pos = to;
        }
        chunks++;
    }

    private void statistics(RecordReader r) {
        statisticsMessages = r.u64("message_count");
        r.u16("schema_count");
        r.u32("channel_count");
        r.u32("attachment_count");
        r.u32("metadata_count");
        statisticsChunks = r.u32("chunk_count");
    }

    private void footer(RecordReader r) throws IOException {
        r.u64("summary_start");
        r.u64("summary_offset_start");
        long crc = r.u32("summary_crc");
        if (crc != 0 && crc != summaryCrc.getValue()) {
            throw r.bad("summary CRC is " + summaryCrc.getValue() + ", the footer says " + crc);
        }
        if (statisticsMessages != null && statisticsMessages != messages) {
            throw r.bad("the statistics count " + statisticsMessages + " messages, the file holds " + messages);
        }
        if (statisticsChunks != null && statisticsChunks != chunks) {
            throw r.bad("the statistics count " + statisticsChunks + " chunks, the file holds " + chunks);
        }
        footerRead = true;
        readMagic(false);
        finished = true;
    }

    private void readMagic(boolean leading) throws IOException {
        long at = position;
        byte[] magic = new byte[Opcode.MAGIC.length];
        int n = readUpTo(magic, magic.length);
        if (n < magic.length && !leading) {
            stop("the closing magic is cut short");
            return;
        }
        if (!Arrays.equals(magic, Opcode.MAGIC)) {
            throw new McapFormatException(at, null, (leading ? "not an MCAP file: it does not start with"
                    : "the file does not end with") + " the MCAP magic (0x89 'MCAP0' CR LF)");
        }
        if (leading) {
            dataCrc.update(magic);
        }
    }

    private void stop(String why) {
        truncation = why;
        finished = true;
    }

    private int readUpTo(byte[] buf, int n) throws IOException {
        int total = 0;
        while (total < n) {
            int got = in.read(buf, total, n - total);
            if (got < 0) {
                break;
            }
            total += got;
        }
        position += total;
        return total;
    }

    /**
     * Whether the footer was read and checked.
     *
     * @return true once it was
     */
    public boolean complete() {
        return footerRead;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
