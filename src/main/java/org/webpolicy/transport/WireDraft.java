package org.webpolicy.transport;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.enums.Role;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.Framedata;

/**
 * RFC 6455 without extensions (no permessage-deflate, as the Python peers), framing through
 * {@link FrameCodec} instead of the library's byte-at-a-time masking. Used by both the client and,
 * through {@link HandshakeDraft}, the server. The library copies a draft per connection, so the
 * decoder state here belongs to one connection.
 */
class WireDraft extends Draft_6455 {

    private final int maxMessageBytes;
    private final FrameCodec frames;

    WireDraft(int maxMessageBytes) {
        super(Collections.emptyList(), maxMessageBytes);
        this.maxMessageBytes = maxMessageBytes;
        this.frames = new FrameCodec(maxMessageBytes);
    }

    final int maxMessageBytes() {
        return maxMessageBytes;
    }

    @Override
    public List<Framedata> translateFrame(ByteBuffer buffer) throws InvalidDataException {
        return frames.decode(buffer);
    }

    @Override
    public ByteBuffer createBinaryFrame(Framedata frame) {
        return FrameCodec.encode(frame, role == Role.CLIENT);
    }

    @Override
    public void reset() {
        super.reset();
        frames.reset();
    }

    @Override
    public Draft copyInstance() {
        return new WireDraft(maxMessageBytes);
    }
}
