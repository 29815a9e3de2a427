package org.webpolicy.transport.adapter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.HandshakeState;
import org.java_websocket.exceptions.IncompleteHandshakeException;
import org.java_websocket.exceptions.InvalidHandshakeException;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.HandshakeBuilder;
import org.java_websocket.handshake.HandshakeImpl1Client;
import org.java_websocket.handshake.Handshakedata;
import org.java_websocket.handshake.ServerHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.webpolicy.image.compression.ImageCodecNegotiation;
import org.webpolicy.transport.server.Readiness;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.SessionTerms;

/**
 * The server's draft and handshake gate: {@link WireDraft} framing, plus the plain HTTP answers a
 * policy server owes that the WebSocket library has no place for: {@code 200 OK} on
 * {@code GET /healthz} ({@code 503} once the server has failed, or while it drains before
 * closing), the Prometheus text on {@code GET /metrics} (behind the API key when one is set,
 * unless the metrics are public), {@code 400} for a request that is
 * not a valid WebSocket upgrade (not {@code GET}, not HTTP/1.1, no {@code Upgrade: websocket} or
 * {@code Connection: Upgrade}, a {@code Sec-WebSocket-Key} that is not 16 bytes in base64),
 * {@code 426} with {@code Sec-WebSocket-Version: 13} for another version, {@code 431} for a
 * request head over {@link #MAX_HANDSHAKE_BYTES}, {@code 401} for a missing or wrong API key (the
 * scheme {@code Api-Key} in any case) and {@code 503} when the connection limit is reached. The library
 * itself answers most of these with 101 or 404 (RFC 6455 4.2.1 and 4.2.2 ask for 400 and 426).
 *
 * <p>The library copies the draft for every connection, so one instance sees one handshake and
 * may remember what it decided ({@link #plainStatus()}); the server closes such connections as
 * soon as it is told they opened.
 */
public final class HandshakeDraft extends WireDraft {

    /**
     * The largest HTTP request head accepted. The library keeps an unfinished head in a buffer it
     * regrows and parses again for every read, so without a bound a client sending endless
     * header lines costs the server memory and time growing with the square of what it sent.
     */
    static final int MAX_HANDSHAKE_BYTES = 64 * 1024;

    /** What the server asks of each handshake, shared by all copies of the draft. */
    interface Gate {
        /** The expected API key bytes, or null when keys are not checked. */
        byte[] apiKey();

        /** True when another connection would exceed the limit. */
        boolean full();

        /** True once the server has failed and is going down: health checks get 503. */
        boolean failed();

        /** True when a client's offer of compressed images is accepted (see {@link ImageCodecNegotiation}). */
        default boolean acceptsImageCodecs() {
            return false;
        }

        /**
         * True when the served policy takes a continuation: the handshake then carries
         * {@link Headers#CONTINUATION} (real-time chunking, docs/RTC_WIRE.md).
         */
        default boolean acceptsContinuation() {
            return false;
        }

        /** True while the server drains before closing: health checks get 503, "draining". */
        boolean draining();

        /** The answer to {@code GET /readyz}: by default ready unless failed or draining. */
        default Readiness.Answer readiness() {
            return Readiness.warmed().answer(draining(), failed());
        }

        /** True when {@code GET /metrics} is answered without the API key. */
        boolean publicMetrics();

        /** The Prometheus text for {@code GET /metrics}. */
        String metricsText();
    }

    private final Gate gate;
    /** 0 for a WebSocket connection; the HTTP status sent instead of upgrading otherwise. */
    private int plainStatus;
    /** The image codec token this connection's handshake accepted, or null (images come as arrays). */
    private String acceptedImageCodec;
    /** The body sent instead of the status's usual one: the metrics text, or "draining". */
    private String body;
    private boolean prometheus;

    HandshakeDraft(Gate gate, int maxMessageBytes) {
        super(maxMessageBytes);
        this.gate = gate;
    }

    int plainStatus() {
        return plainStatus;
    }

