package org.webpolicy.transport;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.HandshakeState;
import org.java_websocket.exceptions.InvalidHandshakeException;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.HandshakeBuilder;
import org.java_websocket.handshake.Handshakedata;
import org.java_websocket.handshake.ServerHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;

/**
 * The server's draft: {@link WireDraft} framing, plus the plain HTTP answers a policy
 * server owes that the WebSocket library has no place for: {@code 200 OK} on {@code GET /healthz},
 * {@code 401} for a missing or wrong API key and {@code 503} when the connection limit is reached.
 *
 * <p>The library copies the draft for every connection, so one instance sees one handshake and
 * may remember what it decided ({@link #plainStatus()}); the server closes such connections as
 * soon as it is told they opened.
 */
final class HandshakeDraft extends WireDraft {

    /** Our server marks its handshake with this header; Python clients ignore it. */
    static final String PROTOCOL_HEADER = "X-Webpolicy-Protocol";
    static final String ENVELOPE = "envelope";
    /** Our server says with this header (value {@link #ECHO}) that it echoes {@link Envelope#REQUEST_ID}. */
    static final String REQUEST_ID_HEADER = "X-Webpolicy-Request-Id";
    static final String ECHO = "echo";
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
    }

    private final Gate gate;
    /** 0 for a WebSocket connection; the HTTP status sent instead of upgrading otherwise. */
    private int plainStatus;

    HandshakeDraft(Gate gate, int maxMessageBytes) {
        super(maxMessageBytes);
        this.gate = gate;
    }

    int plainStatus() {
        return plainStatus;
    }

    @Override
    public Handshakedata translateHandshake(ByteBuffer buf) throws InvalidHandshakeException {
        if (buf.remaining() > MAX_HANDSHAKE_BYTES) {
            throw new InvalidHandshakeException("Handshake larger than " + MAX_HANDSHAKE_BYTES + " bytes");
        }
        return super.translateHandshake(buf);
    }

    @Override
    public HandshakeState acceptHandshakeAsServer(ClientHandshake request) throws InvalidHandshakeException {
        String path = request.getResourceDescriptor();
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        if (path.equals("/healthz")) {
            plainStatus = 200;
            return HandshakeState.MATCHED;
        }
        if (!authorized(request.getFieldValue("Authorization"))) {
            plainStatus = 401;
            return HandshakeState.MATCHED;
        }
        if (gate.full()) {
            plainStatus = 503;
            return HandshakeState.MATCHED;
        }
        return super.acceptHandshakeAsServer(request);
    }

    private boolean authorized(String header) {
        byte[] expected = gate.apiKey();
        if (expected == null) {
            return true;
        }
        String prefix = "Api-Key ";
        byte[] given = header != null && header.startsWith(prefix)
                ? header.substring(prefix.length()).getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        // Constant time in the key's content, so timing does not reveal how much of a guess matched.
        return MessageDigest.isEqual(expected, given);
    }

    @Override
    public HandshakeBuilder postProcessHandshakeResponseAsServer(ClientHandshake request, ServerHandshakeBuilder response)
            throws InvalidHandshakeException {
        if (plainStatus != 0) {
            return response;
        }
        HandshakeBuilder built = super.postProcessHandshakeResponseAsServer(request, response);
        built.put(PROTOCOL_HEADER, ENVELOPE);
        return built;
    }

    @Override
    public List<ByteBuffer> createHandshake(Handshakedata handshake, boolean withContent) {
        if (plainStatus == 0 || !(handshake instanceof ServerHandshake)) {
            return super.createHandshake(handshake, withContent);
        }
        String body = switch (plainStatus) {
            case 200 -> "OK\n";
            case 401 -> "Unauthorized: missing or wrong API key\n";
            default -> "Service Unavailable: too many connections\n";
        };
        String reason = switch (plainStatus) {
            case 200 -> "OK";
            case 401 -> "Unauthorized";
            default -> "Service Unavailable";
        };
        String head = "HTTP/1.1 " + plainStatus + " " + reason + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + (plainStatus == 401 ? "WWW-Authenticate: Api-Key\r\n" : "")
                + "Connection: close\r\n\r\n";
        return List.of(ByteBuffer.wrap((head + body).getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    public Draft copyInstance() {
        return new HandshakeDraft(gate, maxMessageBytes());
    }
}
