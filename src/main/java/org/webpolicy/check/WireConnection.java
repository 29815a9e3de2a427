package org.webpolicy.check;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/**
 * The client side of one WebSocket connection (RFC 6455), spoken byte by byte so that a check sees
 * exactly what a server sends: the HTTP upgrade, then masked frames out and unmasked frames in.
 * Nothing is hidden from the caller but the server's pings, which are answered as any client
 * must. Not thread-safe: one check drives one connection at a time.
 */
public final class WireConnection implements Closeable {

    /** Opcodes of RFC 6455 5.2. */
    public static final int TEXT = 0x1;
    /** A binary data frame. */
    public static final int BINARY = 0x2;
    /** A close frame. */
    public static final int CLOSE = 0x8;
    /** A ping. */
    public static final int PING = 0x9;
    /** A pong. */
    public static final int PONG = 0xA;
    private static final int CONTINUATION = 0x0;
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** A bound on one message, so a broken server cannot make the check allocate without end. */
    private static final long MAX_MESSAGE_BYTES = 1L << 30;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * One message or control frame as it arrived.
     *
     * @param opcode {@link #TEXT}, {@link #BINARY}, {@link #CLOSE} or {@link #PONG}
     * @param payload the payload, fragments joined
     * @param wire the bytes of the frame(s) as they came off the socket, headers included
     */
    public record Frame(int opcode, byte[] payload, byte[] wire) {
        /** The close code of a close frame, or -1 when it carries none. */
        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }

        /** The close reason of a close frame. */
        String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final HttpAnswer handshake;
    private final boolean acceptValid;
    /** Whether a close frame went either way: the closing handshake has begun. */
    private boolean closeSeen;

    private WireConnection(Socket socket, InputStream in, OutputStream out, HttpAnswer handshake, boolean acceptValid) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.handshake = handshake;
        this.acceptValid = acceptValid;
    }