    /** The image codec accepted in this handshake ({@code png} or {@code jpeg}), or null for none. */
    String acceptedImageCodec() {
        return acceptedImageCodec;
    }

    @Override
    public Handshakedata translateHandshake(ByteBuffer buf) throws InvalidHandshakeException {
        // The bound is on the head alone: a client may send its first frames in the same write,
        // and the library decodes them after the head once the upgrade is done.
        int head = headBytes(buf);
        if (head < 0 ? buf.remaining() > MAX_HANDSHAKE_BYTES : head > MAX_HANDSHAKE_BYTES) {
            plainStatus = 431;
            buf.position(buf.limit());
            return standIn();
        }
        if (head < 0) {
            // Not whole yet. The library would parse what came so far, and again at each arrival;
            // its line reader allocates the rest of the buffer for every line, so a 64 KiB head
            // of short lines cost about 200 ms a parse, and one sent a line at a time kept a
            // decoder thread busy. Nothing is parsed until the blank line is here: a malformed
            // head is answered then (or with 431, or not at all within the handshake time).
            throw new IncompleteHandshakeException();
        }
        try {
            return super.translateHandshake(buf);
        } catch (InvalidHandshakeException e) {
            // Not GET, not HTTP/1.1, or a malformed head: the library would answer 404; RFC 6455
            // asks for 400. Hand it a stand-in request that acceptHandshakeAsServer answers so.
            plainStatus = 400;
            return standIn();
        }
    }

    private static Handshakedata standIn() {
        HandshakeImpl1Client standIn = new HandshakeImpl1Client();
        standIn.setResourceDescriptor("/");
        return standIn;
    }

    /**
     * The bytes of the HTTP head at the buffer's position, its blank line included, or -1 when
     * the blank line is not within the first {@link #MAX_HANDSHAKE_BYTES} + 4 bytes. A scan, no
     * parse: what tells whether a head is whole before any work is spent parsing it.
     *
     * @param buf the bytes received so far, from the head's first byte at its position
     * @return the head's length, or -1
     */
    public static int headBytes(ByteBuffer buf) {
        int start = buf.position();
        int end = Math.min(buf.limit(), start + MAX_HANDSHAKE_BYTES + 4);
        for (int i = start + 3; i < end; i++) {
            if (buf.get(i) == '\n' && buf.get(i - 1) == '\r' && buf.get(i - 2) == '\n' && buf.get(i - 3) == '\r') {
                return i + 1 - start;
            }
        }
        return -1;
    }

    @Override
    public HandshakeState acceptHandshakeAsServer(ClientHandshake request) throws InvalidHandshakeException {
        if (plainStatus != 0) {
            return HandshakeState.MATCHED;
        }
        String path = request.getResourceDescriptor();
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        if (path.equals("/healthz")) {
            plainStatus = gate.failed() || gate.draining() ? 503 : 200;
            if (!gate.failed() && gate.draining()) {
                body = "Service Unavailable: draining\n";
            }
            return HandshakeState.MATCHED;
        }
        if (path.equals("/readyz")) {
            Readiness.Answer ready = gate.readiness();
            plainStatus = ready.status();
            body = ready.body();
            return HandshakeState.MATCHED;
        }
        if (path.equals("/metrics")) {
            if (gate.publicMetrics() || authorized(request.getFieldValue(Headers.AUTHORIZATION))) {
                body = gate.metricsText();
                prometheus = true;
                plainStatus = 200;
            } else {
                plainStatus = 401;
            }
            return HandshakeState.MATCHED;
        }
        if (!hasToken(request.getFieldValue("Upgrade"), "websocket")
                || !hasToken(request.getFieldValue("Connection"), "upgrade")
                || !validKey(request.getFieldValue("Sec-WebSocket-Key"))) {
            plainStatus = 400;
            return HandshakeState.MATCHED;
        }
        if (!"13".equals(request.getFieldValue("Sec-WebSocket-Version").trim())) {
            plainStatus = 426;
            return HandshakeState.MATCHED;
        }
        if (!authorized(request.getFieldValue(Headers.AUTHORIZATION))) {
            plainStatus = 401;
            return HandshakeState.MATCHED;
        }
        if (gate.full()) {
            plainStatus = 503;
            return HandshakeState.MATCHED;
        }
        return super.acceptHandshakeAsServer(request);
    }

