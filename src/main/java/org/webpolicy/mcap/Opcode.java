package org.webpolicy.mcap;

/** The record opcodes of MCAP version 0, and their names for error messages. */
final class Opcode {

    static final int HEADER = 0x01;
    static final int FOOTER = 0x02;
    static final int SCHEMA = 0x03;
    static final int CHANNEL = 0x04;
    static final int MESSAGE = 0x05;
    static final int CHUNK = 0x06;
    static final int MESSAGE_INDEX = 0x07;
    static final int CHUNK_INDEX = 0x08;
    static final int ATTACHMENT = 0x09;
    static final int ATTACHMENT_INDEX = 0x0A;
    static final int STATISTICS = 0x0B;
    static final int METADATA = 0x0C;
    static final int METADATA_INDEX = 0x0D;
    static final int SUMMARY_OFFSET = 0x0E;
    static final int DATA_END = 0x0F;

    /** The 8 bytes an MCAP file starts and ends with: 0x89 "MCAP" '0' (major version) CR LF. */
    static final byte[] MAGIC = {(byte) 0x89, 'M', 'C', 'A', 'P', '0', '\r', '\n'};

    private static final String[] NAMES = {"?", "Header", "Footer", "Schema", "Channel", "Message", "Chunk",
        "MessageIndex", "ChunkIndex", "Attachment", "AttachmentIndex", "Statistics", "Metadata", "MetadataIndex",
        "SummaryOffset", "DataEnd"};

    private Opcode() {
    }

    /** "Chunk (0x06)", or "unknown (0x42)". */
    static String describe(int opcode) {
        String name = opcode > 0 && opcode < NAMES.length ? NAMES[opcode] : "unknown";
        return name + String.format(" (0x%02x)", opcode);
    }
}
