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

    ServerConnection(Executor workers) {
        this.requests = new SerialExecutor(workers);
    }
}
