package org.webpolicy.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ServerHandshake;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * A policy that runs on a server: Python openpi and webpolicy servers, or {@link PolicyServer}.
 * Implements {@link Policy}, so a remote policy stands wherever a local one does.
 *
 * <pre>{@code
 * try (PolicyClient policy = PolicyClient.builder().host("gpu-01").port(8000).build()) {
 *     Map<String, Object> action = policy.step(observation);
 * }
 * }</pre>
 *
 * <h2>Connection</h2>
 * The first call (or {@link #connect()}) connects, retrying while the server refuses connections
 * (every {@link Builder#retryInterval}, until {@link Builder#connectTimeout} if set), then reads
 * the metadata frame. After a connection is lost, and after a request timed out, the next call
 * reconnects the same way ({@link Builder#reconnect}, on by default, so a robot loop outlives a
 * server restart). A failed call is never resent: the caller decides, because whether the
 * server ran it is unknown.
 *
 * <h2>Threading</h2>
 * Thread-safe. One request is in flight at a time, as the protocol requires; concurrent callers
 * wait their turn in arrival order.
 */
public final class PolicyClient implements Policy {

    /** How long {@link #close()} waits for the server to answer the close frame. */
    private static final Duration CLOSE_HANDSHAKE_WAIT = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(PolicyClient.class);

    private final URI uri;
    private final Builder options;
    private final MsgpackCodec codec;
    private final ReentrantLock turn = new ReentrantLock(true);
    private Connection connection;
    private boolean everConnected;
    private volatile Map<String, Object> metadata = Map.of();
    private volatile boolean closed;

    private PolicyClient(Builder b) {
        this.options = b;
        this.uri = b.uri();
        this.codec = new MsgpackCodec(b.maxDepth);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The server's address. */
    public URI uri() {
        return uri;
    }

    /** Connects now (if not connected) rather than on the first call, and returns this. */
    public PolicyClient connect() {
        withTurn(() -> {
            ensureConnected();
            return null;
        });
        return this;
    }

    /**
     * The metadata the server sent on the current (or last) connection; connects first if this
     * client never has.
     */
    @Override
    public Map<String, Object> metadata() {
        if (!everConnected) {
            connect();
        }
        return metadata;
    }

    /** True when requests are sent as webpolicy envelopes on the current connection. */
    public boolean usesEnvelope() {
        Connection c = connection;
        return c != null && c.envelope;
    }

    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        Objects.requireNonNull(observation, "observation");
        return withTurn(() -> {
            Connection c = ensureConnected();
            if (!c.envelope) {
                return asAction(request(c, observation), "action");
            }
            Map<String, Object> envelope = new LinkedHashMap<>();
            envelope.put(Envelope.OP, Envelope.OP_STEP);
            envelope.put(Envelope.OBS, observation);
            Map<String, Object> reply = asAction(request(c, envelope), "reply");
            // Servers that predate the envelope answer with the bare action.
            return reply.containsKey(Envelope.ACTION) ? asAction(reply.get(Envelope.ACTION), "action") : reply;
        });
    }

    /**
     * Resets the remote policy when the connection speaks envelopes (the server calls its
     * policy's reset and acknowledges). Over raw connections (openpi servers) there is no remote
     * reset and this does nothing, as the openpi client's reset does.
     */
    @Override
    public void reset(Map<String, Object> payload) {
        withTurn(() -> {
            Connection c = ensureConnected();
            if (!c.envelope) {
                return null;
            }
            Map<String, Object> envelope = new LinkedHashMap<>();
            envelope.put(Envelope.OP, Envelope.OP_RESET);
            if (payload != null && !payload.isEmpty()) {
                envelope.put(Envelope.PAYLOAD, payload);
            }
            Object reply = request(c, envelope);
            if (!(reply instanceof Map<?, ?> m) || !Boolean.TRUE.equals(m.get(Envelope.RESET_ACK))) {
                throw new PolicyConnectionException("The server did not acknowledge the reset; it answered " + reply);
            }
            return null;
        });
    }

    /** Closes the connection; later calls fail. */
    @Override
    public void close() {
        closed = true;
        turn.lock();
        try {
            if (connection != null) {
                connection.shutDown();
                connection = null;
            }
        } finally {
            turn.unlock();
        }
    }

    // ---- the request cycle ----

    private interface Call<T> {
        T run();
    }

    private <T> T withTurn(Call<T> call) {
        try {
            turn.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolicyConnectionException("Interrupted while waiting for another request to finish", e);
        }
        try {
            if (closed) {
                throw new IllegalStateException("This PolicyClient is closed");
            }
            return call.run();
        } finally {
            turn.unlock();
        }
    }

    private Object request(Connection c, Object message) {
        EncodedMessage request = new EncodedMessage(codec.encode(message));
        c.inbox.clear();
        try {
            c.send(request);
        } catch (RuntimeException e) {
            drop("sending failed: " + e);
            throw new PolicyConnectionException("Could not send the request to " + uri + ": " + e.getMessage(), e);
        }
        Event event = c.next(options.requestTimeout);
        if (event == null) {
            // A reply that comes later must never be taken for the next request's.
            drop("request timed out");
            throw new PolicyConnectionException("No reply from " + uri + " within " + options.requestTimeout.toMillis()
                    + " ms; the connection was closed and the next call reconnects");
        }
        return decodeReply(event);
    }

    private Object decodeReply(Event event) {
        if (event.text != null) {
            drop("server reported an error");
            throw new RemotePolicyException(event.text);
        }
        if (event.binary == null) {
            drop("connection closed");
            throw new PolicyConnectionException("Connection to " + uri + " closed while waiting for the reply: "
                    + event.closeReason);
        }
        try {
            return codec.unpack(event.binary);
        } catch (DecodeException e) {
            drop("undecodable reply");
            throw new PolicyConnectionException("The server's reply could not be decoded: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asAction(Object value, String what) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new PolicyConnectionException("The server's " + what + " is not a map: " + value);
        }
        return (Map<String, Object>) map;
    }

    private void drop(String why) {
        if (connection != null) {
            log.debug("Dropping the connection to {}: {}", uri, why);
            connection.shutDown();
            connection = null;
        }
    }

    private Connection ensureConnected() {
        if (connection != null && connection.isOpen()) {
            return connection;
        }
        if (connection != null) {
            connection.shutDown();
            connection = null;
            if (!options.reconnect) {
                throw new PolicyConnectionException("The connection to " + uri + " was lost and reconnection is off");
            }
        } else if (everConnected && !options.reconnect) {
            throw new PolicyConnectionException("The connection to " + uri + " was closed and reconnection is off");
        }
        long deadline = options.connectTimeout == null ? Long.MAX_VALUE
                : System.nanoTime() + options.connectTimeout.toNanos();
        int attempts = 0;
        while (true) {
            attempts++;
            Connection c = new Connection();
            Failure failure = c.open();
            if (failure == null) {
                Event first = c.next(options.requestTimeout);
                if (first == null || first.binary == null) {
                    c.shutDown();
                    throw new PolicyConnectionException("Connected to " + uri + " but got no metadata frame"
                            + (first == null ? " in time" : ": " + (first.text != null ? first.text : first.closeReason)));
                }
                Object meta = decodeReplyOn(c, first);
                metadata = meta instanceof Map<?, ?> ? Collections.unmodifiableMap(asAction(meta, "metadata")) : Map.of();
                connection = c;
                everConnected = true;
                log.info("Connected to {} ({} form)", uri, c.envelope ? "envelope" : "raw");
                return c;
            }
            c.shutDown();
            if (!failure.retryable() || System.nanoTime() >= deadline) {
                throw new PolicyConnectionException("Could not connect to " + uri + " after " + attempts + " attempt(s): "
                        + failure.reason());
            }
            log.info("Still waiting for the server at {} ({})", uri, failure.reason());
            sleep(Math.min(options.retryInterval.toNanos(), Math.max(0, deadline - System.nanoTime())));
        }
    }

    private Object decodeReplyOn(Connection c, Event event) {
        try {
            return codec.unpack(event.binary);
        } catch (DecodeException e) {
            c.shutDown();
            throw new PolicyConnectionException("The server's metadata frame could not be decoded: " + e.getMessage(), e);
        }
    }

    private static void sleep(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolicyConnectionException("Interrupted while waiting to reconnect", e);
        }
    }

    /** A frame or the end of the connection, as the socket thread hands it to the caller. */
    private record Event(byte[] binary, String text, String closeReason) {
    }

    /** Why a connection attempt failed, and whether the server may yet accept one. */
    private record Failure(String reason, boolean retryable) {
    }

    /** One WebSocket connection and the events it delivered. */
    private final class Connection {
        final BlockingQueue<Event> inbox = new LinkedBlockingQueue<>();
        final CountDownLatch closed = new CountDownLatch(1);
        final Endpoint endpoint;
        volatile boolean envelope;
        volatile Exception error;

        Connection() {
            Map<String, String> headers = new LinkedHashMap<>();
            if (options.apiKey != null) {
                headers.put("Authorization", "Api-Key " + options.apiKey);
            }
            endpoint = new Endpoint(headers);
            endpoint.setTcpNoDelay(true);
            endpoint.setReceiveBufferSize(PolicyServer.READ_BUFFER_BYTES);
            endpoint.setConnectionLostTimeout((int) Math.max(1, options.pingInterval.toSeconds()));
            if (options.sslContext != null) {
                endpoint.setSocketFactory(options.sslContext.getSocketFactory());
            }
        }

        /** Connects; null on success, otherwise why not, and whether trying again may help. */
        Failure open() {
            try {
                long timeout = options.requestTimeout.toMillis();
                if (endpoint.connectBlocking(timeout, TimeUnit.MILLISECONDS)) {
                    return null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Failure("interrupted", false);
            }
            Exception e = error;
            if (e instanceof ConnectException) {
                return new Failure("refused (" + e.getMessage() + ")", true);
            }
            Event closing = inbox.poll();
            String reason = e != null ? e.toString() : closing != null && closing.closeReason != null ? closing.closeReason
                    : "handshake not completed";
            // 503: the server is full or shutting down (a restart): both pass.
            return new Failure(reason, reason.contains("status code received: 503"));
        }

        boolean isOpen() {
            return endpoint.isOpen();
        }

        void send(EncodedMessage message) {
            Socket tcp = endpoint.getSocket();
            if (options.sslContext != null || tcp == null) {
                endpoint.sendFrame(message);
                return;
            }
            // Written on the caller's thread, not handed to the library's writer thread: one
            // thread wake-up less per request (0.1 ms on a camera observation). The socket's stream
            // writes each call whole under its lock, so the writer thread's frames (pongs, the
            // close frame) land before or after this one, never inside it. TLS streams may split a
            // write into records without that guarantee: wss:// keeps the library's path.
            ByteBuffer frame = FrameCodec.encode(message, true);
            // A write can block on a server that stops reading: the request timeout bounds it too.
            try (WriteWatchdog.Watch watch = WriteWatchdog.SHARED.watch(options.requestTimeout.toNanos(), () -> {
                endpoint.closeConnection(CloseFrame.ABNORMAL_CLOSE, "request not written within the request timeout");
                try {
                    tcp.close(); // what unblocks the write
                } catch (IOException e) {
                    log.debug("Closing {}: {}", uri, e.toString());
                }
            })) {
                tcp.getOutputStream().write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Event next(Duration timeout) {
            try {
                return inbox.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                drop("interrupted");
                throw new PolicyConnectionException("Interrupted while waiting for the reply", e);
            }
        }

        void shutDown() {
            try {
                endpoint.close();
                // A server that vanished, or never answers the close frame, must not hold the
                // caller until the lost-connection timer fires: wait briefly, then cut the endpoint.
                if (!closed.await(CLOSE_HANDSHAKE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.debug("No close handshake from {} within {} ms; closing the socket", uri,
                            CLOSE_HANDSHAKE_WAIT.toMillis());
                    endpoint.closeConnection(CloseFrame.ABNORMAL_CLOSE, "no close handshake from the server");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                endpoint.closeConnection(CloseFrame.ABNORMAL_CLOSE, "interrupted while closing");
            } catch (RuntimeException e) {
                log.debug("Closing {}: {}", uri, e.toString());
            }
        }

        private final class Endpoint extends WebSocketClient {
            Endpoint(Map<String, String> headers) {
                super(PolicyClient.this.uri, new WireDraft(options.maxMessageBytes), headers);
            }

            @Override
            public void onOpen(ServerHandshake handshake) {
                boolean serverSpeaksEnvelope = HandshakeDraft.ENVELOPE.equals(handshake.getFieldValue(HandshakeDraft.PROTOCOL_HEADER));
                envelope = switch (options.protocolMode) {
                    case RAW -> false;
                    case ENVELOPE -> true;
                    case AUTO -> serverSpeaksEnvelope;
                };
            }

            @Override
            public void onMessage(ByteBuffer bytes) {
                byte[] copy;
                if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.position() == 0
                        && bytes.remaining() == bytes.array().length) {
                    copy = bytes.array(); // the library's own fresh buffer: take it as it is
                } else {
                    copy = new byte[bytes.remaining()];
                    bytes.get(copy);
                }
                inbox.add(new Event(copy, null, null));
            }

            @Override
            public void onMessage(String text) {
                inbox.add(new Event(null, text, null));
            }

            @Override
            public void onClose(int code, String reason, boolean remote) {
                closed.countDown();
                inbox.add(new Event(null, null, "closed with " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")")));
            }

            @Override
            public void onError(Exception ex) {
                error = ex;
            }
        }
    }

    /** Options of a {@link PolicyClient}; defaults match the openpi client where it has one. */
    public static final class Builder {
        private String host = "localhost";
        private Integer port;
        private URI explicitUri;
        private String apiKey;
        private ProtocolMode protocolMode = ProtocolMode.AUTO;
        private Duration retryInterval = Duration.ofSeconds(5);
        private Duration connectTimeout;
        private Duration requestTimeout = Duration.ofSeconds(120);
        private Duration pingInterval = Duration.ofSeconds(20);
        private boolean reconnect = true;
        private int maxMessageBytes = Integer.MAX_VALUE;
        private int maxDepth = MsgpackCodec.DEFAULT_MAX_DEPTH;
        private SSLContext sslContext;

        private Builder() {
        }

        /**
         * A bare host name or address ({@code ws-gpu01}, {@code 10.0.0.5}), or a full
         * {@code ws://} / {@code wss://} URI, as the openpi client accepts.
         */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            if (host.startsWith("ws://") || host.startsWith("wss://")) {
                return uri(host);
            }
            this.host = host;
            this.explicitUri = null;
            return this;
        }

        /** The port for a bare host; default 8000 ({@code ws://host:8000}). */
        public Builder port(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** A full {@code ws://} or {@code wss://} URI; a port given with {@link #port} fills in a missing one. */
        public Builder uri(String uri) {
            try {
                URI parsed = new URI(uri);
                if (!"ws".equals(parsed.getScheme()) && !"wss".equals(parsed.getScheme())) {
                    throw new IllegalArgumentException("Policy server URIs start with ws:// or wss://, got " + uri);
                }
                if (parsed.getHost() == null) {
                    throw new IllegalArgumentException("No host in " + uri);
                }
                this.explicitUri = parsed;
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("Malformed URI " + uri + ": " + e.getMessage(), e);
            }
            return this;
        }

        /** Sends {@code Authorization: Api-Key <key>} with the handshake. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** Raw, envelope, or automatic (default): see {@link ProtocolMode}. */
        public Builder protocolMode(ProtocolMode protocolMode) {
            this.protocolMode = Objects.requireNonNull(protocolMode);
            return this;
        }

        /** The pause between connection attempts while the server refuses; default 5 s, as openpi. */
        public Builder retryInterval(Duration retryInterval) {
            this.retryInterval = Objects.requireNonNull(retryInterval);
            return this;
        }

        /** Give up connecting after this long; default never, as openpi. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        /** The longest wait for one reply (and for the handshake); default 120 s. */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = Objects.requireNonNull(requestTimeout);
            return this;
        }

        /** How often the client pings the server; default 20 s, as the Python peers. */
        public Builder pingInterval(Duration pingInterval) {
            this.pingInterval = Objects.requireNonNull(pingInterval);
            return this;
        }

        /** Whether a call after a lost connection reconnects; default true. */
        public Builder reconnect(boolean reconnect) {
            this.reconnect = reconnect;
            return this;
        }

        /** The largest reply accepted; default unlimited, as the Python peers. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /** Connect with {@code wss://} using this TLS context. */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        URI uri() {
            if (explicitUri != null) {
                if (explicitUri.getPort() == -1 && port != null) {
                    try {
                        return new URI(explicitUri.getScheme(), null, explicitUri.getHost(), port,
                                explicitUri.getPath(), explicitUri.getQuery(), null);
                    } catch (URISyntaxException e) {
                        throw new IllegalArgumentException(e);
                    }
                }
                return explicitUri;
            }
            String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
            return URI.create((sslContext != null ? "wss://" : "ws://") + hostPart + ":" + (port == null ? 8000 : port));
        }

        public PolicyClient build() {
            if (explicitUri != null && "wss".equals(explicitUri.getScheme()) && sslContext == null) {
                try {
                    sslContext = SSLContext.getDefault();
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException("No default TLS context for " + explicitUri, e);
                }
            }
            return new PolicyClient(this);
        }
    }
}
