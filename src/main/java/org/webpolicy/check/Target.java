package org.webpolicy.check;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The server a check talks to: where it is, whether TLS carries the bytes, the API key to present
 * and how long any one answer may take.
 *
 * @param host the host name or address
 * @param port the TCP port
 * @param path the HTTP path of the WebSocket endpoint ({@code /} unless the URI names another)
 * @param tls true for {@code wss://}
 * @param apiKey the key sent as {@code Authorization: Api-Key <key>}, or null for none
 * @param tlsSockets where TLS sockets come from ({@code wss://} only); null for the JDK's default trust
 * @param timeout how long a connect or one answer may take
 */
public record Target(String host, int port, String path, boolean tls, String apiKey, SSLSocketFactory tlsSockets,
        Duration timeout) {

    /**
     * Checks the fields.
     *
     * @param host the host name or address
     * @param port the TCP port
     * @param path the HTTP path of the WebSocket endpoint
     * @param tls true for {@code wss://}
     * @param apiKey the key to present, or null
     * @param tlsSockets where TLS sockets come from, or null for the default
     * @param timeout how long a connect or one answer may take
     */
    public Target {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a target needs a host");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("a target's port must be within 1..65535, got " + port);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a target's timeout must be positive, got " + timeout);
        }
        path = path == null || path.isEmpty() ? "/" : path;
    }

    /**
     * The target a {@code ws://} or {@code wss://} URI names; the port defaults to 80 and 443.
     *
     * @param uri for example {@code ws://127.0.0.1:8000}
     * @param apiKey the key to present, or null for none
     * @param timeout how long a connect or one answer may take
     * @return the target
     * @throws IllegalArgumentException when the text is not such a URI, naming what is wrong
     */
    public static Target parse(String uri, String apiKey, Duration timeout) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + uri + " (" + e.getReason() + ")");
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("ws") && !scheme.equals("wss")) {
            throw new IllegalArgumentException("the server's address must be a ws:// or wss:// URI such as ws://127.0.0.1:8000, got " + uri);
        }
        if (parsed.getHost() == null) {
            throw new IllegalArgumentException("no host in " + uri);
        }
        boolean tls = scheme.equals("wss");
        int port = parsed.getPort() < 0 ? (tls ? 443 : 80) : parsed.getPort();
        String path = parsed.getRawPath() == null || parsed.getRawPath().isEmpty() ? "/" : parsed.getRawPath();
        if (parsed.getRawQuery() != null) {
            path += "?" + parsed.getRawQuery();
        }
        String host = parsed.getHost().startsWith("[") ? parsed.getHost().substring(1, parsed.getHost().length() - 1) : parsed.getHost();
        return new Target(host, port, path, tls, apiKey, null, timeout);
    }

    /**
     * The same target with TLS sockets from {@code factory} (a test's own trust, for instance).
     *
     * @param factory where TLS sockets come from
     * @return a copy using it
     */
    public Target withTlsSockets(SSLSocketFactory factory) {
        return new Target(host, port, path, tls, apiKey, factory, timeout);
    }

    /** The same target presenting another key (null: none). */
    Target withApiKey(String key) {
        return new Target(host, port, path, tls, key, tlsSockets, timeout);
    }

    /** The value of the {@code Host} header. */
    String hostHeader() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return h + ":" + port;
    }

    /** A connected socket, TLS handshake done when the target is {@code wss://}. */
    Socket open() throws IOException {
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(host, port), millis);
            plain.setTcpNoDelay(true);
            plain.setSoTimeout(millis);
            if (!tls) {
                return plain;
            }
            SSLSocketFactory factory = tlsSockets != null ? tlsSockets : (SSLSocketFactory) SSLSocketFactory.getDefault();
            SSLSocket secure = (SSLSocket) factory.createSocket(plain, host, port, true);
            secure.setSoTimeout(millis);
            secure.startHandshake();
            return secure;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return (tls ? "wss://" : "ws://") + hostHeader() + path;
    }
}
