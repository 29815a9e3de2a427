package org.webpolicy.transport.server;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.frame.Opcode;
import org.webpolicy.transport.frame.ProtocolException;
import org.webpolicy.transport.protocol.ClientText;

/**
 * One client connection's WebSocket after its HTTP upgrade, as the server keeps it: every byte
 * the client sends after the upgrade comes here ({@link #received}), whichever thread reads the
 * socket (the library's decoder thread before the hand-over, the I/O loop after it), and every
 * frame the server sends leaves from here. It owns the frame decoder, the reassembly of
 * fragmented messages, ping and pong, and the close handshake; complete messages go straight to
 * the {@link Receiver}. What moves the bytes is a {@link WireConnection}.
 *
 * <p>Threads: {@link #received} runs on one thread at a time (the hand-over waits until the
 * library's thread has decoded every read it queued). Sends come from any thread; the
 * connection writes them in the order they are made.
 *
 * <p>Bounds held here: frames and fragmented messages within {@code maxMessageBytes} and the
 * inbound budget ({@link FrameCodec}); the copy of a fragmented message into one buffer charged
 * before it is made; a text message's characters never decoded (requests are binary: it is
 * refused for its kind alone); at most {@link #MAX_PINGS_PER_SECOND} pings a second, and no pong
 * while too many reply bytes wait unread. An {@link OutOfMemoryError} while this connection's
 * bytes are decoded cuts it (1013), and the thread goes on serving the others.
 */
public final class ServerWire {

    /** Pings answered per connection and second; more close the connection (1008). */
    public static final int MAX_PINGS_PER_SECOND = 50;

    /** Where complete messages and broken bounds go: the server's request handling. */
    public interface Receiver {
        /**
         * A binary message arrived.
         *
         * @param wire the connection
         * @param message the message's bytes, a buffer of its own
         * @param prepaid budget bytes already charged for {@code message}, which the receiver now holds
         */
        void binary(ServerWire wire, ByteBuffer message, long prepaid);

        /**
         * A text message arrived (its characters were not decoded).
         *
         * @param wire the connection
         */
        void text(ServerWire wire);

        /**
         * The connection broke one of its bounds: close it with {@code code}.
         *
         * @param wire the connection
         * @param code the close code
         * @param reason why
         * @param now whether to cut the socket without waiting for the close handshake
         */
        void limit(ServerWire wire, int code, String reason, boolean now);
    }

    private final WireConnection link;
    private final ServerConnection session;
    private final Receiver receiver;
    private final FrameCodec codec;
    private final InboundBudget budget;
    private final ClientLog clientLog;
    private final long maxPendingReplyBytes;
    /** The fragments of the binary message under way; empty between messages. */
    private final List<ByteBuffer> fragments = new ArrayList<>();
    /** Whether the message under way is text (its fragments are dropped as they come). */
    private boolean textMessage;
    /** Set once this side has sent its close frame: nothing but the peer's close is read after it. */
    private final AtomicBoolean closeSent = new AtomicBoolean();

    /**
     * The WebSocket of a connection just accepted.
     *
     * @param link what moves this connection's bytes
     * @param session what the server keeps for the connection
     * @param receiver where complete messages go
     * @param maxMessageBytes the largest frame or fragmented message accepted
     * @param maxPendingReplyBytes reply bytes left unread past which a ping closes the connection
     * @param budget the server's inbound memory budget
     * @param clientLog where misbehaving clients are logged, at a bounded rate
     */
    public ServerWire(WireConnection link, ServerConnection session, Receiver receiver, int maxMessageBytes,
            long maxPendingReplyBytes, InboundBudget budget, ClientLog clientLog) {
        this.link = link;
        this.session = session;
        this.receiver = receiver;
        this.budget = budget;
        this.clientLog = clientLog;
        this.maxPendingReplyBytes = maxPendingReplyBytes;
        this.codec = new FrameCodec(maxMessageBytes, FrameCodec.Masking.REQUIRED, budget);
    }