    /** Whether a comma-separated header value holds {@code token}, in any case. */
    private static boolean hasToken(String value, String token) {
        for (String part : value.split(",")) {
            if (part.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }

    /** RFC 6455 4.1: a nonce of 16 random bytes in base64. */
    private static boolean validKey(String key) {
        try {
            return !key.isBlank() && Base64.getDecoder().decode(key.trim()).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private boolean authorized(String header) {
        byte[] expected = gate.apiKey();
        if (expected == null) {
            return true;
        }
        byte[] given = credentials(header, Headers.API_KEY_SCHEME).getBytes(StandardCharsets.UTF_8);
        // Constant time in the key's content, so timing does not reveal how much of a guess matched.
        return MessageDigest.isEqual(expected, given);
    }

    /**
     * The credentials of an {@code Authorization} header in {@code scheme}, or "" when it is another
     * scheme or none. RFC 7235 2.1: the scheme is case-insensitive and one or more spaces follow it.
     */
    static String credentials(String header, String scheme) {
        if (header == null || header.length() <= scheme.length() || header.charAt(scheme.length()) != ' '
                || !header.regionMatches(true, 0, scheme, 0, scheme.length())) {
            return "";
        }
        int at = scheme.length();
        while (at < header.length() && header.charAt(at) == ' ') {
            at++;
        }
        return header.substring(at);
    }

    @Override
    public HandshakeBuilder postProcessHandshakeResponseAsServer(ClientHandshake request, ServerHandshakeBuilder response)
            throws InvalidHandshakeException {
        if (plainStatus != 0) {
            return response;
        }
        HandshakeBuilder built = super.postProcessHandshakeResponseAsServer(request, response);
        String offer = request.hasFieldValue(Headers.IMAGE_CODEC) ? request.getFieldValue(Headers.IMAGE_CODEC) : null;
        SessionTerms terms = SessionTerms.answer(offer, gate.acceptsContinuation(), gate.acceptsImageCodecs());
        acceptedImageCodec = terms.imageCodec();
        terms.answerHeaders().forEach(built::put);
        return built;
    }

    @Override
    public List<ByteBuffer> createHandshake(Handshakedata handshake, boolean withContent) {
        if (plainStatus == 0 || !(handshake instanceof ServerHandshake)) {
            return super.createHandshake(handshake, withContent);
        }
        String text = body != null ? body : switch (plainStatus) {
            case 200 -> "OK\n";
            case 400 -> "Bad Request: not a valid WebSocket upgrade (RFC 6455 4.2.1)\n";
            case 401 -> "Unauthorized: missing or wrong API key\n";
            case 426 -> "Upgrade Required: this server speaks WebSocket version 13\n";
            case 431 -> "Request Header Fields Too Large: the request head is over " + MAX_HANDSHAKE_BYTES + " bytes\n";
            default -> gate.failed() ? "Service Unavailable: the server has failed\n"
                    : "Service Unavailable: too many connections\n";
        };
        String reason = switch (plainStatus) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 426 -> "Upgrade Required";
            case 431 -> "Request Header Fields Too Large";
            default -> "Service Unavailable";
        };
        String head = "HTTP/1.1 " + plainStatus + " " + reason + "\r\n"
                + (prometheus ? "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                        : "Content-Type: text/plain; charset=utf-8\r\n")
                + "Content-Length: " + text.length() + "\r\n"
                + (plainStatus == 401 ? "WWW-Authenticate: Api-Key\r\n" : "")
                + (plainStatus == 426 ? "Sec-WebSocket-Version: 13\r\n" : "")
                + "Connection: close\r\n\r\n";
        return List.of(ByteBuffer.wrap((head + text).getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    public Draft copyInstance() {
        return new HandshakeDraft(gate, maxMessageBytes());
    }
}
