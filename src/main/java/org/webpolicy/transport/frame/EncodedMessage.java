package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A binary message still in the codec's segments (array data viewed in place, not copied).
 * {@link FrameCodec#encode(EncodedMessage, boolean, ByteBuffer)} writes the segments straight into
 * the outgoing frame, masking them on the way when the client sends, so a large observation is
 * copied once instead of twice. The frame is built on the sending thread before the send returns,
 * so the arrays may change after.
 */
public final class EncodedMessage {

    private final List<ByteBuffer> segments;

    /**
     * A message of the codec's segments, held by reference.
     *
     * @param segments the message's bytes in order, each from its position to its limit
     */
    public EncodedMessage(List<ByteBuffer> segments) {
        this.segments = List.copyOf(segments);
    }

    List<ByteBuffer> segments() {
        return segments;
    }
}
