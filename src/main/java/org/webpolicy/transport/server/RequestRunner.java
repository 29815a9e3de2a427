package org.webpolicy.transport.server;

import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.framing.CloseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.ExchangeTap;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.adapter.FrameWriter;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.adapter.OwnedSocket;
import org.webpolicy.transport.protocol.RequestFailure;
import org.webpolicy.transport.ServerOptions;
import org.webpolicy.transport.adapter.WireDraft;
import org.webpolicy.transport.adapter.WriteWake;

/**
 * Runs the requests of open connections through the {@link ProtocolCore} on the worker pool and
 * writes the replies, within each connection's bounds: requests queued
 * ({@code maxQueuedRequests}), reply bytes waiting to be written ({@code maxPendingReplyBytes})
 * and the server's inbound memory budget. A connection past a bound is closed (1008 or 1013);
 * every other connection carries on.
 */
public final class RequestRunner {

    private static final Logger log = LoggerFactory.getLogger(RequestRunner.class);

    private final ServerOptions options;
    private final ProtocolCore core;
    private final InboundBudget budget;
    private final Housekeeping housekeeping;
    private final ClientLog clientLog;
    private final WriteDemand writeDemand;
    private final WriteWake writeWake;
    private final ReplyCharge replies;
    /** Set when the server starts closing: requests still queued fail at once instead of running. */
    public volatile boolean closing;

    /** Asks the library's selector to write a connection's queued frames. */
    public interface WriteDemand {
        /**
         * Asks for {@code conn}'s queued frames to be written.
         *
         * @param conn the connection
         */
        void request(WebSocket conn);
    }

    /**
     * A runner for one server.
     *
     * @param options the server's options (bounds, exchange tap)
     * @param core what answers requests
     * @param budget the server's inbound memory budget, which holds each request until it is answered
     * @param housekeeping the server's timer thread
     * @param clientLog where misbehaving clients are logged
     * @param writeDemand how to ask the library's selector to write a connection
     * @param writeWake the wake-up of the library's selector after a send
     */
    public RequestRunner(ServerOptions options, ProtocolCore core, InboundBudget budget, Housekeeping housekeeping,
            ClientLog clientLog, WriteDemand writeDemand, WriteWake writeWake) {
        this.options = options;
        this.core = core;
        this.budget = budget;
        this.housekeeping = housekeeping;
        this.clientLog = clientLog;
        this.writeDemand = writeDemand;
        this.writeWake = writeWake;
        this.replies = new ReplyCharge(budget, housekeeping);
    }

    /**
     * A request arrived (on a decoder thread): queue it for the connection's turn on a worker.
     *
     * @param conn the connection
     * @param session what the server keeps for it
     * @param message the request's bytes
     */
    public void received(WebSocket conn, ServerConnection session, ByteBuffer message) {
        if (session.closed) {
            return;
        }
        if (session.queued.incrementAndGet() > options.limits().maxQueuedRequests()) {
            session.queued.decrementAndGet();
            cut(conn, session, CloseFrame.POLICY_VALIDATION, "more than " + options.limits().maxQueuedRequests()
                    + " requests waiting for their replies", false);
            return;
        }
        // What the buffer holds (a pooled one's whole size class), charged until it is answered.
        long bytes = message.capacity();
        long arrived = System.nanoTime();
        core.metrics().received(message.remaining());
        // A fragmented message's buffer was charged before the library copied it (WireDraft).
        long prepaid = conn.getDraft() instanceof WireDraft draft ? draft.claimPrepaid(bytes) : 0;
        if (prepaid < bytes && !budget.tryReserve(bytes - prepaid, bytes)) {
            budget.release(prepaid);
            session.queued.decrementAndGet();
            cut(conn, session, CloseFrame.TRY_AGAIN_LATER, "the server's inbound memory budget is spent; try again later",
                    false);
            return;
        }
        try {
            session.requests.execute(() -> handle(conn, session, message, bytes, arrived));
        } catch (RejectedExecutionException e) {
            session.queued.decrementAndGet();
            budget.release(bytes);
            fail(conn, session, "The server is shutting down; request not run.");
        }
    }

