package org.webpolicy.transport.client;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.protocol.ClientText;

/**
 * Pairs each request on one connection with exactly one frame, in order. {@link #expect()} opens
 * a place for the next request's frame before it is sent, the socket thread {@linkplain #offer
 * fills} the oldest open place, the caller {@linkplain #take takes} the oldest frame. Calls of
 * {@code step} have one request outstanding at a time; pipelined calls ({@code stepAsync} on a
 * server that echoes request ids, which answers a connection's requests in order) have several.
 * A frame that finds no request waiting (a second frame for one request among them) is a
 * protocol violation: it is never handed to anyone, the slot stays broken and the connection must
 * be dropped. Whatever arrives later on a broken connection
 * goes nowhere, so one reply can never be taken for another request's.
 *
 * <p>The metadata frame the server sends first is the answer to the connection itself: a slot
 * starts open, waiting for it.
 *
 * <p>Without request ids (Python servers) this cannot tell a stray frame from the reply when the
 * stray frame arrives after the next request was sent; {@link ClientConnection} checks ids where
 * the server echoes them.
 */
public final class ReplySlot {

    /** One data frame as it arrived: binary bytes, or the text of a text frame. */
    public record Frame(byte[] binary, String text) {

        /** What arrived, for an error message: its kind and size, and the start of a text. */
        String describe() {
            if (binary != null) {
                return "a binary frame of " + binary.length + " bytes";
            }
            return "a text frame of " + text.length() + " characters (\"" + excerpt(text) + "\")";
        }
    }

    private final String peer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Requests sent (the metadata at the start) whose frame has not arrived yet. */
    private int awaited = 1;
    /** Frames arrived and not taken yet, oldest first. */
    private final ArrayDeque<Frame> arrived = new ArrayDeque<>();
    /** Set by {@link #nudge()}: a waiter in {@link #awaitFrame} returns early. */
    private boolean nudged;
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
            awaited++;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Hands over a frame from the socket thread.
     *
     * @return false when the frame broke the protocol: the connection must be dropped
     */
    boolean offer(Frame frame) {
        lock.lock();
        try {
            if (violation != null || ended != null) {
                return violation == null; // the connection is finished; the frame goes nowhere
            }
            if (awaited == 0 && arrived.isEmpty()) {
                violation = peer + " sent " + frame.describe() + " while no request was outstanding";
            } else if (awaited == 0) {
                violation = peer + " sent a second frame for one request (" + frame.describe() + " after "
                        + arrived.peekLast().describe() + ")";
                arrived.clear(); // neither frame is trusted now
            } else {
                awaited--;
                arrived.add(frame);
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
                if (!arrived.isEmpty()) {
                    return arrived.poll();
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

    /**
     * Waits until the oldest frame can be {@linkplain #take taken} without waiting (it arrived,
     * the protocol was broken or the connection ended), {@link #nudge()} was called, or the time
     * passed.
     *
     * @return true when {@link #take} will not wait
     * @throws InterruptedException when the waiting thread is interrupted
     */
    boolean awaitFrame(long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (true) {
                if (violation != null || !arrived.isEmpty() || ended != null) {
                    return true;
                }
                if (nudged || left <= 0) {
                    nudged = false;
                    return false;
                }
                left = changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends a wait in {@link #awaitFrame} early (a new request is ready to be sent). */
    void nudge() {
        lock.lock();
        try {
            nudged = true;
            changed.signalAll();
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
     * The start of {@code text} for an error message: at most {@link ClientText#EXCERPT_CHARS} characters,
     * control characters escaped, so a hostile server cannot flood or forge log lines through it.
     *
     * @param text text from the server
     * @return the excerpt
     */
    public static String excerpt(String text) {
        return ClientText.excerpt(text);
    }
}
