package org.webpolicy.transport;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the server keeps per open WebSocket connection: its requests, run one at a time in order
 * on the shared worker pool, and the core's memory of it. Attached to the library's connection.
 */
final class ServerConnection {

    final SerialExecutor requests;
    final ProtocolCore.Conversation conversation = new ProtocolCore.Conversation();
    /** Requests received and not yet answered. */
    final AtomicInteger queued = new AtomicInteger();
    /** Set once the connection is failed or closed: nothing more is sent on it. */
    volatile boolean closed;

    /** When the current one-second window of pings began, and pings answered in it. */
    private long pingWindowStart = System.nanoTime();
    private int pingsInWindow;

    ServerConnection(Executor workers) {
        this.requests = new SerialExecutor(workers);
    }

    /** Counts a ping; false when this connection has already sent {@code perSecond} this second. */
    synchronized boolean admitPing(int perSecond) {
        long now = System.nanoTime();
        if (now - pingWindowStart >= 1_000_000_000L) {
            pingWindowStart = now;
            pingsInWindow = 0;
        }
        return ++pingsInWindow <= perSecond;
    }
}
