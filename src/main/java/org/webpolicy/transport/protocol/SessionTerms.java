package org.webpolicy.transport.protocol;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCodecNegotiation;

/**
 * What one connection's handshake settled, and the headers that settle it, for both ends in one
 * place (docs/PROTOCOL.md, "The handshake" and "Extensions"):
 * <ol>
 *   <li>the client offers ({@link #offer}): its API key, and an image codec other than raw;</li>
 *   <li>a server of ours answers ({@link #answer}, sent as {@link #answerHeaders()}): the
 *       envelope form, the echo of request ids, the continuation when its policy takes one, the
 *       offered image codec when it decodes it;</li>
 *   <li>the client reads the answer ({@link #read}): what it uses on this connection. A Python
 *       server answers none of these headers, so a client that is not told otherwise sends it
 *       openpi's raw form and nothing else.</li>
 * </ol>
 * Batching is not among the terms: it changes no byte a peer sees, only when a reply comes.
 *
 * @param form the form the client's requests take; a server answers both forms whatever this
 *     says, and announces {@link WireForm#ENVELOPE}
 * @param requestIds whether envelope requests carry {@link Envelope#REQUEST_ID} and their replies
 *     echo it (which is also what lets a client pipeline requests)
 * @param imageCodec the token of the image codec observations' images travel in, or null when
 *     they travel as arrays
 * @param continuation whether step envelopes may carry the real-time chunking fields
 */
public record SessionTerms(WireForm form, boolean requestIds, String imageCodec, boolean continuation) {

    /** What a client uses with a server that answered none of our headers (openpi's, Python webpolicy's). */
    public static final SessionTerms PLAIN = new SessionTerms(WireForm.RAW, false, null, false);

    /**
     * Checks that the extensions fit the form: ids and continuations travel only in envelopes.
     *
     * @param form the client's form
     * @param requestIds whether ids travel
     * @param imageCodec the image codec's token, or null
     * @param continuation whether continuations travel
     * @throws IllegalArgumentException when an extension does not fit the form
     */
    public SessionTerms {
        if (form == null) {
            throw new IllegalArgumentException("Session terms need a form");
        }
        if (form == WireForm.RAW && (requestIds || continuation)) {
            throw new IllegalArgumentException("Request ids and continuations travel only in envelopes, not in the raw form");
        }
    }

    /**
     * The headers a client adds to its upgrade request.
     *
     * @param apiKey the API key, or null when it has none
     * @param imageCodec the codec it would send images in ({@link ImageCodec#RAW}: none offered)
     * @return header name to value, in the order sent
     */
    public static Map<String, String> offer(String apiKey, ImageCodec imageCodec) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (apiKey != null) {
            headers.put(Headers.AUTHORIZATION, Headers.API_KEY_SCHEME + " " + apiKey);
        }
        ImageCodecNegotiation.offer(imageCodec).ifPresent(token -> headers.put(Headers.IMAGE_CODEC, token));
        return headers;
    }

    /**
     * What a server of ours grants a handshake.
     *
     * @param offeredImageCodec the request's {@link Headers#IMAGE_CODEC} value, or null when absent
     * @param takesContinuation whether the policy takes a continuation now
     * @param decodesImages whether the server accepts compressed images at all
     * @return the terms, to send with {@link #answerHeaders()}
     */
    public static SessionTerms answer(String offeredImageCodec, boolean takesContinuation, boolean decodesImages) {
        String codec = decodesImages ? ImageCodecNegotiation.accept(offeredImageCodec).orElse(null) : null;
        return new SessionTerms(WireForm.ENVELOPE, true, codec, takesContinuation);
    }

    /**
     * The headers a server of ours adds to its 101 answer for these terms.
     *
     * @return header name to value, in the order sent
     */
    public Map<String, String> answerHeaders() {
        Map<String, String> headers = new LinkedHashMap<>();
        if (form == WireForm.ENVELOPE) {
            headers.put(Headers.PROTOCOL, Headers.ENVELOPE);
        }
        if (requestIds) {
            headers.put(Headers.REQUEST_ID, Headers.ECHO);
        }
        if (continuation) {
            headers.put(Headers.CONTINUATION, Headers.CONTINUATION_VERSION);
        }
        if (imageCodec != null) {
            headers.put(Headers.IMAGE_CODEC, imageCodec);
        }
        return headers;
    }

    /**
     * What a client uses on a connection, from the server's answer. The form follows the
     * announcement unless {@code forced}; ids and the continuation only in the envelope form and
     * only when announced; images compressed only when the server named the very codec offered.
     *
     * @param forced the form the client was told to use, or null to follow the server
     * @param offeredImageCodec the codec the client offered ({@link ImageCodec#RAW}: none)
     * @param answer the value of a header of the server's answer, by name (case-insensitive), null
     *     or empty when the server did not send it
     * @return the terms
     */
    public static SessionTerms read(WireForm forced, ImageCodec offeredImageCodec, Function<String, String> answer) {
        WireForm form = forced != null ? forced
                : Headers.ENVELOPE.equals(answer.apply(Headers.PROTOCOL)) ? WireForm.ENVELOPE : WireForm.RAW;
        boolean envelope = form == WireForm.ENVELOPE;
        boolean ids = envelope && Headers.ECHO.equals(answer.apply(Headers.REQUEST_ID));
        String announcedContinuation = answer.apply(Headers.CONTINUATION);
        boolean continuation = envelope && announcedContinuation != null
                && Headers.CONTINUATION_VERSION.equals(announcedContinuation.trim());
        String accepted = answer.apply(Headers.IMAGE_CODEC);
        boolean compresses = ImageCodecNegotiation.offer(offeredImageCodec).isPresent()
                && ImageCodecNegotiation.accepted(offeredImageCodec, accepted == null || accepted.isEmpty() ? null : accepted);
        return new SessionTerms(form, ids, compresses ? offeredImageCodec.kind().token() : null, continuation);
    }

    /**
     * True when images travel compressed.
     *
     * @return whether {@link #imageCodec} names a codec
     */
    public boolean compressesImages() {
        return imageCodec != null;
    }
}
