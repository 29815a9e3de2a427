package org.webpolicy.transport;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Sees every request a {@link PolicyServer} answers or fails, as bytes exactly as they went on the
 * wire ({@link PolicyServerBuilder#exchangeTap}); a recorder is one. Called on the worker thread
 * that answered, after the reply is queued: it must return at once and must not change the
 * buffers, which it may keep (they are never reused). Whatever it throws is logged and ignored.
 */
@FunctionalInterface
public interface ExchangeTap {

    /**
     * @param robot the connection's remote address (one per connection)
     * @param metadata the metadata message the server sent first on every connection
     * @param request the request message
     * @param reply the reply message's segments, or null when the request failed
     * @param failure the error text the robot got, or null
     * @param receivedNanos when the request arrived ({@link System#nanoTime()})
     * @param doneNanos when the reply (or the error) was queued
     */
    void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, List<ByteBuffer> reply,
            String failure, long receivedNanos, long doneNanos);
}
