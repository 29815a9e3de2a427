package org.webpolicy.image.compression;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The handshake by which a client and a server of ours agree to send images compressed; any
 * other peer never sees a compressed image.
 *
 * <ol>
 *   <li>A client that wants a codec other than raw sends {@value #HEADER} with that codec's token
 *       ({@link #offer}: {@code jpeg} or {@code png}) in its WebSocket upgrade request.</li>
 *   <li>A server of ours that can decode it answers with the same header and token in its
 *       upgrade response ({@link #accept}); otherwise it leaves the header out.</li>
 *   <li>The client compresses only when the response carries its token ({@link #accepted}).
 *       Python openpi and webpolicy servers ignore the request header and never send it back,
 *       so they keep receiving raw arrays, byte for byte as today.</li>
 * </ol>
 * The quality is not negotiated: a JPEG decoder reads any quality. Stateless and thread-safe.
 */
public final class ImageCodecNegotiation {

    /** The request and response header. */
    public static final String HEADER = "X-Webpolicy-Image-Codec";

    /** The codecs a server of ours decodes, by token. */
    public static final Set<String> DECODABLE = Set.of(ImageCodec.Kind.PNG.token(), ImageCodec.Kind.JPEG.token());

    private ImageCodecNegotiation() {
    }

    /**
     * The request header's value for a codec.
     *
     * @param codec what the client wants to send
     * @return the token to send, or empty for {@link ImageCodec#RAW} (send no header)
     */
    public static Optional<String> offer(ImageCodec codec) {
        return codec.kind() == ImageCodec.Kind.RAW ? Optional.empty() : Optional.of(codec.kind().token());
    }

    /**
     * The server's answer to a request header.
     *
     * @param requestValue the request's {@value #HEADER} value, or null when absent
     * @return the token to send back, or empty when nothing is accepted (send no header)
     */
    public static Optional<String> accept(String requestValue) {
        if (requestValue == null) {
            return Optional.empty();
        }
        String token = requestValue.strip().toLowerCase(Locale.ROOT);
        return DECODABLE.contains(token) ? Optional.of(token) : Optional.empty();
    }

    /**
     * Whether the client may send images with its codec, given the server's response.
     *
     * @param codec the codec the client offered
     * @param responseValue the response's {@value #HEADER} value, or null when absent
     * @return true when the server accepted exactly this codec ({@link ImageCodec#RAW} is always accepted)
     */
    public static boolean accepted(ImageCodec codec, String responseValue) {
        if (codec.kind() == ImageCodec.Kind.RAW) {
            return true;
        }
        return responseValue != null && responseValue.strip().toLowerCase(Locale.ROOT).equals(codec.kind().token());
    }
}
