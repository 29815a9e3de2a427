package org.webpolicy.transport.server;

import java.net.InetSocketAddress;
import org.webpolicy.transport.frame.EncodedMessage;

/**
 * One client connection as the server side sees it: what it is told (replies, error texts, close
 * frames), how it is cut, and what it still has to write. The WebSocket library's connection
 * implements it in the adapter package; nothing here knows that library.
 *
 * <p>Sends may come from any thread (workers, the I/O loop, the library's decoder threads) and
 * go out in the order they are made. A send on a connection that is closed already throws
 * {@link IllegalStateException} or is dropped; callers that must not throw catch it.
 */
public interface WireConnection {

    /**
     * The client's address, for logs and the exchange tap.
     *
     * @return the address, or null once the socket is gone
     */
    InetSocketAddress remoteAddress();

    /**
     * Whether the HTTP upgrade is still under way (no frame sent or received yet).
     *
     * @return true while handshaking
     */
    boolean handshaking();

    /**
     * Sends a binary message, written straight from the codec's segments.
     *
     * @param message the reply
     */
    void sendBinary(EncodedMessage message);

    /**
     * Sends a text message (error texts, as the Python servers send them).
     *
     * @param text the text
     */
    void sendText(String text);

    /**
     * Starts the close handshake with {@code code}: a close frame goes out after what is queued.
     *
     * @param code the close code
     * @param reason the close reason (ASCII, cut to fit a control frame)
     */
    void close(int code, String reason);

    /**
     * Cuts the socket now, without waiting for a close handshake; what waits unwritten is dropped.
     *
     * @param code the close code reported locally
     * @param reason why
     */
    void cut(int code, String reason);

    /**
     * Makes sure what was just sent reaches the socket without waiting for another event on the
     * connection.
     */
    void flushSoon();

    /**
     * Bytes sent and not yet written, counted up to just past {@code enough}.
     *
     * @param enough the count past which counting stops
     * @return the bytes counted
     */
    long pendingBytes(long enough);

    /**
     * Budget bytes already charged for the buffer of the {@code messageBytes} message being
     * handed on, which the caller now holds (0 when none were): a fragmented message's buffer is
     * charged before its fragments are copied into it.
     *
     * @param messageBytes the size of the message handed on
     * @return the bytes the caller now holds from the budget
     */
    long claimPrepaid(long messageBytes);
}
