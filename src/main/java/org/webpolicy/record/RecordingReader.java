package org.webpolicy.record;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.mcap.McapReader;
import org.webpolicy.mcap.McapRecord;

/**
 * Reads a recording back: {@link #next()} gives its exchanges in the order they were recorded,
 * request and reply bytes as they went on the wire. Connections and drop counts are collected on
 * the way. A truncated recording gives what it holds, then {@link #truncation()} says why it
 * ended; a malformed one throws {@code McapFormatException} naming the offset and the record.
 * Memory: one chunk and one exchange at a time.
 */
public final class RecordingReader implements Closeable {

    private final McapReader mcap;
    private final Map<Integer, String> topics = new HashMap<>();
    private final Map<Long, byte[]> requests = new HashMap<>();
    private final Map<Long, byte[]> replies = new HashMap<>();
    private final Map<Long, RecordedConnection> connections = new LinkedHashMap<>();
    private final Map<Long, byte[]> metadataBySequence = new HashMap<>();
    private long dropped;

    private RecordingReader(McapReader mcap) {
        this.mcap = mcap;
    }

    /**
     * Opens {@code file}; nothing is read until {@link #next()}.
     *
     * @param file a recording
     * @return a reader at its start
     * @throws IOException when it cannot be opened
     */
    public static RecordingReader open(Path file) throws IOException {
        return new RecordingReader(McapReader.open(file));
    }

    /**
     * The next exchange.
     *
     * @return it, or null at the end of what the file holds
     * @throws org.webpolicy.mcap.McapFormatException naming the offset and record of a malformed file
     */
    public RecordedExchange next() {
        for (McapRecord r = mcap.next(); r != null; r = mcap.next()) {
            if (r instanceof McapRecord.Channel c) {
                topics.put(c.id(), c.topic());
            } else if (r instanceof McapRecord.Message m) {
                RecordedExchange x = message(m);
                if (x != null) {
                    return x;
                }
            }
        }
        return null;
    }

    private RecordedExchange message(McapRecord.Message m) {
        String topic = topics.get(m.channelId());
        if (Topics.REQUEST.equals(topic)) {
            requests.put(m.sequence(), m.data());
        } else if (Topics.REPLY.equals(topic)) {
            replies.put(m.sequence(), m.data());
        } else if (Topics.METADATA.equals(topic)) {
            metadataBySequence.put(m.sequence(), m.data());
        } else if (Topics.EVENT.equals(topic)) {
            Map<String, Object> e = json(m);
            if ("open".equals(e.get("event")) && e.get("connection") instanceof Number id) {
                long conn = id.longValue();
                byte[] metadata = metadataBySequence.remove(conn);
                Map<String, String> handshake = new LinkedHashMap<>();
                if (e.get("handshake") instanceof Map<?, ?> h) {
                    h.forEach((k, v) -> handshake.put(String.valueOf(k), String.valueOf(v)));
                }
                connections.put(conn, new RecordedConnection(conn, String.valueOf(e.get("robot")), Map.copyOf(handshake),
                        metadata == null ? new byte[] {(byte) 0x80} : metadata, m.logTime()));
            } else if ("dropped".equals(e.get("event")) && e.get("dropped") instanceof Number n) {
                dropped = Math.max(dropped, n.longValue());
            }
        } else if (Topics.EXCHANGE.equals(topic)) {
            return exchange(m, json(m));
        }
        return null;
    }

    private RecordedExchange exchange(McapRecord.Message m, Map<String, Object> e) {
        long seq = m.sequence();
        byte[] request = requests.remove(seq);
        byte[] reply = replies.remove(seq);
        if (request == null) {
            throw new IllegalStateException("exchange " + seq + " (file offset " + m.fileOffset()
                    + ") has no request record before it");
        }
        Map<String, Double> timing = new LinkedHashMap<>();
        if (e.get("server_timing") instanceof Map<?, ?> st) {
            for (Map.Entry<?, ?> t : st.entrySet()) {
                if (t.getValue() instanceof Number d) {
                    timing.put(String.valueOf(t.getKey()), d.doubleValue());
                }
            }
        }
        return new RecordedExchange(seq, number(e, "connection"), number(e, "index"), (String) e.get("form"),
                (String) e.get("op"), request, reply, (String) e.get("failure"), number(e, "request_time_ns"),
                number(e, "reply_time_ns"), Map.copyOf(timing), request.length, !Boolean.FALSE.equals(e.get("sent")));
    }

    private static long number(Map<String, Object> e, String key) {
        return e.get(key) instanceof Number n ? n.longValue() : 0;
    }

    private static Map<String, Object> json(McapRecord.Message m) {
        try {
            return JsonReader.object(new String(m.data(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("the JSON message at file offset " + m.fileOffset() + " is malformed: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The connections seen so far.
     *
     * @return connections by id
     */
    public Map<Long, RecordedConnection> connections() {
        return Map.copyOf(connections);
    }

    /**
     * Exchanges the recorder dropped (its last count in the file).
     *
     * @return a count
     */
    public long dropped() {
        return dropped;
    }

    /**
     * Why the file ended early, once {@link #next()} returned null.
     *
     * @return null when it was read to its footer; otherwise where and why it ended
     */
    public String truncation() {
        return mcap.truncation();
    }

    @Override
    public void close() throws IOException {
        mcap.close();
    }
}
