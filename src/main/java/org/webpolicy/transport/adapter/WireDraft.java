package org.webpolicy.transport.adapter;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.enums.Opcode;
import org.java_websocket.enums.Role;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.java_websocket.framing.FramedataImpl1;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.ProtocolException;
import org.webpolicy.transport.server.ClientLog;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.InboundBudget;

/**
 * RFC 6455 without extensions (no permessage-deflate, as the Python peers), framing through
 * {@link FrameCodec} instead of the library's byte-at-a-time masking. Used by both the client and,
 * through {@link HandshakeDraft}, the server. The library copies a draft per connection, so the
 * decoder state here belongs to one connection.
 *
 * <p>The decoder is made when the library tells the draft its role: a server's draft then wants
 * masked frames and a client's unmasked ones. A frame that breaks the protocol closes the
 * connection with the RFC's code through {@link ProtocolViolation}, logged under the server's
 * rate limit, instead of an exception the library would log with a stack trace each time.
 *
 * <p>An {@link OutOfMemoryError} while a connection's frames are decoded or processed (the
 * library's copy of a fragmented message, a text frame's {@code String}, the request handed on) is
 * that connection's: it is cut with 1013 and the thread, the I/O loop or the library's decoder
 * thread, carries on serving the others ({@link #contain}). Any other {@code Error} still takes
 * the server down, as before.
 */
public class WireDraft extends Draft_6455 {

    private final int maxMessageBytes;
    private final InboundBudget budget;
    private final ClientLog clientLog;
    private FrameCodec frames;
    /** Budget bytes charged for the library's copy of a fragmented message, not yet handed on. */
    private long prepaid;
    /** A server's draft within a fragmented text message. */
    private boolean textMessage;

    /**
     * A client's draft: no memory budget (its replies are bounded by {@code maxMessageBytes}).
     *
     * @param maxMessageBytes the largest message accepted
     */
    public WireDraft(int maxMessageBytes) {
        this(maxMessageBytes, null, null);
    }

    /**
     * A server's draft: frame buffers are taken from the budget, and what a client does wrong is logged.
     *
     * @param maxMessageBytes the largest message accepted
     * @param budget the server's inbound memory budget
     * @param clientLog where misbehaving clients are logged, at a bounded rate
     */
    public WireDraft(int maxMessageBytes, InboundBudget budget, ClientLog clientLog) {
        super(Collections.emptyList(), maxMessageBytes);
        this.maxMessageBytes = maxMessageBytes;
        this.budget = budget;
        this.clientLog = clientLog;
    }

    final int maxMessageBytes() {
        return maxMessageBytes;
    }

    final InboundBudget budget() {
        return budget;
    }

    final ClientLog clientLog() {
        return clientLog;
    }

    private synchronized FrameCodec frames() {
        if (frames == null) {
            FrameCodec.Masking masking = role == Role.SERVER ? FrameCodec.Masking.REQUIRED : FrameCodec.Masking.FORBIDDEN;
            frames = new FrameCodec(maxMessageBytes, masking, budget);
        }
        return frames;
    }

    @Override
    public List<Framedata> translateFrame(ByteBuffer buffer) {
        FrameCodec codec = frames();
        try {
            List<Frame> frames = codec.decode(buffer);
            List<Framedata> library = new ArrayList<>(frames.size());
            for (Frame frame : frames) {
                library.add(toLibrary(frame));
            }
            return library;
        } catch (ProtocolException e) {
            buffer.position(buffer.limit());
            codec.release();
            List<Framedata> violation = new ArrayList<>(1);
            violation.add(new ProtocolViolation(e));
            return violation;
        } catch (OutOfMemoryError e) {
            buffer.position(buffer.limit());
            codec.release();
            List<Framedata> violation = new ArrayList<>(1);
            violation.add(new ProtocolViolation(new ProtocolException(CloseFrame.TRY_AGAIN_LATER,
                    "out of memory while decoding this connection's frames")));
            return violation;
        }
    }

    /** Our decoded frame as the library's frame semantics take it (its close frame parses code and reason). */
    private static Framedata toLibrary(Frame frame) {
        FramedataImpl1 library = FramedataImpl1.get(switch (frame.opcode()) {
            case CONTINUATION -> Opcode.CONTINUOUS;
            case TEXT -> Opcode.TEXT;
            case BINARY -> Opcode.BINARY;
            case CLOSE -> Opcode.CLOSING;
            case PING -> Opcode.PING;
            case PONG -> Opcode.PONG;
        });
        library.setFin(frame.fin());
        library.setPayload(frame.payload());
        return library;
    }

