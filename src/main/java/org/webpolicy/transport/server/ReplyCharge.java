package org.webpolicy.transport.server;

import org.webpolicy.transport.frame.InboundBudget;

/**
 * Large replies count against the server's inbound memory budget until they are written: a
 * reply is built from what the request decoded to (an echoed 16 KB PNG is a 16 MiB reply), so
 * a client that sends little and reads nothing could otherwise park memory outside every
 * budget, up to {@code maxPendingReplyBytes} per connection. A reply of more than
 * {@link InboundBudget#SMALL_MESSAGE_BYTES} is charged when it is queued and given back once the
 * connection has nothing left to write or has closed (looked at after 2 ms, then at doubling
 * intervals up to a second). When the budget cannot hold it, the request fails instead
 * (close 1011 with the reason): try again later.
 */
public final class ReplyCharge {

    private static final long MAX_CHECK_MILLIS = 1000;

    private final InboundBudget budget;
    private final Housekeeping housekeeping;

    ReplyCharge(InboundBudget budget, Housekeeping housekeeping) {
        this.budget = budget;
        this.housekeeping = housekeeping;
    }

    /**
     * Charges a reply of {@code bytes} about to be queued; false (nothing charged) when the
     * budget cannot hold it now. Small replies are not charged. Every true is followed by
     * {@link #queued}, whether or not the send succeeded.
     */
    boolean hold(long bytes) {
        return bytes <= InboundBudget.SMALL_MESSAGE_BYTES || budget.tryReserve(bytes, bytes);
    }

    /** The reply held by {@link #hold} was handed to {@code conn}: given back once written. */
    void queued(ServerWire conn, ServerConnection session, long bytes) {
        if (bytes > InboundBudget.SMALL_MESSAGE_BYTES) {
            releaseWhenWritten(conn, session, bytes, 2);
        }
    }

    private void releaseWhenWritten(ServerWire conn, ServerConnection session, long bytes, long afterMillis) {
        boolean scheduled = housekeeping.later(afterMillis, () -> {
            if (session.closed || conn.pendingBytes(0) == 0) {
                budget.release(bytes);
            } else {
                releaseWhenWritten(conn, session, bytes, Math.min(MAX_CHECK_MILLIS, afterMillis * 2));
            }
        });
        if (!scheduled) {
            budget.release(bytes); // the server is closing: its connections go with it
        }
    }
}
