package org.webpolicy.transport.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where a {@link org.webpolicy.transport.PolicyClient} connects, as the user gave it: a bare host ({@code gpu01},
 * {@code 10.0.0.5}, {@code ::1}), a host with its port ({@code gpu01:8000}, {@code [::1]:8000}), or
 * a full {@code ws://} / {@code wss://} URI, as the openpi client accepts. A port given on its own
 * ({@link org.webpolicy.transport.PolicyClientBuilder#port}) is combined with it in {@link #resolve}: it fills in a missing
 * port and must agree with one already written, so no port is ever silently ignored.
 */
public final class ClientAddress {

    /** The port of a bare host when none is given, as our server's and the openpi server's default. */
    static final int DEFAULT_PORT = 8000;

    private final String text;
    /** {@code ws} or {@code wss} when a URI was given; null for a bare host (the scheme follows TLS). */
    private final String scheme;
    /** Without brackets, also for IPv6 literals. */
    private final String host;
    /** -1 when the address names none. */
    private final int port;
    /** The raw path and query of a URI, or empty. */
    private final String rawPathAndQuery;

    private ClientAddress(String text, String scheme, String host, int port, String rawPathAndQuery) {
        this.text = text;
        this.scheme = scheme;
        this.host = host;
        this.port = port;
        this.rawPathAndQuery = rawPathAndQuery;
    }

    /**
     * A bare host, a host with a port, or a {@code ws://} / {@code wss://} URI.
     *
     * @param host the address as the user wrote it
     * @return the address, checked
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static ClientAddress ofHost(String host) {
        String lower = host.toLowerCase(Locale.ROOT);
        if (lower.startsWith("ws://") || lower.startsWith("wss://")) {
            return ofUri(host);
        }
        if (host.contains("://")) {
            throw new IllegalArgumentException("Policy server addresses are a host or a ws:// or wss:// URI, got " + host);
        }
        if (host.isEmpty() || host.chars().anyMatch(c -> c <= ' ' || c == '/' || c == '@' || c == '?' || c == '#')) {
            throw new IllegalArgumentException("Not a host name or address: '" + host + "'");
        }
        if (host.startsWith("[")) {
            // [v6] or [v6]:port, as in URIs
            int close = host.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("No closing ']' in the IPv6 address " + host);
            }
            String rest = host.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new IllegalArgumentException("Unexpected '" + rest + "' after the IPv6 address in " + host);
            }
            return checked(host, null, host.substring(1, close), rest.isEmpty() ? -1 : parsePort(rest.substring(1), host), "");
        }
        int colon = host.indexOf(':');
        if (colon < 0) {
            return checked(host, null, host, -1, "");
        }
        if (host.indexOf(':', colon + 1) >= 0) {
            // More than one colon: an IPv6 literal, which can carry a port only in brackets.
            return checked(host, null, host, -1, "");
        }
        return checked(host, null, host.substring(0, colon), parsePort(host.substring(colon + 1), host), "");
    }

    /**
     * A full {@code ws://} or {@code wss://} URI.
     *
     * @param uri the URI as the user wrote it
     * @return the address, checked
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static ClientAddress ofUri(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("Malformed URI " + uri + ": " + e.getMessage(), e);
        }
        String scheme = parsed.getScheme() == null ? null : parsed.getScheme().toLowerCase(Locale.ROOT);
        if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
            throw new IllegalArgumentException("Policy server URIs start with ws:// or wss://, got " + uri);
        }
        if (parsed.getHost() == null) {
            throw new IllegalArgumentException("No host in " + uri);
        }
        String host = parsed.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (parsed.getPort() == 0 || parsed.getPort() > 65535) {
            throw new IllegalArgumentException("The port in " + uri + " must be 1..65535");
        }
        String path = parsed.getRawPath() == null ? "" : parsed.getRawPath();
        String query = parsed.getRawQuery() == null ? "" : "?" + parsed.getRawQuery();
        return new ClientAddress(uri, scheme, host, parsed.getPort(), path + query);
    }

    /**
     * The URI to connect to.
     *
     * @param explicitPort a port given on its own, or null
     * @param tls whether a TLS context was given: the scheme of a bare host
     * @return the URI, with the default port for a bare host given none
     * @throws IllegalArgumentException when the address and {@code explicitPort} name different ports
     */
    public URI resolve(Integer explicitPort, boolean tls) {
        if (explicitPort != null && port != -1 && explicitPort != port) {
            throw new IllegalArgumentException("The address " + text + " names port " + port + " but port " + explicitPort
                    + " was also given: give the port once");
        }
        int chosen = port != -1 ? port : explicitPort != null ? explicitPort : scheme == null ? DEFAULT_PORT : -1;
        String s = scheme != null ? scheme : tls ? "wss" : "ws";
        String authorityHost = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        String uri = s + "://" + authorityHost + (chosen == -1 ? "" : ":" + chosen) + rawPathAndQuery;
        try {
            return new URI(uri).parseServerAuthority();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("Not a usable address: " + text + " (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String toString() {
        return text;
    }

    private static ClientAddress checked(String text, String scheme, String host, int port, String path) {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("No host in '" + text + "'");
        }
        ClientAddress address = new ClientAddress(text, scheme, host, port, path);
        address.resolve(null, false); // fails now, naming the input, rather than at build()
        return address;
    }

    private static int parsePort(String digits, String whole) {
        if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("The port in '" + whole + "' is not a number: '" + digits + "'");
        }
        int port = Integer.parseInt(digits);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("The port in '" + whole + "' must be 1..65535");
        }
        return port;
    }

    /**
     * Returns {@code port} when it is 1..65535.
     *
     * @param port the port
     * @return {@code port}
     * @throws IllegalArgumentException when it is out of range
     */
    public static int checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, got " + port);
        }
        return port;
    }
}