    /** The library's frame as ours, for the encoder. */
    static Frame fromLibrary(Framedata frame) {
        org.webpolicy.transport.frame.Opcode opcode = switch (frame.getOpcode()) {
            case CONTINUOUS -> org.webpolicy.transport.frame.Opcode.CONTINUATION;
            case TEXT -> org.webpolicy.transport.frame.Opcode.TEXT;
            case BINARY -> org.webpolicy.transport.frame.Opcode.BINARY;
            case CLOSING -> org.webpolicy.transport.frame.Opcode.CLOSE;
            case PING -> org.webpolicy.transport.frame.Opcode.PING;
            case PONG -> org.webpolicy.transport.frame.Opcode.PONG;
        };
        return new Frame(opcode, frame.isFin(), frame.getPayloadData());
    }

    @Override
    public void processFrame(WebSocketImpl connection, Framedata frame) throws InvalidDataException {
        if (frame instanceof ProtocolViolation violation) {
            if (clientLog != null) {
                clientLog.warn("Closing {} with {}: {}", connection.getRemoteSocketAddress(), violation.closeCode(),
                        ClientText.quote(violation.reason()));
            }
            connection.close(violation.closeCode(), closeReason(violation.reason()));
            return;
        }
        boolean text = role == Role.SERVER && (frame.getOpcode() == Opcode.TEXT
                || (frame.getOpcode() == Opcode.CONTINUOUS && textMessage));
        if (text) {
            // Requests are binary: a text one is refused for its kind alone (ServerEndpoint), so its
            // characters are never decoded. The library would make a String of it here, on the I/O
            // thread and outside the budget: up to 4x the frame's bytes while it decodes.
            textMessage = !frame.isFin();
            ((FramedataImpl1) frame).setPayload(ByteBuffer.allocate(0));
        }
        boolean assembles = frame.getOpcode() == Opcode.CONTINUOUS && frame.isFin() && frames != null;
        long copy = assembles && !text && budget != null ? frames.assembledBytes() : 0;
        if (copy > 0 && !budget.tryReserve(copy, copy)) {
            frames.assembled();
            connection.close(CloseFrame.TRY_AGAIN_LATER, "the server's inbound memory budget is spent; try again later");
            return;
        }
        prepaid = copy;
        try {
            // The last fragment: the library copies the fragments into one buffer, charged above,
            // and hands it on as the request (which takes the charge over, see claimPrepaid).
            super.processFrame(connection, frame);
        } catch (OutOfMemoryError e) {
            contain(connection, e);
        } finally {
            if (assembles) {
                frames.assembled();
            }
            if (prepaid > 0) {
                budget.release(prepaid); // not handed on as a request
                prepaid = 0;
            }
        }
    }

    /**
     * Called with the message the library hands on while a fragmented message is processed: the
     * bytes already charged for its buffer, which the caller now holds (0 when none were).
     *
     * @param messageBytes the size of the message handed on
     * @return the bytes the caller now holds from the budget
     */
    public final long claimPrepaid(long messageBytes) {
        long claimed = prepaid == messageBytes ? prepaid : 0;
        prepaid -= claimed;
        return claimed;
    }

    /**
     * Cuts {@code connection}, whose bytes ran the heap out while they were decoded, at once (no
     * close handshake to wait for: what it holds is freed now), and ignores what else it sends;
     * the thread that decoded them carries on serving the other connections.
     */
    static void contain(WebSocketImpl connection, OutOfMemoryError e) {
        if (connection.getDraft() instanceof WireDraft draft) {
            if (draft.frames != null) {
                draft.frames.release();
            }
            if (draft.clientLog != null) {
                draft.clientLog.warn("Cutting {}: out of memory while decoding its bytes ({}); the server carries on",
                        connection.getRemoteSocketAddress(), e.toString());
            }
        }
        connection.closeConnection(CloseFrame.TRY_AGAIN_LATER, "out of memory while decoding this connection's bytes");
    }

    /** A close reason must fit a control frame (123 bytes of UTF-8); ours are ASCII. */
    private static String closeReason(String reason) {
        return reason.length() <= 120 ? reason : reason.substring(0, 120);
    }

    @Override
    public ByteBuffer createBinaryFrame(Framedata frame) {
        if (frame instanceof MessageFrame message) {
            return FrameCodec.encode(message.message(), role == Role.CLIENT, null);
        }
        return FrameCodec.encode(fromLibrary(frame), role == Role.CLIENT);
    }

    @Override
    public void reset() {
        super.reset();
        if (frames != null) {
            frames.release();
        }
    }

    @Override
    public Draft copyInstance() {
        return new WireDraft(maxMessageBytes, budget, clientLog);
    }
}