    private void handle(WebSocket conn, ServerConnection session, ByteBuffer message, long bytes, long arrived) {
        core.metrics().queueSeconds.recordNanos(System.nanoTime() - arrived);
        DecodedCharge decoded = new DecodedCharge(budget, bytes);
        // Set once the policy has returned: nothing reads the message's views any more (the reply
        // is copied into its frame by sendFrame), so a pooled buffer may go back. A failed request
        // keeps its buffer out of the pool: a call abandoned at its deadline may still read it.
        boolean recycle = false;
        try {
            if (session.closed) {
                return;
            }
            if (closing) {
                throw new RequestFailure(FailureKind.SHUTDOWN, "The server is shutting down; request not run.");
            }
            List<ByteBuffer> reply = core.answer(session.conversation, message.duplicate(), decoded);
            recycle = true;
            if (session.closed) {
                return;
            }
            long waiting = pendingBytes(conn, options.limits().maxPendingReplyBytes());
            if (waiting > options.limits().maxPendingReplyBytes()) {
                cut(conn, session, CloseFrame.POLICY_VALIDATION, "more than " + options.limits().maxPendingReplyBytes()
                        + " reply bytes left unread", true);
                return;
            }
            long size = replyBytes(reply);
            if (!replies.hold(size)) {
                throw new RequestFailure(FailureKind.LIMIT, "The reply of " + size + " bytes does not fit the server's"
                        + " memory budget now; try again later");
            }
            // Counted before it is queued: a client reading its reply then finds it counted.
            core.metrics().answered(size, System.nanoTime() - arrived);
            try {
                conn.sendFrame(new EncodedMessage(reply));
            } finally {
                replies.queued(conn, session, size);
            }
            flushSoon(conn);
            session.conversation.replySent();
            recycle = !tap(conn, message, reply, null, arrived);
        } catch (RuntimeException | Error e) {
            // OutOfMemoryError included: this request fails and its connection closes; the
            // server, its threads and every other connection carry on.
            core.metrics().failed(RequestFailure.kindOf(e));
            recycle &= options.exchangeTap() == null; // a tap told of a failure may keep the request
            String text = ProtocolCore.describe(e);
            fail(conn, session, text);
            tap(conn, message, null, text, arrived);
        } finally {
            decoded.release();
            budget.release(bytes);
            session.queued.decrementAndGet();
            if (recycle && budget.buffers() != null) {
                budget.buffers().give(message);
            }
        }
    }

    /**
     * Hands the exchange to the server's {@link ExchangeTap}, if any; a tap's failure never reaches
     * the robot. With pooled buffers the tap is lent the request, which it gives back when done
     * with it: true then, the buffer is the tap's to give back (or never, if the tap keeps it).
     */
    private boolean tap(WebSocket conn, ByteBuffer request, List<ByteBuffer> reply, String failure, long arrived) {
        ExchangeTap tap = options.exchangeTap();
        if (tap == null) {
            return false;
        }
        ByteBuffer metadata = ByteBuffer.wrap(core.metadataMessage()).asReadOnlyBuffer();
        try {
            // Read-only with a pool: a pooled array holds an earlier message's bytes past this one's limit.
            ByteBuffer shown = budget.buffers() != null ? request.asReadOnlyBuffer() : request.duplicate();
            if (failure == null && budget.buffers() != null) {
                tap.exchanged(conn.getRemoteSocketAddress(), metadata, shown, new RequestLease(budget.buffers(), request), reply,
                        arrived, System.nanoTime());
            } else {
                tap.exchanged(conn.getRemoteSocketAddress(), metadata, shown, reply, failure, arrived, System.nanoTime());
            }
        } catch (RuntimeException e) {
            log.warn("The exchange tap failed: {}", e.toString());
        }
        return failure == null && budget.buffers() != null;
    }

    private static long replyBytes(List<ByteBuffer> reply) {
        long n = 0;
        for (ByteBuffer segment : reply) {
            n += segment.remaining();
        }
        return n;
    }

