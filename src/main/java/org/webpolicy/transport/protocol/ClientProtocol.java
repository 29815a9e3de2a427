package org.webpolicy.transport.protocol;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.policy.Continuation;

/**
 * The client's half of the protocol on one connection, with no socket: builds its requests for
 * the terms its handshake settled, numbers them, encodes them, and checks each reply against its
 * request. What carries the bytes, and what a failed check does to the connection, is the
 * caller's business.
 *
 * <p>Threading: one caller at a time (the client's turn); the request numbering is not shared.
 */
public final class ClientProtocol {

    /**
     * A request ready to send: numbered where the server echoes ids, and its bytes.
     *
     * @param request the request as sent, its id included
     * @param bytes the packed request, as the codec's segments (arrays by reference)
     */
    public record Outgoing(Request request, List<ByteBuffer> bytes) {
    }

    private final SessionTerms terms;
    private final ImageCodec imageCodec;
    private final MsgpackCodec codec;
    private final String peer;
    private long lastId;

    /**
     * The client's half for one connection.
     *
     * @param terms what the handshake settled
     * @param imageCodec the codec (and quality) images are compressed with where the terms say so
     * @param codec the msgpack codec
     * @param peer the server, as messages name it
     */
    public ClientProtocol(SessionTerms terms, ImageCodec imageCodec, MsgpackCodec codec, String peer) {
        this.terms = terms;
        this.imageCodec = imageCodec;
        this.codec = codec;
        this.peer = peer;
    }

    /**
     * What the handshake settled.
     *
     * @return the terms
     */
    public SessionTerms terms() {
        return terms;
    }

    /**
     * A step on these terms: raw or in an envelope, its images compressed where the server
     * accepted the codec, the continuation only where the server takes one (elsewhere it is
     * dropped, and the bytes are those of a plain step).
     *
     * @param observation the observation as the caller gave it
     * @param continuation what the robot will still execute, or null
     * @return the request, not yet numbered
     */
    public Request step(Map<String, Object> observation, Continuation continuation) {
        Map<String, Object> sent = terms.compressesImages() ? ImageCompression.compress(observation, imageCodec) : observation;
        if (terms.form() == WireForm.RAW) {
            return Request.raw(sent);
        }
        return Request.step(sent, terms.continuation() ? continuation : null);
    }

    /**
     * Numbers {@code request} where the server echoes ids and encodes it. A request that cannot be
     * encoded uses up no number, so the ids on the wire stay 1, 2, 3, ...
     *
     * @param request an envelope request without an id, or a raw one
     * @return the request as sent and its bytes
     * @throws org.webpolicy.codec.EncodeException when it holds a value the wire cannot carry
     */
    public Outgoing encode(Request request) {
        Request numbered = terms.requestIds() && request.form() == WireForm.ENVELOPE ? request.withId(lastId + 1) : request;
        List<ByteBuffer> bytes = codec.encode(WireMessages.value(numbered));
        if (numbered.id() != null) {
            lastId++;
        }
        return new Outgoing(numbered, bytes);
    }

    /**
     * The reply to {@code sent}, checked against it (see {@link WireMessages#reply}).
     *
     * @param decoded the reply's decoded value
     * @param sent the request as sent
     * @return the reply
     * @throws ReplyMismatch when it does not answer {@code sent} or cannot be used
     */
    public Reply read(Object decoded, Request sent) {
        return WireMessages.reply(decoded, sent, peer);
    }
}