    /**
     * What the server keeps for this connection.
     *
     * @return the session
     */
    public ServerConnection session() {
        return session;
    }

    /**
     * Bytes the client sent after its upgrade, in order; all of {@code bytes} is consumed.
     *
     * @param bytes as read from the connection
     */
    public void received(ByteBuffer bytes) {
        try {
            for (Frame frame : codec.decode(bytes)) {
                if (!frame(frame)) {
                    codec.release(); // closed: whatever else it sends is ignored
                    bytes.position(bytes.limit());
                    return;
                }
            }
        } catch (ProtocolException e) {
            bytes.position(bytes.limit());
            codec.release();
            dropFragments();
            String reason = e.getMessage() == null ? "protocol error" : e.getMessage();
            clientLog.warn("Closing {} with {}: {}", remoteAddress(), e.closeCode(), ClientText.quote(reason));
            close(e.closeCode(), reason);
        } catch (OutOfMemoryError e) {
            bytes.position(bytes.limit());
            outOfMemory(e);
        }
    }

    /**
     * Cuts this connection, whose bytes ran the heap out while they were decoded or handled, at
     * once (no close handshake to wait for: what it holds is freed now), and ignores what else it
     * sends; the thread that decoded them carries on serving the other connections.
     *
     * @param e the error
     */
    public void outOfMemory(OutOfMemoryError e) {
        codec.release();
        dropFragments();
        clientLog.warn("Cutting {}: out of memory while decoding its bytes ({}); the server carries on", remoteAddress(),
                e.toString());
        link.cut(CloseCodes.TRY_AGAIN_LATER, "out of memory while decoding this connection's bytes");
    }

    /** Acts on one frame; false once the connection is closed and nothing more is to be read. */
    private boolean frame(Frame frame) {
        switch (frame.opcode()) {
            case PING -> ping(frame);
            case PONG -> link.alive();
            case CLOSE -> {
                closeReceived(frame);
                return false;
            }
            default -> {
                if (!closeSent.get()) {
                    data(frame);
                }
            }
        }
        return true;
    }

    private void data(Frame frame) {
        if (frame.opcode() != Opcode.CONTINUATION) {
            textMessage = frame.opcode() == Opcode.TEXT;
        }
        if (textMessage) {
            // Requests are binary: a text one is refused for its kind alone, so its characters
            // are never decoded, and its fragments are not kept.
            if (frame.fin()) {
                codec.assembled(); // the fragments' charge, had there been fragments
                receiver.text(this);
            }
            return;
        }
        if (frame.fin() && fragments.isEmpty()) {
            receiver.binary(this, frame.payload(), 0);
            return;
        }
        fragments.add(frame.payload());
        if (!frame.fin()) {
            return; // FrameCodec bounds the fragments' number and total size
        }
        // The last fragment: the fragments are copied into one buffer, whose bytes are charged
        // first; the request takes the charge over.
        long copy = 0;
        for (ByteBuffer part : fragments) {
            copy += part.remaining();
        }
        if (copy > 0 && !budget.tryReserve(copy, copy)) {
            dropFragments();
            receiver.limit(this, CloseCodes.TRY_AGAIN_LATER, "the server's inbound memory budget is spent; try again later",
                    false);
            return;
        }
        ByteBuffer whole;
        try {
            whole = ByteBuffer.allocate((int) copy);
            for (ByteBuffer part : fragments) {
                whole.put(part);
            }
            whole.flip();
        } catch (OutOfMemoryError e) {
            budget.release(copy);
            throw e;
        } finally {
            dropFragments();
        }
        receiver.binary(this, whole, copy);
    }

    private void dropFragments() {
        fragments.clear();
        codec.assembled();
    }

