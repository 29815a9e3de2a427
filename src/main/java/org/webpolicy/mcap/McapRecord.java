package org.webpolicy.mcap;

import java.util.Map;

/** The records {@link McapReader} hands out: what a file says, chunks already opened. */
public sealed interface McapRecord {

    /** The file's first record: a profile (empty for ours: no ROS) and the writing library. */
    record Header(String profile, String library) implements McapRecord {
    }

    /** A schema: how a channel's messages are laid out ({@code encoding} "jsonschema", for instance). */
    record Schema(int id, String name, String encoding, byte[] data) implements McapRecord {
    }

    /** A channel: a topic, the encoding of its messages and the schema they follow (0: none). */
    record Channel(int id, int schemaId, String topic, String messageEncoding, Map<String, String> metadata)
            implements McapRecord {
    }

    /**
     * One message; times are nanoseconds since the epoch. {@code fileOffset} is where the record
     * (or the chunk holding it) starts in the file, for errors that point at it.
     */
    record Message(int channelId, long sequence, long logTime, long publishTime, byte[] data, long fileOffset)
            implements McapRecord {
    }
}
