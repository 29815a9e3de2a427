package org.webpolicy.transport.server;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What moves one connection's bytes for its {@link ServerWire}: the socket (or the TLS channel
 * around it) as the WebSocket library hands it over after the upgrade. The adapter package
 * implements it; nothing here knows that library.
 *
 * <p>Writes may come from any thread and go out in the order they are made.
 */
public interface WireConnection {

    /**
     * The client's address.
     *
     * @return the address, or null once the socket is gone
     */
    InetSocketAddress remoteAddress();

    /**
     * Whether the HTTP upgrade is still under way.
     *
     * @return true while handshaking
     */
    boolean handshaking();

    /**
     * Writes encoded frames, in order, after what is queued.
     *
     * @param frames whole frames, each from its position to its limit
     * @throws IllegalStateException when the connection is closed
     */
    void write(List<ByteBuffer> frames);

    /**
     * Closes the socket once everything queued (the close frame last) is written.
     *
     * @param code the close code, as reported locally
     * @param reason the close reason
     * @param remote whether the client closed first
     */
    void closeWhenFlushed(int code, String reason, boolean remote);

    /**
     * Closes the socket now; what waits unwritten is dropped.
     *
     * @param code the close code, as reported locally
     * @param reason why
     */
    void cut(int code, String reason);

    /** Makes sure what was just written reaches the socket without waiting for another event on it. */
    void flushSoon();

    /**
     * Bytes written and not yet taken by the socket, counted up to just past {@code enough}.
     *
     * @param enough the count past which counting stops
     * @return the bytes counted
     */
    long pendingBytes(long enough);

    /** The client answered a ping: it is alive (the liveness check closes a connection that stops answering). */
    void alive();
}