    /**
     * A client could queue pongs without end by never reading them, or keep the reading thread
     * busy answering: pings are bounded by rate and by the connection's unread bytes, as replies are.
     */
    private void ping(Frame ping) {
        if (closeSent.get()) {
            return;
        }
        if (!session.admitPing(MAX_PINGS_PER_SECOND)) {
            receiver.limit(this, CloseCodes.POLICY, "more than " + MAX_PINGS_PER_SECOND + " pings a second", false);
            return;
        }
        if (link.pendingBytes(maxPendingReplyBytes) > maxPendingReplyBytes) {
            receiver.limit(this, CloseCodes.POLICY, "more than " + maxPendingReplyBytes
                    + " bytes of replies and pongs left unread", true);
            return;
        }
        send(new Frame(Opcode.PONG, true, ping.payload()));
        link.flushSoon();
    }

    /** The client's close frame: answered with the same code (RFC 6455 5.5.1) unless this side closed first. */
    private void closeReceived(Frame close) {
        int code = close.closeCode();
        String reason = close.closeReason();
        if (!closeSent.compareAndSet(false, true)) {
            link.cut(code, reason); // the answer to our own close frame: the handshake is done
            return;
        }
        try {
            link.write(List.of(FrameCodec.encode(Frame.close(code == CloseCodes.NO_STATUS ? -1 : code, ""), false)));
        } catch (IllegalStateException e) {
            // closed meanwhile
        }
        link.closeWhenFlushed(code, reason, true);
    }

    /**
     * Whether the HTTP upgrade is still under way.
     *
     * @return true while handshaking
     */
    public boolean handshaking() {
        return link.handshaking();
    }

    /**
     * The client's address, for logs and the exchange tap.
     *
     * @return the address, or null once the socket is gone
     */
    public InetSocketAddress remoteAddress() {
        return link.remoteAddress();
    }

    /**
     * Sends a binary message, written straight from the codec's segments.
     *
     * @param message the reply
     * @throws IllegalStateException when the connection is closing or closed
     */
    public void sendBinary(EncodedMessage message) {
        refuseAfterClose();
        link.write(List.of(FrameCodec.encode(message, false, null)));
    }

    /**
     * Sends a text message (error texts, as the Python servers send them).
     *
     * @param text the text
     * @throws IllegalStateException when the connection is closing or closed
     */
    public void sendText(String text) {
        refuseAfterClose();
        send(new Frame(Opcode.TEXT, true, ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    }

    /** Nothing but a close frame may follow a close frame (RFC 6455 5.5.1). */
    private void refuseAfterClose() {
        if (closeSent.get()) {
            throw new IllegalStateException("the connection is closing");
        }
    }

    private void send(Frame frame) {
        link.write(List.of(FrameCodec.encode(frame, false)));
    }

    /**
     * Starts the close handshake with {@code code}, once: a close frame goes out after what is
     * queued, and the socket is closed once it is written. The client's answer is not waited for.
     *
     * @param code the close code
     * @param reason the close reason (cut to fit a control frame)
     */
    public void close(int code, String reason) {
        if (!closeSent.compareAndSet(false, true)) {
            return;
        }
        try {
            link.write(List.of(FrameCodec.encode(Frame.close(code, reason), false)));
        } catch (IllegalStateException e) {
            return; // closed meanwhile
        }
        link.closeWhenFlushed(code, reason, false);
    }

    /**
     * Cuts the socket now, without a close handshake; what waits unwritten is dropped.
     *
     * @param code the close code reported locally
     * @param reason why
     */
    public void cut(int code, String reason) {
        closeSent.set(true);
        link.cut(code, reason);
    }

    /** Makes sure what was just sent reaches the socket without waiting for another event on the connection. */
    public void flushSoon() {
        link.flushSoon();
    }

    /**
     * Bytes sent and not yet written, counted up to just past {@code enough}.
     *
     * @param enough the count past which counting stops
     * @return the bytes counted
     */
    public long pendingBytes(long enough) {
        return link.pendingBytes(enough);
    }

    /** The connection is gone: what its partly received frame and message held of the budget goes back. */
    public void release() {
        codec.release(); // the fragments' buffers are the codec's charge, given back here
    }
}