    /**
     * Opens a connection and sends the upgrade request, with the target's API key and
     * {@code extraHeaders}. When the answer is not 101 the socket is closed and the answer kept:
     * see {@link #upgraded()}.
     *
     * @param target the server
     * @param extraHeaders headers added to the upgrade request
     * @return the connection
     * @throws IOException when the server cannot be reached or its answer is not HTTP
     */
    public static WireConnection open(Target target, Map<String, String> extraHeaders) throws IOException {
        Socket socket = target.open();
        try {
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            StringBuilder request = new StringBuilder("GET " + target.path() + " HTTP/1.1\r\nHost: " + target.hostHeader()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
                    + "\r\nSec-WebSocket-Version: 13\r\n");
            if (target.apiKey() != null) {
                request.append("Authorization: Api-Key ").append(target.apiKey()).append("\r\n");
            }
            extraHeaders.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            HttpAnswer answer = Http.readAnswer(in);
            boolean valid = answer.status() == 101 && acceptFor(key).equals(answer.header("Sec-WebSocket-Accept"));
            if (answer.status() != 101) {
                if (answer.header("Content-Length") != null) {
                    answer = new HttpAnswer(answer.status(), answer.statusLine(), answer.headers(), Http.readBody(in, answer));
                }
                socket.close();
            }
            return new WireConnection(socket, in, out, answer, valid);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * The server's answer to the upgrade request.
     *
     * @return the status, headers and (for a refusal with a length) the body
     */
    public HttpAnswer handshake() {
        return handshake;
    }

    /**
     * Whether the upgrade succeeded.
     *
     * @return true when the server switched protocols with the right {@code Sec-WebSocket-Accept}
     */
    public boolean upgraded() {
        return handshake.status() == 101 && acceptValid;
    }

    /**
     * Sends one masked frame with a fresh random mask.
     *
     * @param opcode the opcode
     * @param payload the payload
     * @throws IOException when the write fails
     */
    public void send(int opcode, byte[] payload) throws IOException {
        closeSeen |= opcode == CLOSE;
        byte[] mask = new byte[4];
        RANDOM.nextBytes(mask);
        out.write(frame(opcode, payload, mask));
        out.flush();
    }

    /**
     * Sends a close frame.
     *
     * @param code the close code
     * @param reason the reason
     * @throws IOException when the write fails
     */
    public void sendClose(int code, String reason) throws IOException {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[2 + text.length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(text, 0, payload, 2, text.length);
        send(CLOSE, payload);
    }

    /**
     * A client frame (RFC 6455 5.2): FIN set, the length in its shortest form, the payload masked.
     *
     * @param opcode the opcode
     * @param payload the payload
     * @param mask the 4-byte masking key
     * @return the frame's bytes
     */
    public static byte[] frame(int opcode, byte[] payload, byte[] mask) {
        ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
        f.write(0x80 | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else if (payload.length <= 0xffff) {
            f.write(0x80 | 126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
        } else {
            f.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                f.write((int) ((long) payload.length >>> shift));
            }
        }
        f.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i & 3]);
        }
        return f.toByteArray();
    }

    /**
     * The next message (fragments joined) or control frame; the server's pings are answered and
     * not returned.
     *
     * @return the frame
     * @throws IOException when the connection ends or stalls beyond the target's timeout, or a frame breaks RFC 6455
     */
    public Frame next() throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int messageOpcode = -1;
        while (true) {
            ByteArrayOutputStream frameBytes = new ByteArrayOutputStream();
            int b0 = readByte(frameBytes);
            int b1 = readByte(frameBytes);
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0f;
            if ((b1 & 0x80) != 0) {
                throw new IOException("the server sent a masked frame (RFC 6455 5.1: a server must not mask)");
            }
            long length = b1 & 0x7f;
            if (length >= 126) {
                int bytes = length == 126 ? 2 : 8;
                length = 0;
                for (int i = 0; i < bytes; i++) {
                    length = (length << 8) | readByte(frameBytes);
                }
            }
            if (length < 0 || length > MAX_MESSAGE_BYTES - payload.size()) {
                throw new IOException("the server announced a frame of " + length + " bytes, over the check's bound of "
                        + MAX_MESSAGE_BYTES);
            }
            byte[] body = in.readNBytes((int) length);
            if (body.length < length) {
                throw new EOFException("the connection ended inside a frame (" + body.length + " of " + length + " bytes)");
            }
            frameBytes.writeBytes(body);
            if (opcode >= CLOSE) {
                if (opcode == PING) {
                    send(PONG, body);
                    continue;
                }
                closeSeen |= opcode == CLOSE;
                return new Frame(opcode, body, frameBytes.toByteArray());
            }
            if (opcode == CONTINUATION ? messageOpcode < 0 : messageOpcode >= 0) {
                throw new IOException("the server broke fragmentation (RFC 6455 5.4): opcode " + opcode
                        + (messageOpcode < 0 ? " with no message begun" : " inside a fragmented message"));
            }
            if (messageOpcode < 0) {
                messageOpcode = opcode;
            }
            wire.writeBytes(frameBytes.toByteArray());
            payload.writeBytes(body);
            if (fin) {
                return new Frame(messageOpcode, payload.toByteArray(), wire.toByteArray());
            }
        }
    }

    /** True when the server ends the TCP connection (after its close frame) within 2 s. */
    boolean endsWithin() {
        try {
            // RFC 6455 7.1.1 has the server close TCP first; a server that leaves it to the client
            // is not wrong enough to wait a whole answer timeout for.
            int timeout = socket.getSoTimeout();
            socket.setSoTimeout(timeout == 0 ? 2000 : Math.min(2000, timeout));
            return in.read() < 0;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Ends the connection as RFC 6455 7.1 asks: a close frame (1000) when neither side has sent
     * one, the server's close frame awaited briefly, then the socket closed.
     */
    @Override
    public void close() throws IOException {
        try {
            if (upgraded() && !closeSeen && !socket.isClosed()) {
                sendClose(1000, "");
                socket.setSoTimeout(2000);
                while (next().opcode() != CLOSE) {
                    // replies still on their way are of no interest any more
                }
            }
        } catch (IOException e) {
            // the server has gone already: nothing more to say to it
        } finally {
            socket.close();
        }
    }

    private int readByte(ByteArrayOutputStream into) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("the server ended the connection");
        }
        into.write(b);
        return b;
    }

    private static String acceptFor(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.ISO_8859_1));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-1", e);
        }
    }
}
