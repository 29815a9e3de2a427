package org.webpolicy.transport.client;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.webpolicy.transport.protocol.ClientText;

/**
 * The client's side of the HTTP upgrade (RFC 6455 4.1): the GET it sends and the check of the
 * answer. Written here rather than left to Java-WebSocket: its {@code WebSocketClient} keeps the
 * socket and its read thread for the connection's whole life and offers no public way to hand
 * either over once the upgrade is done, and after it the connection's bytes are ours
 * ({@link ClientEndpoint}).
 *
 * <p>The answer's head is bounded by {@link #MAX_HEAD_BYTES}; a frame the server sends right
 * behind its 101 (the metadata) may arrive in the same read, and is handed on to the frame reader.
 */
public final class ClientUpgrade {

    /** The most bytes an answer's head may have; a server's is a few hundred. */
    public static final int MAX_HEAD_BYTES = 16 << 10;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** The server answered the upgrade with an HTTP status other than 101. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Refused(int status, String statusLine) {
            super("the server refused the WebSocket upgrade: " + ClientText.quote(statusLine, 200));
            this.status = status;
        }

        /** The HTTP status code of the answer. */
        int status() {
            return status;
        }
    }

    /** The server answered, but not as a WebSocket server does. */
    static final class NotWebSocket extends IOException {
        private static final long serialVersionUID = 1L;

        NotWebSocket(String why) {
            super("not a WebSocket server: " + why);
        }
    }

    /** The headers of a 101 answer, names compared without case; a header not sent reads as "". */
    static final class Response {
        private final Map<String, String> headers;

        Response(Map<String, String> headers) {
            this.headers = headers;
        }

        /** The value of header {@code name}, or "" when the server did not send it. */
        String header(String name) {
            return headers.getOrDefault(name, "");
        }

        /** True when the server sent header {@code name}. */
        boolean has(String name) {
            return headers.containsKey(name);
        }
    }

    private ClientUpgrade() {
    }

    /** A fresh Sec-WebSocket-Key: 16 random bytes in base64. */
    static String newKey() {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    /** The GET that asks {@code uri}'s server for the upgrade, with {@code extra} headers after ours. */
    static byte[] request(URI uri, String key, Map<String, String> extra) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        boolean tls = "wss".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort();
        String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[") ? "[" + uri.getHost() + "]" : uri.getHost();
        boolean defaultPort = port == -1 || port == (tls ? 443 : 80);
        StringBuilder head = new StringBuilder(256)
                .append("GET ").append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append(defaultPort ? "" : ":" + port).append("\r\n")
                .append("Upgrade: websocket\r\n")
                .append("Connection: Upgrade\r\n")
                .append("Sec-WebSocket-Key: ").append(key).append("\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        for (Map.Entry<String, String> h : extra.entrySet()) {
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        return head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Sends the upgrade request and reads the answer's head from {@code in}; what was read past
     * the head (the start of the first frame) is left in {@code into}, a heap buffer of at least
     * {@link #MAX_HEAD_BYTES} + 4 bytes, from position 0 to its limit.
     *
     * @return the headers of the server's 101
     * @throws Refused when the server answered with another status
     * @throws NotWebSocket when the answer is not HTTP, too long, or a 101 without the right
     *     {@code Upgrade}, {@code Connection} or {@code Sec-WebSocket-Accept}
     * @throws IOException when the socket failed or the server closed it before the head's end
     */
    static Response perform(InputStream in, OutputStream out, URI uri, Map<String, String> extra, ByteBuffer into)
            throws IOException {
        String key = newKey();
        out.write(request(uri, key, extra));
        out.flush();
        return check(readHead(in, into), key);
    }

    /**
     * Reads the answer's head in {@code into} (position 0 on entry), which then holds the bytes
     * read past it, from position 0 to its limit.
     *
     * @return the head, up to (not including) its blank line
     */
    static String readHead(InputStream in, ByteBuffer into) throws IOException {
        byte[] buf = into.array();
        int n = 0;
        int scanned = 0;
        while (true) {
            for (; scanned + 4 <= n; scanned++) {
                if (buf[scanned] == '\r' && buf[scanned + 1] == '\n' && buf[scanned + 2] == '\r' && buf[scanned + 3] == '\n') {
                    String head = new String(buf, 0, scanned, StandardCharsets.ISO_8859_1);
                    into.position(scanned + 4).limit(n);
                    ByteBuffer rest = into.slice();
                    into.clear();
                    into.put(rest).flip();
                    return head;
                }
            }
            if (n >= 5 && !new String(buf, 0, 5, StandardCharsets.ISO_8859_1).equals("HTTP/")) {
                throw new NotWebSocket("it answered the upgrade with \"" + ClientText.quote(new String(buf, 0, Math.min(n, 40),
                        StandardCharsets.ISO_8859_1), 40) + "\", not HTTP");
            }
            if (n >= MAX_HEAD_BYTES) {
                throw new NotWebSocket("its answer to the upgrade has no end within " + MAX_HEAD_BYTES + " bytes");
            }
            int read = in.read(buf, n, Math.min(buf.length, MAX_HEAD_BYTES + 4) - n);
            if (read < 0) {
                throw new EOFException(n == 0 ? "the server closed the connection without answering the upgrade"
                        : "the server closed the connection within its answer to the upgrade, after " + n + " bytes");
            }
            n += read;
        }
    }

    /** Checks the head of the answer to a request sent with {@code key}. */
    static Response check(String head, String key) throws IOException {
        String[] lines = head.split("\r\n", -1);
        String statusLine = lines[0];
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            status = parts.length >= 2 && parts[1].length() == 3 ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            status = -1;
        }
        if (status < 0 || !parts[0].startsWith("HTTP/1.")) {
            throw new NotWebSocket("its status line is \"" + ClientText.quote(statusLine, 200) + "\"");
        }
        if (status != 101) {
            throw new Refused(status, statusLine);
        }
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                throw new NotWebSocket("its answer holds the header line \"" + ClientText.quote(lines[i], 200) + "\"");
            }
            String name = lines[i].substring(0, colon).trim();
            String value = lines[i].substring(colon + 1).trim();
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        if (!"websocket".equalsIgnoreCase(headers.getOrDefault("Upgrade", ""))) {
            throw new NotWebSocket("its 101 answer has no \"Upgrade: websocket\"");
        }
        if (!hasToken(headers.getOrDefault("Connection", ""), "upgrade")) {
            throw new NotWebSocket("its 101 answer has no \"Connection: Upgrade\"");
        }
        if (!accept(key).equals(headers.getOrDefault("Sec-WebSocket-Accept", ""))) {
            throw new NotWebSocket("its 101 answer carries the wrong Sec-WebSocket-Accept (\""
                    + ClientText.quote(headers.getOrDefault("Sec-WebSocket-Accept", ""), 60) + "\")");
        }
        // Nothing was offered, so nothing may be chosen (RFC 6455 4.1, items 5 and 6 of the checks).
        if (!headers.getOrDefault("Sec-WebSocket-Extensions", "").isEmpty()) {
            throw new NotWebSocket("its 101 answer chose the extension \""
                    + ClientText.quote(headers.get("Sec-WebSocket-Extensions"), 100) + "\", which this client did not offer");
        }
        if (!headers.getOrDefault("Sec-WebSocket-Protocol", "").isEmpty()) {
            throw new NotWebSocket("its 101 answer chose the subprotocol \""
                    + ClientText.quote(headers.get("Sec-WebSocket-Protocol"), 100) + "\", which this client did not offer");
        }
        return new Response(headers);
    }

    /**
     * The Sec-WebSocket-Accept a server must answer {@code key} with (RFC 6455 4.2.2).
     *
     * @param key the Sec-WebSocket-Key the client sent
     * @return base64 of the SHA-1 of the key and the RFC's GUID
     */
    public static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }

    private static boolean hasToken(String list, String token) {
        for (String t : list.split(",")) {
            if (t.trim().toLowerCase(Locale.ROOT).equals(token)) {
                return true;
            }
        }
        return false;
    }
}