    /**
     * Bytes queued to {@code conn} and not yet written, counted up to just past {@code enough}
     * (a connection that reads nothing may have many small frames queued).
     *
     * @param conn the connection
     * @param enough the count past which counting stops
     * @return the bytes counted
     */
    public static long pendingBytes(WebSocket conn, long enough) {
        if (conn instanceof OwnedSocket owned) {
            return owned.pendingBytes(enough);
        }
        long total = 0;
        for (ByteBuffer frame : ((WebSocketImpl) conn).outQueue) {
            total += frame.remaining();
            if (total > enough) {
                break;
            }
        }
        return total;
    }

    /**
     * Sends the reason as a text frame, then closes with 1011, as the Python servers do.
     *
     * @param conn the connection
     * @param session what the server keeps for it; nothing more is sent once it is closed
     * @param text the reason, as the client is shown it
     */
    public void fail(WebSocket conn, ServerConnection session, String text) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        clientLog.warn("Request from {} failed; closing the connection: {}", conn.getRemoteSocketAddress(),
                ClientText.firstLine(text));
        try {
            conn.send(text);
            conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
            flushSoon(conn);
        } catch (RuntimeException e) {
            log.debug("Could not report the failure to {}: {}", conn.getRemoteSocketAddress(), e.toString());
        }
    }

    /**
     * Closes a connection past one of its bounds with {@code code}. The close frame is queued,
     * and the socket is cut a second later whether or not the client answers it; when the bound
     * is on unread bytes ({@code now}), the socket is cut at once: the close frame would only wait
     * behind what the client left unread, and freeing that memory is what the bound is for.
     *
     * @param conn the connection
     * @param session what the server keeps for it
     * @param code the close code (1008 or 1013)
     * @param reason the close reason
     * @param now whether to cut the socket without waiting for the close handshake
     */
    public void cut(WebSocket conn, ServerConnection session, int code, String reason, boolean now) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        core.metrics().failed(FailureKind.LIMIT);
        clientLog.warn("Closing {} with {}: {}", conn.getRemoteSocketAddress(), code, reason);
        WebSocketImpl impl = (WebSocketImpl) conn;
        if (now) {
            impl.closeConnection(code, reason);
            return;
        }
        conn.close(code, reason);
        flushSoon(conn);
        if (!housekeeping.later(1000, () -> impl.closeConnection(code, reason))) {
            impl.closeConnection(code, reason);
        }
    }

    /**
     * The library writes on its selector thread and can lose a write queued from another thread:
     * when its selector finds the queue empty just before we queue a frame and asks for write
     * readiness, it then withdraws that request, and the frame waits for the next event on the
     * connection (up to a ping interval). Fuzzing caught a reply stuck this way. After every send
     * the selector thread itself asks again for write readiness where frames wait
     * ({@link WriteWake}), which no withdrawal can race; only without the wake-up pipe, a timer
     * looks again 1 ms later. The sweep looks at every connection each second as well. A
     * connection taken over from the library ({@link OwnedSocket}) needs none of this: its
     * {@link FrameWriter} cannot lose a write.
     *
     * @param conn the connection a frame was just queued to
     */
    public void flushSoon(WebSocket conn) {
        if (conn instanceof OwnedSocket owned && owned.writer.owned()) {
            return; // its writer wrote or queued the frame with write interest: nothing to re-check
        }
        if (!writeWake.demand(conn)) {
            housekeeping.later(1, () -> flushIfStuck(conn));
        }
    }

    /**
     * Asks the library's selector to write {@code conn} when frames wait and it is not watching for write
     * readiness: the re-check after {@link #flushSoon} and the sweep's.
     *
     * @param conn the connection
     */
    public void flushIfStuck(WebSocket conn) {
        WebSocketImpl impl = (WebSocketImpl) conn;
        SelectionKey key = impl.getSelectionKey();
        try {
            if (!impl.outQueue.isEmpty() && key != null && key.isValid()
                    && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                writeDemand.request(conn);
            }
        } catch (CancelledKeyException e) {
            // closed meanwhile
        }
    }
}
