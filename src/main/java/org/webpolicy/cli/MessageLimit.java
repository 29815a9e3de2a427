package org.webpolicy.cli;

import java.util.List;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;

/**
 * The message bound of the record and replay tools, which speak through the WebSocket library
 * directly rather than through the policy server. Unbounded, the library allocates whatever
 * length a frame header claims and keeps every fragment of a message: one robot (or a broken
 * peer) could exhaust the tool's heap with a 14-byte header. The library's own limit is checked
 * on the header, before any payload buffer is made, and on the fragments held so far.
 */
final class MessageLimit {

    /** The default, the policy server's own default for a message. */
    static final int DEFAULT_BYTES = 256 * 1024 * 1024;

    private MessageLimit() {
    }

    /**
     * The protocol draft that refuses (close 1009) a frame, or a message's fragments together,
     * longer than {@code maxMessageBytes}.
     *
     * @param maxMessageBytes the limit in bytes
     * @return a draft for the library's server or client
     */
    static Draft draft(int maxMessageBytes) {
        return new Draft_6455(List.of(), maxMessageBytes);
    }
}
