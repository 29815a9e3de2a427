package org.webpolicy.transport.client;

import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.image.compression.ImageCodecNegotiation;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.protocol.Headers;

/**
 * What a connection's upgrade settled: the client asks ({@link #requestHeaders}: its API key, the
 * image codec it offers), the server's 101 answers, and the options decide what is used.
 *
 * @param envelope true when requests go as envelopes (false: openpi's raw form)
 * @param echoesIds true when the server echoes request ids (envelope connections only)
 * @param takesContinuation true when steps may carry a continuation (real-time chunking)
 * @param compressesImages true when the server accepted the image codec offered
 */
record ClientNegotiation(boolean envelope, boolean echoesIds, boolean takesContinuation, boolean compressesImages) {

    /** Before the upgrade: nothing settled yet. */
    static final ClientNegotiation NONE = new ClientNegotiation(false, false, false, false);

    /** The headers the upgrade request carries beyond the WebSocket ones. */
    static Map<String, String> requestHeaders(ClientOptions options) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (options.apiKey() != null) {
            headers.put(Headers.AUTHORIZATION, Headers.API_KEY_SCHEME + " " + options.apiKey());
        }
        ImageCodecNegotiation.offer(options.imageCodec()).ifPresent(token -> headers.put(Headers.IMAGE_CODEC, token));
        return headers;
    }

    /** What {@code options} and the server's answer {@code handshake} settle. */
    static ClientNegotiation settled(ClientOptions options, ClientUpgrade.Response handshake) {
        boolean announced = Headers.ENVELOPE.equals(handshake.header(Headers.PROTOCOL));
        boolean envelope = switch (options.protocolMode()) {
            case RAW -> false;
            case ENVELOPE -> true;
            case AUTO -> announced;
        };
        boolean echoesIds = envelope && Headers.ECHO.equals(handshake.header(Headers.REQUEST_ID));
        boolean takesContinuation = envelope
                && Headers.CONTINUATION_VERSION.equals(handshake.header(Headers.CONTINUATION).trim());
        String accepted = handshake.header(Headers.IMAGE_CODEC);
        boolean offered = ImageCodecNegotiation.offer(options.imageCodec()).isPresent();
        boolean compresses = offered && ImageCodecNegotiation.accepted(options.imageCodec(), accepted.isEmpty() ? null : accepted);
        return new ClientNegotiation(envelope, echoesIds, takesContinuation, compresses);
    }
}
