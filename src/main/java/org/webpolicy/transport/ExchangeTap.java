package org.webpolicy.transport;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Sees every request a {@link PolicyServer} answers or fails, as bytes exactly as they went on the
 * wire ({@link PolicyServerBuilder#exchangeTap}); a recorder is one. Called on the worker thread
 * that answered, after the reply is queued: it must return at once and must not change the
 * buffers, which it may keep (they are never reused). Whatever it throws is logged and ignored.
 *
 * <p>A server that reuses its message buffers ({@link PolicyServerBuilder#reuseMessageBuffers})
 * calls {@link #exchanged(SocketAddress, ByteBuffer, ByteBuffer, Runnable, List, long, long)} for
 * an answered request instead: the request is lent, and its buffer goes back to the server's pool
 * when the tap runs the lease. A tap that does not override it keeps the request as before, and
 * that buffer is then not reused.
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

    /**
     * An answered request on a server that reuses its message buffers: {@code request} is valid
     * until {@code requestDone} runs (once, from any thread), after which its bytes may belong to
     * another message. The reply's segments may be views of the request (a policy that returns
     * what it was given) and are valid as long. The default passes the exchange to
     * {@link #exchanged(SocketAddress, ByteBuffer, ByteBuffer, List, String, long, long)} and never
     * runs the lease: the tap may keep everything, as before, and the buffer is not reused.
     *
     * @param robot the connection's remote address (one per connection)
     * @param metadata the metadata message the server sent first on every connection
     * @param request the request message, read-only, lent until {@code requestDone} runs
     * @param requestDone gives the request's buffer back to the server; later runs do nothing
     * @param reply the reply message's segments
     * @param receivedNanos when the request arrived ({@link System#nanoTime()})
     * @param doneNanos when the reply was queued
     */
    default void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, Runnable requestDone,
            List<ByteBuffer> reply, long receivedNanos, long doneNanos) {
        exchanged(robot, metadata, request, reply, null, receivedNanos, doneNanos);
    }
}
