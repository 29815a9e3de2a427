package org.webpolicy.transport.protocol;

import org.webpolicy.image.compression.ImageCodecNegotiation;

/**
 * Every HTTP header of the upgrade that means something to this library, and the values it
 * sends, in one place for both ends (docs/PROTOCOL.md, "The handshake"). Python peers send and
 * read none of the {@code X-Webpolicy-*} headers, which is how each end knows what the other
 * speaks: an extension is used only when the other side's handshake announced it.
 */
public final class Headers {

    /** Our server marks its handshake answer with this header; Python clients ignore it. */
    public static final String PROTOCOL = "X-Webpolicy-Protocol";
    /** The value of {@link #PROTOCOL}: the server takes the envelope form. */
    public static final String ENVELOPE = "envelope";
    /** Our server says with this header (value {@link #ECHO}) that it echoes {@link Envelope#REQUEST_ID}. */
    public static final String REQUEST_ID = "X-Webpolicy-Request-Id";
    /** The value of {@link #REQUEST_ID}. */
    public static final String ECHO = "echo";
    /** The server's answer saying its policy takes a continuation (real-time chunking, docs/RTC_WIRE.md). */
    public static final String CONTINUATION = "X-Webpolicy-Continuation";
    /** The only version of the continuation extension so far; a client sends its fields only for this value. */
    public static final String CONTINUATION_VERSION = "1";
    /**
     * The client's offer of a compressed image codec and the server's choice. Defined with the
     * negotiation it names, which lives with the codecs; listed here so that this class is the
     * whole list.
     */
    public static final String IMAGE_CODEC = ImageCodecNegotiation.HEADER;
    /** Where a client puts its API key, as {@link #API_KEY_SCHEME} then the key (openpi's form). */
    public static final String AUTHORIZATION = "Authorization";
    /** The scheme of {@link #AUTHORIZATION}; servers compare it ignoring case. */
    public static final String API_KEY_SCHEME = "Api-Key";

    private Headers() {
    }
}
