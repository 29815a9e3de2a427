package org.webpolicy.transport.client;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
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
 *
 * <p>The slot also says who reads the socket: the <em>read role</em>, held by one thread at a
 * time (an {@code SSLSocket} is read by one thread at a time, and the frame decoder's state goes
 * with the role, not with a thread). A caller of {@code step} announces itself before its request
 * goes out ({@link #callerComes}) and then reads its own reply while it waits
 * ({@link #takeReading}): the reply ends its wait on the thread that decoded it, with no wake-up
 * of another thread in between (the largest stage of the round trip's tail was that hand-off,
 * 2.7 ms at p99 on a loaded 2-core machine in issue 22's stage study). The connection's reader thread
 * holds the role only while no caller wants it: to read the metadata, the replies of pipelined
 * calls (whose sender waits in {@link #awaitFrame}, ready to be nudged, not in a read), what
 * arrives between calls, and the close handshake.
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
    /** The thread holding the read role, or null when it is free. */
    private Thread reading;
    /** Callers reading their own replies: holding the role, or about to take it. */
    private int callers;
    /** Where the reader thread waits for the role while it is idle. */
    private final Condition readerWake = lock.newCondition();
    /** Set by {@link #wakeReader}: the reader looks at the connection now, not at its next check. */
    private boolean readerPoked;

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
            if (callers == 0) {
                // A pipelined request: nobody reads for it but the reader thread.
                readerPoked = true;
                readerWake.signal();
            }
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
                readerPoked = true;
                readerWake.signal(); // the close handshake is read by whoever is free
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

    // ---- The read role ----

    /** How a caller holding the read role reads: one read of the socket and the frames it completed. */
    interface CallerRead {
        /**
         * Reads once, waiting for bytes until {@code deadline} (a {@link System#nanoTime()}) at
         * most, and hands the frames completed to the slot; it ends the connection when reading
         * fails.
         */
        void once(long deadline);
    }

    /**
     * A caller that will read its own reply says so before its request goes out: from then on the
     * reader thread does not take the role, which it would use to read that reply. Pair with
     * {@link #callerLeaves()}.
     */
    void callerComes() {
        lock.lock();
        try {
            callers++;
        } finally {
            lock.unlock();
        }
    }

    /** The caller is done with the connection's reads; the role, if it held it, is free again. */
    void callerLeaves() {
        lock.lock();
        try {
            callers--;
            if (reading == Thread.currentThread()) {
                release();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Like {@link #take}, for a caller between {@link #callerComes} and {@link #callerLeaves}: while
     * the role is free it takes it and reads with {@code read} itself, and keeps it until it leaves;
     * while the reader thread holds it, it waits for the frame (which that thread then hands over)
     * or for the role.
     *
     * @return the frame, or null when none came within {@code timeoutNanos}
     * @throws PolicyConnectionException when the protocol was broken, or the connection ended
     *     without the frame
     * @throws InterruptedException when the waiting thread is interrupted
     */
    Frame takeReading(long timeoutNanos, CallerRead read) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        Thread me = Thread.currentThread();
        while (true) {
            lock.lock();
            try {
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
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                if (reading == null) {
                    reading = me;
                }
                if (reading != me) {
                    changed.awaitNanos(left);
                    continue;
                }
            } finally {
                lock.unlock();
            }
            read.once(deadline);
        }
    }

    /**
     * Takes the role for a short look at what arrived between calls, when it is free.
     *
     * @return true when the calling thread holds it; give it back with {@link #callerLeaves()}
     *     (after {@link #callerComes()})
     */
    boolean tryCallerRole() {
        lock.lock();
        try {
            if (reading == null) {
                reading = Thread.currentThread();
            }
            return reading == Thread.currentThread();
        } finally {
            lock.unlock();
        }
    }

    /** The reader thread, as it starts: the upgrade and the metadata frame are its to read. */
    void readerStarts() {
        lock.lock();
        try {
            reading = Thread.currentThread();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The reader thread, holding the role, decides whether to read on: while no caller reads for
     * itself (or the connection is closing, when whoever is free reads the close handshake) and
     * there is something to read: {@code pending} bytes, a frame awaited, the close.
     *
     * @return true to read on; false when the role was given up
     */
    boolean readerKeeps(boolean pending, boolean closing) {
        lock.lock();
        try {
            if ((callers == 0 || closing) && (pending || closing || awaited > 0)) {
                return true;
            }
            release();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The reader thread, idle: waits until it may take the role and has a reason to (a frame nobody
     * reads for, the close: when {@link #wakeReader woken}), or for {@code checkNanos} at most, to
     * look at the connection (bytes that arrived, liveness); returns holding the role. While a
     * caller holds it or wants it, the wait goes on (the caller reads, and pings).
     *
     * @param closing true while the connection closes: the close is read even if a caller is about
     */
    void readerAwaits(long checkNanos, BooleanSupplier closing) {
        lock.lock();
        try {
            long left = checkNanos;
            while (true) {
                if (reading == null && (callers == 0 || closing.getAsBoolean()) && (readerPoked || left <= 0)) {
                    readerPoked = false;
                    reading = Thread.currentThread();
                    return;
                }
                if (left <= 0) {
                    left = checkNanos;
                }
                try {
                    left = readerWake.awaitNanos(left);
                } catch (InterruptedException e) {
                    left = 0; // nobody interrupts the reader thread; one that does has it look at the connection now
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Has the reader thread look at the connection now (it is closing, or a caller left it something). */
    void wakeReader() {
        lock.lock();
        try {
            readerPoked = true;
            readerWake.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Frees the role (lock held): a caller waiting for it takes it, else the reader when it has a reason. */
    private void release() {
        reading = null;
        if (callers > 0) {
            changed.signalAll();
        } else if (awaited > 0) {
            readerPoked = true; // a frame nobody reads for now (a caller that gave up; the connection then closes)
            readerWake.signal();
        } else if (readerPoked) {
            readerWake.signal(); // woken while the role was taken: the close, say
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
