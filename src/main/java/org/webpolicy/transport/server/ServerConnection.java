package org.webpolicy.transport.server;

import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the server keeps per WebSocket connection: its requests, run one at a time in order on the
 * shared worker pool, and the core's memory of it. Attached to the library's connection when it
 * is accepted, so that whichever of opening and closing comes first, the count stays right.
 */
public final class ServerConnection {

    final SerialExecutor requests;
    /** What the protocol core remembers of this connection between requests. */
    public final ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
    /** Requests received and not yet answered. */
    final AtomicInteger queued = new AtomicInteger();
    /** Set once the connection is failed or closed: nothing more is sent on it. */
    volatile boolean closed;
    /** 0 accepted, 1 open (counted), 2 gone; the library may close a connection while it opens. */
    private final AtomicInteger state = new AtomicInteger();

    /** When the current one-second window of pings began, and pings answered in it. */
    private long pingWindowStart = System.nanoTime();
    private int pingsInWindow;

    /**
     * The state of a connection just accepted.
     *
     * @param workers the server's worker pool
     */
    public ServerConnection(Executor workers) {
        this(workers, null);
    }

    /**
     * The state of a connection just accepted, its turns bounded by the server's request slots.
     *
     * @param workers the server's worker pool
     * @param slots the server's request slots ({@code maxConcurrentRequests}), shared by every
     *     connection; null: unbounded here (the pool's size bounds it)
     */
    public ServerConnection(Executor workers, Semaphore slots) {
        this.requests = new SerialExecutor(workers, slots);
    }

    /**
     * True when this call opened the connection (it was not closed first): count it.
     *
     * @return whether to count it
     */
    public boolean markOpen() {
        return state.compareAndSet(0, 1);
    }

    /**
     * True when the connection had been counted open: uncount it. Later calls return false.
     *
     * @return whether to uncount it
     */
    public boolean markGone() {
        closed = true;
        conversation.end();
        return state.getAndSet(2) == 1;
    }

    /**
     * Counts a ping; false when this connection has already sent {@code perSecond} this second.
     *
     * @param perSecond the pings a connection may send per second
     * @return whether to answer this one
     */
    public synchronized boolean admitPing(int perSecond) {
        long now = System.nanoTime();
        if (now - pingWindowStart >= 1_000_000_000L) {
            pingWindowStart = now;
            pingsInWindow = 0;
        }
        return ++pingsInWindow <= perSecond;
    }
}
