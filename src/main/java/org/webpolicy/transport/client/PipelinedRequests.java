package org.webpolicy.transport.client;

import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.RemotePolicyException;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.protocol.ClientProtocol;
import org.webpolicy.transport.protocol.Reply;
import org.webpolicy.transport.protocol.Request;

/**
 * Several requests outstanding on one {@link ClientConnection} whose server echoes ids: the server
 * answers the connection's requests in order, each reply carrying its request's id, which is
 * checked against the request. Any failure drops the connection, as for a single exchange.
 *
 * <p>Threading: called by the connection's owner, one thread at a time; {@link #nudge} from any.
 */
final class PipelinedRequests {

    private final ClientConnection connection;

    PipelinedRequests(ClientConnection connection) {
        this.connection = connection;
    }

    /**
     * Sends an envelope request without waiting for its reply; it carries a fresh id, which the
     * matching {@link #receive} checks. Only where {@link ClientConnection#echoesIds()}.
     *
     * @return the request as sent, its id included
     * @throws org.webpolicy.codec.EncodeException when {@code request} holds a value the wire
     *     cannot carry (nothing was sent; the connection stays usable)
     * @throws PolicyConnectionException when the connection is unusable or sending failed (it is
     *     then dropped)
     */
    Request send(Request request) {
        if (!connection.echoesIds()) {
            throw new IllegalStateException("Pipelining needs a server that echoes request ids");
        }
        ClientProtocol.Outgoing outgoing = connection.protocol().encode(request);
        connection.send(new EncodedMessage(outgoing.bytes()));
        return outgoing.request();
    }

    /**
     * Waits up to {@code timeoutNanos} until the oldest reply can be received without waiting, or
     * {@link #nudge()} is called.
     *
     * @return true when {@link #receive} will not wait
     */
    boolean awaitReply(long timeoutNanos) throws InterruptedException {
        return connection.slot().awaitFrame(timeoutNanos);
    }

    /** Ends a wait in {@link #awaitReply} early: another request is ready to be sent. */
    void nudge() {
        connection.slot().nudge();
    }

    /**
     * The reply to request {@code sent}, the oldest outstanding, checked against it; call when
     * {@link #awaitReply} said it is there.
     *
     * @throws PolicyConnectionException when the connection ended or broke the protocol, the reply
     *     is undecodable, not a map, or carries another id or continuation (the connection is then
     *     dropped), or holds no action (it is not)
     * @throws RemotePolicyException when the server answered with an error text
     */
    Reply receive(Request sent) {
        ReplySlot.Frame frame;
        try {
            frame = connection.slot().take(0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connection.shutDown("interrupted");
            throw new PolicyConnectionException("Interrupted while taking the reply from " + connection.uri(), e);
        } catch (PolicyConnectionException e) {
            connection.shutDown(e.getMessage());
            throw e;
        }
        if (frame == null) {
            throw new IllegalStateException("receive called before the reply arrived");
        }
        return connection.read(connection.decode(frame), sent);
    }
}
