package org.webpolicy.transport;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Pairs each request on one connection with exactly one frame. The protocol allows one request
 * in flight, so a connection has one slot: {@link #expect()} opens it for the next request, the
 * socket thread {@linkplain #offer fills} it, the caller {@linkplain #take takes} the frame and the
 * slot is empty again. A frame that finds no request waiting, or a second frame for the request
 * whose frame is already there, is a protocol violation: it is never handed to anyone, the slot
 * stays broken and the connection must be dropped. Whatever arrives later on a broken connection
 * goes nowhere, so one reply can never be taken for another request's.
 *
 * <p>The metadata frame the server sends first is the answer to the connection itself: a slot
 * starts open, waiting for it.
 *
 * <p>Without request ids (Python servers) this cannot tell a stray frame from the reply when the
 * stray frame arrives after the next request was sent; {@link ClientConnection} checks ids where
 * the server echoes them.
 */
final class ReplySlot {

    /** One data frame as it arrived: binary bytes, or the text of a text frame. */
    record Frame(byte[] binary, String text) {

        /** What arrived, for an error message: its kind and size, and the start of a text. */
        String describe() {
            if (binary != null) {
                return "a binary frame of " + binary.length + " bytes";
            }
            return "a text frame of " + text.length() + " characters (\"" + excerpt(text) + "\")";
        }
    }

    /** The most characters of a text frame quoted in an error. */
    static final int EXCERPT_CHARS = 200;

    private final String peer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** True from {@link #expect()} (or the start) until the frame is taken. */
    private boolean outstanding = true;
    /** The outstanding request's frame, once it arrived, until taken. */
    private Frame frame;
    /** What broke the protocol, or null; final once set (volatile: read without the lock). */
    private volatile String violation;
    /** Why the connection ended, or null. */
    private String ended;

    /** A slot waiting for the metadata frame from {@code peer} (named in errors). */
    ReplySlot(String peer) {
        this.peer = peer;
    }

    /**
     * Opens the slot for the next request, before it is sent.
     *
     * @throws PolicyConnectionException when the connection broke the protocol or ended
     */
    void expect() {
        lock.lock();
        try {
            failIfUnusable();
            if (outstanding) {
                throw new IllegalStateException("A request is already outstanding on the connection to " + peer);
            }
            outstanding = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands over a frame from the socket thread.
     *
     * @return false when the frame broke the protocol: the connection must be dropped
     */
    boolean offer(Frame arrived) {
        lock.lock();
        try {
            if (violation != null || ended != null) {
                return violation == null; // the connection is finished; the frame goes nowhere
            }
            if (!outstanding) {
                violation = peer + " sent " + arrived.describe() + " while no request was outstanding";
            } else if (frame != null) {
                violation = peer + " sent a second frame for one request (" + arrived.describe() + " after "
                        + frame.describe() + ")";
                frame = null; // neither frame is trusted now
            } else {
                frame = arrived;
            }
            changed.signalAll();
            return violation == null;
        } finally {
            lock.unlock();
        }
    }

    /** Records that the connection ended; a frame already there can still be taken. */
    void end(String why) {
        lock.lock();
        try {
            if (ended == null) {
                ended = why;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the outstanding request's frame and empties the slot.
     *
     * @return the frame, or null when none came within {@code timeoutNanos}
     * @throws PolicyConnectionException when the protocol was broken, or the connection ended
     *     without the frame
     * @throws InterruptedException when the waiting thread is interrupted
     */
    Frame take(long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (true) {
                if (violation != null) {
                    throw new PolicyConnectionException(violation + "; the connection was dropped");
                }
                if (frame != null) {
                    Frame taken = frame;
                    frame = null;
                    outstanding = false;
                    return taken;
                }
                if (ended != null) {
                    throw new PolicyConnectionException("The connection to " + peer + " ended while waiting for the reply: "
                            + ended);
                }
                if (left <= 0) {
                    return null;
                }
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** What broke the protocol on this connection, or null. */
    String violation() {
        return violation;
    }

    private void failIfUnusable() {
        if (violation != null) {
            throw new PolicyConnectionException(violation + "; the connection was dropped");
        }
        if (ended != null) {
            throw new PolicyConnectionException("The connection to " + peer + " ended: " + ended);
        }
    }

    /**
     * The start of {@code text} for an error message: at most {@link #EXCERPT_CHARS} characters,
     * control characters escaped, so a hostile server cannot flood or forge log lines through it.
     */
    static String excerpt(String text) {
        StringBuilder out = new StringBuilder();
        int n = Math.min(text.length(), EXCERPT_CHARS);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < ' ' || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return text.length() > n ? out.append("...").toString() : out.toString();
    }
}
