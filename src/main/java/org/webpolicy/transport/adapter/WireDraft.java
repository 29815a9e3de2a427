package org.webpolicy.transport.adapter;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.enums.Opcode;
import org.java_websocket.framing.Framedata;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.server.ServerWire;

/**
 * The server's RFC 6455 draft without extensions (no permessage-deflate, as the Python peers).
 * The library keeps the HTTP upgrade; every byte after it goes to the connection's
 * {@link ServerWire} ({@link #translateFrame}), which decodes, reassembles and answers frames
 * itself, so the library's frame semantics never run: it is handed no frames. The library copies
 * a draft per connection, so the wire bound here belongs to one connection.
 *
 * <p>The library still builds two kinds of frames of its own, its liveness pings and, while the
 * server stops, its close frames: {@link #createBinaryFrame} writes them with {@link FrameCodec}.
 */
public class WireDraft extends Draft_6455 {

    private final int maxMessageBytes;
    /** Where this connection's bytes go once its upgrade is done; null before (and for plain HTTP answers). */
    private volatile ServerWire wire;

    /**
     * A draft for connections whose messages are at most {@code maxMessageBytes}.
     *
     * @param maxMessageBytes the largest message accepted (the wire enforces it)
     */
    public WireDraft(int maxMessageBytes) {
        super(Collections.emptyList(), maxMessageBytes);
        this.maxMessageBytes = maxMessageBytes;
    }

    final int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** From now on the bytes after the upgrade go to {@code to}; called when the connection opens, before any frame is read. */
    final void bind(ServerWire to) {
        wire = to;
    }

    /**
     * Hands the bytes to the connection's wire and the library no frame: the library's decoder
     * thread before the hand-over and the I/O loop after it both come through here, so the bytes
     * take one path from the first one after the upgrade.
     */
    @Override
    public List<Framedata> translateFrame(ByteBuffer buffer) {
        ServerWire to = wire;
        if (to != null) {
            to.received(buffer);
        }
        buffer.position(buffer.limit()); // a connection with no wire (a plain HTTP answer) says nothing more that matters
        return Collections.emptyList();
    }

    @Override
    public void processFrame(WebSocketImpl connection, Framedata frame) {
        // never called: translateFrame hands the library no frames
    }

    /** The library's own frames (its liveness pings, its close frames while the server stops), written by our encoder. */
    @Override
    public ByteBuffer createBinaryFrame(Framedata frame) {
        return FrameCodec.encode(new Frame(opcode(frame.getOpcode()), frame.isFin(), frame.getPayloadData()), false);
    }

    private static org.webpolicy.transport.frame.Opcode opcode(Opcode library) {
        return switch (library) {
            case CONTINUOUS -> org.webpolicy.transport.frame.Opcode.CONTINUATION;
            case TEXT -> org.webpolicy.transport.frame.Opcode.TEXT;
            case BINARY -> org.webpolicy.transport.frame.Opcode.BINARY;
            case CLOSING -> org.webpolicy.transport.frame.Opcode.CLOSE;
            case PING -> org.webpolicy.transport.frame.Opcode.PING;
            case PONG -> org.webpolicy.transport.frame.Opcode.PONG;
        };
    }

    @Override
    public Draft copyInstance() {
        return new WireDraft(maxMessageBytes);
    }
}
