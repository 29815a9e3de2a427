package org.webpolicy.transport.server;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.ExchangeTap;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.protocol.RequestFailure;
import org.webpolicy.transport.ServerOptions;

/**
 * Runs the requests of open connections through the {@link ProtocolCore} on the worker pool, or
 * on the I/O loop's thread that read them once it has handed the selector on ({@link ReadTurn}),
 * and writes the replies, within each connection's bounds: requests queued
 * ({@code maxQueuedRequests}), reply bytes waiting to be written ({@code maxPendingReplyBytes})
 * and the server's inbound memory budget. A connection past a bound is closed (1008 or 1013);
 * every other connection carries on.
 */
public final class RequestRunner implements ServerWire.Receiver {

    private static final Logger log = LoggerFactory.getLogger(RequestRunner.class);

    private final ServerOptions options;
    private final ProtocolCore core;
    private final InboundBudget budget;
    private final Housekeeping housekeeping;
    private final ClientLog clientLog;
    private final ReplyCharge replies;
    /** Set when the server starts closing: requests still queued fail at once instead of running. */
    public volatile boolean closing;

    /**
     * A runner for one server.
     *
     * @param options the server's options (bounds, exchange tap)
     * @param core what answers requests
     * @param budget the server's inbound memory budget, which holds each request until it is answered
     * @param housekeeping the server's timer thread
     * @param clientLog where misbehaving clients are logged
     */
    public RequestRunner(ServerOptions options, ProtocolCore core, InboundBudget budget, Housekeeping housekeeping,
            ClientLog clientLog) {
        this.options = options;
        this.core = core;
        this.budget = budget;
        this.housekeeping = housekeeping;
        this.clientLog = clientLog;
        this.replies = new ReplyCharge(budget, housekeeping);
    }

    @Override
    public void binary(ServerWire wire, ByteBuffer message, long prepaid) {
        received(wire, wire.session(), message, prepaid);
    }

    @Override
    public void text(ServerWire wire) {
        fail(wire, wire.session(), "Requests must be binary msgpack frames; got a text frame");
    }

    @Override
    public void limit(ServerWire wire, int code, String reason, boolean now) {
        cut(wire, wire.session(), code, reason, now);
    }

    /** A request arrived (on the thread reading the socket): queue it for the connection's turn. */
    private void received(ServerWire conn, ServerConnection session, ByteBuffer message, long prepaid) {
        if (session.closed) {
            budget.release(prepaid);
            return;
        }
        if (session.queued.incrementAndGet() > options.limits().maxQueuedRequests()) {
            session.queued.decrementAndGet();
            budget.release(prepaid);
            cut(conn, session, CloseCodes.POLICY, "more than " + options.limits().maxQueuedRequests()
                    + " requests waiting for their replies", false);
            return;
        }
        // What the buffer holds (a pooled one's whole size class), charged until it is answered.
        long bytes = message.capacity();
        long arrived = System.nanoTime();
        core.metrics().received(message.remaining());
        // A fragmented message's buffer was charged before its fragments were copied into it.
        if (prepaid < bytes && !budget.tryReserve(bytes - prepaid, bytes)) {
            budget.release(prepaid);
            session.queued.decrementAndGet();
            cut(conn, session, CloseCodes.TRY_AGAIN_LATER, "the server's inbound memory budget is spent; try again later",
                    false);
            return;
        }
        Runnable answer = () -> handle(conn, session, message, bytes, arrived);
        Runnable refused = () -> {
            session.queued.decrementAndGet();
            budget.release(bytes);
            fail(conn, session, "The server is shutting down; request not run.");
        };
        ReadTurn turn = ReadTurn.current();
        if (turn != null) {
            // Read by the I/O loop's leading thread: sent on when its turn's reads are done,
            // perhaps answered by that thread itself (ReadTurn).
            turn.add(session.requests, answer, refused);
            return;
        }
        try {
            session.requests.execute(answer);
        } catch (RejectedExecutionException e) {
            refused.run();
        }
    }

    private void handle(ServerWire conn, ServerConnection session, ByteBuffer message, long bytes, long arrived) {
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
            long waiting = conn.pendingBytes(options.limits().maxPendingReplyBytes());
            if (waiting > options.limits().maxPendingReplyBytes()) {
                cut(conn, session, CloseCodes.POLICY, "more than " + options.limits().maxPendingReplyBytes()
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
                conn.sendBinary(new EncodedMessage(reply));
            } finally {
                replies.queued(conn, session, size);
            }
            conn.flushSoon();
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
    private boolean tap(ServerWire conn, ByteBuffer request, List<ByteBuffer> reply, String failure, long arrived) {
        ExchangeTap tap = options.exchangeTap();
        if (tap == null) {
            return false;
        }
        ByteBuffer metadata = ByteBuffer.wrap(core.metadataMessage()).asReadOnlyBuffer();
        try {
            // Read-only with a pool: a pooled array holds an earlier message's bytes past this one's limit.
            ByteBuffer shown = budget.buffers() != null ? request.asReadOnlyBuffer() : request.duplicate();
            if (failure == null && budget.buffers() != null) {
                tap.exchanged(conn.remoteAddress(), metadata, shown, new RequestLease(budget.buffers(), request), reply,
                        arrived, System.nanoTime());
            } else {
                tap.exchanged(conn.remoteAddress(), metadata, shown, reply, failure, arrived, System.nanoTime());
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
     * Sends the reason as a text frame, then closes with 1011, as the Python servers do.
     *
     * @param conn the connection
     * @param session what the server keeps for it; nothing more is sent once it is closed
     * @param text the reason, as the client is shown it
     */
    public void fail(ServerWire conn, ServerConnection session, String text) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        clientLog.warn("Request from {} failed; closing the connection: {}", conn.remoteAddress(),
                ClientText.firstLine(text));
        try {
            conn.sendText(text);
            conn.close(CloseCodes.UNEXPECTED, Envelope.ERROR_REASON);
            conn.flushSoon();
        } catch (RuntimeException e) {
            log.debug("Could not report the failure to {}: {}", conn.remoteAddress(), e.toString());
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
    public void cut(ServerWire conn, ServerConnection session, int code, String reason, boolean now) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        core.metrics().failed(FailureKind.LIMIT);
        clientLog.warn("Closing {} with {}: {}", conn.remoteAddress(), code, reason);
        if (now) {
            conn.cut(code, reason);
            return;
        }
        conn.close(code, reason);
        conn.flushSoon();
        if (!housekeeping.later(1000, () -> conn.cut(code, reason))) {
            conn.cut(code, reason);
        }
    }
}
