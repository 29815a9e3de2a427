package org.webpolicy.transport;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.DefaultSSLWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.EncodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;

/**
 * Serves one {@link Policy} over WebSocket to any number of clients: Python openpi clients (raw
 * form), Python webpolicy clients (envelope form) and {@link PolicyClient}, told apart per
 * message. Also answers {@code GET /healthz} with {@code 200 OK} on the same port.
 *
 * <pre>{@code
 * try (PolicyServer server = PolicyServer.builder(policy).port(8000).build().start()) {
 *     server.awaitClose();
 * }
 * }</pre>
 *
 * <h2>Threading</h2>
 * Network I/O runs on the WebSocket library's threads and never waits for the policy: requests
 * are decoded, run and answered on a worker pool, so pings, health checks, handshakes and other
 * connections are served while a policy call takes seconds. Each connection's requests are
 * answered in order. Calls into the policy are serialized unless {@link Policy#isThreadSafe()}
 * says otherwise.
 *
 * <h2>Errors</h2>
 * When a request cannot be decoded, fails a check, makes the policy throw, exceeds the policy
 * deadline or yields a reply that cannot be encoded, that client gets one text frame saying why
 * (with the stack trace for exceptions) and the connection closes with 1011, as the Python
 * servers do. Every other connection carries on.
 *
 * <h2>Lifecycle</h2>
 * {@link #start()} binds and returns once the port is open; {@link #close()} stops accepting,
 * lets requests in flight finish (up to {@link Builder#shutdownGrace}), then closes every
 * connection. The server owns its threads; the policy belongs to the caller and is not closed.
 */
public final class PolicyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyServer.class);
    /** Failed requests logged at most this often; a hostile client must not flood the log. */
    private static final int FAILURE_LOG_LINES_PER_SECOND = 20;
    /**
     * Bytes read from a socket at once (the library's default is 16 KB). A camera observation is
     * hundreds of KB: each read is handed to a decoder thread, so fewer, larger reads save
     * hand-offs. The server pools a few such buffers per decoder thread, not one per connection.
     */
    static final int READ_BUFFER_BYTES = 256 << 10;

    private final Policy policy;
    private final MsgpackCodec codec;
    private final Options options;
    private final byte[] metadataFrame;
    private final LogBudget failureLog = new LogBudget(FAILURE_LOG_LINES_PER_SECOND, System::nanoTime);
    private final ReentrantLock policyLock;
    private final ExecutorService workers;
    private final ExecutorService deadlineCalls;
    /** Handshake timeouts, re-checks of stranded writes, closing refused connections. */
    private final ScheduledExecutorService housekeeping;
    private final AtomicInteger openConnections = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Endpoint endpoint;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Exception startFailure;
    private volatile boolean closing;

    private PolicyServer(Builder b) {
        this.policy = b.policy;
        this.codec = new MsgpackCodec(b.maxDepth);
        this.options = new Options(b);
        Map<String, Object> metadata = b.metadata != null ? b.metadata : policy.metadata();
        if (b.observationSpec != null) {
            metadata = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
            metadata.put("observation_spec", b.observationSpec.toMetadata());
        }
        this.metadataFrame = codec.pack(metadata == null ? Map.of() : metadata);
        this.policyLock = policy.isThreadSafe() ? null : new ReentrantLock(true);
        this.workers = Executors.newCachedThreadPool(daemonThreads("webpolicy-worker-"));
        this.deadlineCalls = b.policyTimeout == null ? null : Executors.newCachedThreadPool(daemonThreads("webpolicy-policy-"));
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(daemonThreads("webpolicy-housekeeping-"));
        this.endpoint = new Endpoint(new InetSocketAddress(b.host, b.port), b);
    }

    /** A builder for a server of {@code policy}, with defaults matching the Python servers. */
    public static Builder builder(Policy policy) {
        return new Builder(policy);
    }

    /**
     * Binds the port and starts serving; returns once connections are accepted.
     *
     * @throws IllegalStateException when the port cannot be bound
     */
    public PolicyServer start() {
        endpoint.start();
        try {
            if (!started.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("Server did not start within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while starting", e);
        }
        if (startFailure != null) {
            shutdownPools();
            throw new IllegalStateException("Could not start the policy server on " + options.host + ":" + options.port
                    + ": " + startFailure.getMessage(), startFailure);
        }
        log.info("Serving policy on {}://{}:{}", options.secure ? "wss" : "ws", options.host, port());
        return this;
    }

    /** The bound port (the free one chosen when the builder said 0). */
    public int port() {
        return endpoint.getPort();
    }

    /** The number of open WebSocket connections (health checks not counted). */
    public int connectionCount() {
        return openConnections.get();
    }

    /** Blocks until the server has been closed. */
    public void awaitClose() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops accepting connections and requests, waits for requests in flight to be answered (up
     * to the shutdown grace), then closes every connection with 1001 (going away).
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        long deadline = System.nanoTime() + options.shutdownGrace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<WebSocket> open = new ArrayList<>(endpoint.getConnections());
        try {
            endpoint.stop(1000, "Server shutting down");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // The library's stop waits a few milliseconds for close handshakes and then leaves the
        // sockets of unfinished ones open: their clients would wait for their own timeouts.
        for (WebSocket conn : open) {
            if (conn.getReadyState() != ReadyState.CLOSED) {
                ((WebSocketImpl) conn).closeConnection(CloseFrame.GOING_AWAY, "server stopped", false);
            }
        }
        shutdownPools();
        stopped.countDown();
        log.info("Policy server on port {} closed", port());
    }

    private void shutdownPools() {
        workers.shutdownNow();
        housekeeping.shutdownNow();
        if (deadlineCalls != null) {
            deadlineCalls.shutdownNow();
        }
    }

    // ---- one request ----

    /** What the server keeps per WebSocket connection. */
    private final class Session {
        final SerialExecutor requests = new SerialExecutor(workers);
        /** When the current openpi-style loop began: after the previous reply was sent. */
        long loopStart = System.nanoTime();
        /** The previous request's whole duration, for {@code server_timing.prev_total_ms}. */
        Double prevTotalMs;
        volatile boolean closed;
    }

    private void handle(WebSocket conn, Session session, ByteBuffer message) {
        if (session.closed) {
            return;
        }
        try {
            EncodedMessage reply = answer(session, message);
            if (!session.closed) {
                conn.sendFrame(reply);
                flushSoon(conn);
                long now = System.nanoTime();
                session.prevTotalMs = (now - session.loopStart) / 1e6;
                session.loopStart = now;
            }
        } catch (RequestFailure e) {
            fail(conn, session, e.getMessage());
        } catch (RuntimeException | Error e) {
            fail(conn, session, stackTrace(e));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private EncodedMessage answer(Session session, ByteBuffer message) {
        if (closing) {
            throw new RequestFailure("The server is shutting down; request not run.");
        }
        Object decoded;
        try {
            decoded = codec.unpack(message);
        } catch (DecodeException e) {
            throw new RequestFailure("Could not decode the request (" + e.problem() + "): " + e.getMessage());
        }
        if (!(decoded instanceof Map<?, ?> request)) {
            throw new RequestFailure("A request must be a msgpack map, got " + describe(decoded));
        }
        Object op = request.get(Envelope.OP);
        if (op == null) {
            Map<String, Object> observation = asStringMap(request, "observation");
            long t0 = System.nanoTime();
            Map<String, Object> action = step(observation);
            double inferMs = (System.nanoTime() - t0) / 1e6;
            return encode(options.serverTiming ? withTiming(action, inferMs, session.prevTotalMs) : action);
        }
        if (Envelope.OP_STEP.equals(op)) {
            Object obs = request.get(Envelope.OBS);
            if (!(obs instanceof Map<?, ?> obsMap)) {
                throw new RequestFailure("A step envelope needs an 'obs' map, got " + describe(obs));
            }
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put(Envelope.ACTION, step(asStringMap(obsMap, "obs")));
            return encode(reply);
        }
        if (Envelope.OP_RESET.equals(op)) {
            Object payload = request.get(Envelope.PAYLOAD);
            if (payload != null && !(payload instanceof Map)) {
                throw new RequestFailure("A reset envelope's 'payload' must be a map, got " + describe(payload));
            }
            Map<String, Object> payloadMap = payload == null ? Map.of() : asStringMap((Map<?, ?>) payload, "payload");
            callPolicy(() -> {
                policy.reset(payloadMap);
                return null;
            });
            return encode(Map.of(Envelope.RESET_ACK, true));
        }
        throw new RequestFailure("Unknown " + Envelope.OP + " '" + op + "': expected 'step' or 'reset'");
    }

    private Map<String, Object> step(Map<String, Object> observation) {
        if (options.observationCheck != null) {
            try {
                options.observationCheck.accept(observation);
            } catch (IllegalArgumentException e) {
                throw new RequestFailure("Observation rejected: " + e.getMessage());
            }
        }
        Map<String, Object> action = callPolicy(() -> policy.step(observation));
        if (action == null) {
            throw new RequestFailure("The policy returned null instead of an action map");
        }
        return action;
    }

    /** openpi adds {@code server_timing} to every raw-form action. */
    private static Map<String, Object> withTiming(Map<String, Object> action, double inferMs, Double prevTotalMs) {
        Map<String, Object> timed = new LinkedHashMap<>(action);
        Map<String, Object> timing = new LinkedHashMap<>();
        timing.put("infer_ms", inferMs);
        if (prevTotalMs != null) {
            timing.put("prev_total_ms", prevTotalMs);
        }
        timed.put(Envelope.SERVER_TIMING, timing);
        return timed;
    }

    private EncodedMessage encode(Object reply) {
        try {
            return new EncodedMessage(codec.encode(reply));
        } catch (EncodeException e) {
            throw new RequestFailure("The policy's reply cannot be sent: " + e.getMessage());
        }
    }

    private <T> T callPolicy(Callable<T> call) {
        Callable<T> guarded = policyLock == null ? call : () -> {
            policyLock.lockInterruptibly();
            try {
                return call.call();
            } finally {
                policyLock.unlock();
            }
        };
        try {
            if (deadlineCalls == null) {
                return guarded.call();
            }
            Future<T> future = deadlineCalls.submit(guarded);
            try {
                return future.get(options.policyTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                future.cancel(true);
                throw new RequestFailure("The policy call exceeded its deadline of " + options.policyTimeout.toMillis()
                        + " ms and was abandoned");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RequestFailure("Interrupted while waiting for the policy");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void fail(WebSocket conn, Session session, String text) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        long suppressed = failureLog.admit();
        if (suppressed >= 0) {
            log.warn("Request from {} failed; closing the connection: {}{}", conn.getRemoteSocketAddress(), firstLine(text),
                    suppressed == 0 ? "" : " (" + suppressed + " more failed requests not logged)");
        }
        try {
            conn.send(text);
            conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
            flushSoon(conn);
        } catch (RuntimeException e) {
            log.debug("Could not report the failure to {}: {}", conn.getRemoteSocketAddress(), e.toString());
        }
    }

    /**
     * The library writes on its selector thread and can lose a write queued from another thread:
     * when its selector finds the queue empty just before we queue a frame and asks for write
     * readiness, it then withdraws that request, and the frame waits for the next event on the
     * connection (up to a ping interval). Fuzzing caught a reply stuck this way. Look again
     * shortly after every send (and every sweep) and ask again when frames wait unwritten.
     */
    private void flushSoon(WebSocket conn) {
        try {
            housekeeping.schedule(() -> endpoint.flushIfStuck(conn), 1, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asStringMap(Map<?, ?> map, String what) {
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                throw new RequestFailure("The " + what + " must have str keys; key " + key + " is bin");
            }
        }
        return (Map<String, Object>) map;
    }

    private static String describe(Object v) {
        return v == null ? "nothing" : v.getClass().getSimpleName();
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    private static String stackTrace(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A request failed for a reason the client is told in plain words (no stack trace). */
    private static final class RequestFailure extends RuntimeException {
        RequestFailure(String message) {
            super(message, null, false, false);
        }
    }

    // ---- the WebSocket side ----

    private final class Endpoint extends WebSocketServer {

        /** Connections accepted whose handshake has not finished, with when they were accepted. */
        private final Map<WebSocket, Long> handshaking = new ConcurrentHashMap<>();

        Endpoint(InetSocketAddress address, Builder b) {
            super(address, Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
                    List.of(new HandshakeDraft(new HandshakeDraft.Gate() {
                        private final byte[] key = b.apiKey == null ? null : b.apiKey.getBytes(StandardCharsets.UTF_8);

                        @Override
                        public byte[] apiKey() {
                            return key;
                        }

                        @Override
                        public boolean full() {
                            return openConnections.get() >= options.maxConnections || closing;
                        }
                    }, b.maxMessageBytes)));
            setTcpNoDelay(true);
            setReuseAddr(true);
            setReceiveBufferSize(READ_BUFFER_BYTES);
            setConnectionLostTimeout((int) Math.max(1, b.pingInterval.toSeconds()));
            if (b.sslContext != null) {
                setWebSocketFactory(new DefaultSSLWebSocketServerFactory(b.sslContext));
            }
        }

        @Override
        public void onStart() {
            long every = Math.max(10, Math.min(1000, options.handshakeTimeout.toMillis() / 4));
            housekeeping.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
            started.countDown();
        }

        // The library creates a connection's buffers when it accepts it and releases them when it
        // closes, handshake or not: the only hooks that see a connection before its handshake.
        @Override
        protected void allocateBuffers(WebSocket conn) throws InterruptedException {
            handshaking.put(conn, System.nanoTime());
            super.allocateBuffers(conn);
        }

        @Override
        protected void releaseBuffers(WebSocket conn) throws InterruptedException {
            handshaking.remove(conn);
            super.releaseBuffers(conn);
        }

        void flushIfStuck(WebSocket conn) {
            WebSocketImpl impl = (WebSocketImpl) conn;
            SelectionKey key = impl.getSelectionKey();
            try {
                if (!impl.outQueue.isEmpty() && key != null && key.isValid()
                        && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                    onWriteDemand(conn);
                }
            } catch (CancelledKeyException e) {
                // closed meanwhile
            }
        }

        /**
         * Runs every quarter of the handshake timeout (at most every second): asks again for
         * frames stranded unwritten, and closes connections whose handshake is overdue (pings
         * only cover connections that finished theirs).
         */
        private void sweep() {
            for (WebSocket conn : getConnections()) {
                flushIfStuck(conn);
            }
            long now = System.nanoTime();
            long limit = options.handshakeTimeout.toNanos();
            handshaking.forEach((conn, since) -> {
                if (conn.getReadyState() != ReadyState.NOT_YET_CONNECTED) {
                    handshaking.remove(conn);
                } else if (now - since > limit) {
                    handshaking.remove(conn);
                    log.debug("Closing {}: no handshake within {} ms", conn.getRemoteSocketAddress(),
                            options.handshakeTimeout.toMillis());
                    ((WebSocketImpl) conn).closeConnection(CloseFrame.NEVER_CONNECTED, "handshake timeout");
                }
            });
        }

        @Override
        public void onClosing(WebSocket conn, int code, String reason, boolean remote) {
            if (conn.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
                // A refused handshake (not HTTP, not an upgrade, too large): the library queues its
                // HTTP error answer but, with no draft chosen, never closes the socket and goes on
                // buffering what arrives. Close it once the answer has had time to go out.
                try {
                    housekeeping.schedule(() -> ((WebSocketImpl) conn).closeConnection(CloseFrame.NEVER_CONNECTED,
                            "handshake refused: " + reason), 50, TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    ((WebSocketImpl) conn).closeConnection(CloseFrame.NEVER_CONNECTED, "server closing");
                }
            }
        }

        @Override
        public void onOpen(WebSocket conn, ClientHandshake handshake) {
            handshaking.remove(conn);
            if (conn.getDraft() instanceof HandshakeDraft d && d.plainStatus() != 0) {
                // A health check or a refused handshake: the HTTP answer is written; hang up.
                ((WebSocketImpl) conn).flushAndClose(CloseFrame.NORMAL, "plain HTTP", false);
                return;
            }
            Session session = new Session();
            conn.setAttachment(session);
            openConnections.incrementAndGet();
            log.debug("Connection from {}", conn.getRemoteSocketAddress());
            conn.send(metadataFrame);
            flushSoon(conn);
            session.loopStart = System.nanoTime();
        }

        @Override
        public void onMessage(WebSocket conn, ByteBuffer message) {
            Session session = conn.getAttachment();
            if (session == null) {
                return;
            }
            inFlight.incrementAndGet();
            session.requests.execute(() -> handle(conn, session, message));
        }

        @Override
        public void onMessage(WebSocket conn, String message) {
            Session session = conn.getAttachment();
            if (session != null) {
                fail(conn, session, "Requests must be binary msgpack frames; got a text frame");
            }
        }

        @Override
        public void onClose(WebSocket conn, int code, String reason, boolean remote) {
            Session session = conn.getAttachment();
            if (session == null) {
                return;
            }
            session.closed = true;
            openConnections.decrementAndGet();
            log.debug("Connection from {} closed: {} {}", conn.getRemoteSocketAddress(), code, reason);
        }

        @Override
        public void onError(WebSocket conn, Exception ex) {
            if (conn == null) {
                // The server itself failed (e.g. the port is taken).
                startFailure = ex;
                started.countDown();
                log.error("Policy server failed: {}", ex.toString());
                return;
            }
            log.debug("Connection error from {}: {}", conn.getRemoteSocketAddress(), ex.toString());
        }
    }

    // ---- options ----

    private static final class Options {
        final String host;
        final int port;
        final boolean serverTiming;
        final int maxConnections;
        final Duration policyTimeout;
        final Duration shutdownGrace;
        final Duration handshakeTimeout;
        final boolean secure;
        final Consumer<Map<String, Object>> observationCheck;

        Options(Builder b) {
            host = b.host;
            port = b.port;
            serverTiming = b.serverTiming;
            maxConnections = b.maxConnections;
            policyTimeout = b.policyTimeout;
            shutdownGrace = b.shutdownGrace;
            handshakeTimeout = b.handshakeTimeout;
            secure = b.sslContext != null;
            Consumer<Map<String, Object>> check = b.observationCheck;
            if (b.observationSpec != null) {
                Consumer<Map<String, Object>> bySpec = b.observationSpec::check;
                check = check == null ? bySpec : bySpec.andThen(check);
            }
            observationCheck = check;
        }
    }

    /** Options of a {@link PolicyServer}; the defaults match the Python servers where they have one. */
    public static final class Builder {
        private final Policy policy;
        private String host = "0.0.0.0";
        private int port = 8000;
        private String apiKey;
        private Map<String, Object> metadata;
        private boolean serverTiming = true;
        private int maxMessageBytes = 256 * 1024 * 1024;
        private Duration pingInterval = Duration.ofSeconds(20);
        private int maxConnections = 1024;
        private Duration policyTimeout;
        private Duration shutdownGrace = Duration.ofSeconds(5);
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private SSLContext sslContext;
        private int maxDepth = MsgpackCodec.DEFAULT_MAX_DEPTH;
        private Consumer<Map<String, Object>> observationCheck;
        private ObservationSpec observationSpec;

        private Builder(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /** The address to bind; default {@code 0.0.0.0} (all interfaces), as openpi. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port; default 8000, as openpi. 0 binds a free port ({@link PolicyServer#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Requires {@code Authorization: Api-Key <key>} at the handshake (compared in constant
         * time; a missing or wrong key gets HTTP 401). Default: no key checked, as openpi.
         */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** The metadata frame sent on connect; default {@link Policy#metadata()}. */
        public Builder metadata(Map<String, Object> metadata) {
            this.metadata = metadata;
            return this;
        }

        /** Whether raw-form actions get openpi's {@code server_timing}; default true. */
        public Builder serverTiming(boolean serverTiming) {
            this.serverTiming = serverTiming;
            return this;
        }

        /**
         * The largest message accepted; larger ones close the connection with 1009 before the
         * claimed size is allocated. Default 256 MiB (about 70 times 4 cameras of 3x480x640).
         * The Python servers have no limit.
         */
        public Builder maxMessageBytes(int maxMessageBytes) {
            if (maxMessageBytes < 1024) {
                throw new IllegalArgumentException("maxMessageBytes must be at least 1024, got " + maxMessageBytes);
            }
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /**
         * How often connections are pinged; one that answers no ping for 1.5 intervals is
         * closed. Default 20 s, as the Python peers. Pings are answered while the policy runs, so
         * long policy calls do not trip it.
         */
        public Builder pingInterval(Duration pingInterval) {
            if (pingInterval.toSeconds() < 1) {
                throw new IllegalArgumentException("pingInterval must be at least 1 s");
            }
            this.pingInterval = pingInterval;
            return this;
        }

        /** The most WebSocket connections at once; more are refused with HTTP 503. Default 1024. */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1");
            }
            this.maxConnections = maxConnections;
            return this;
        }

        /**
         * A deadline for each policy call; a call past it fails that request (error frame and
         * 1011) and is interrupted. Default none, as the Python servers. A serialized policy that
         * ignores interrupts still holds the policy until it returns.
         */
        public Builder policyTimeout(Duration policyTimeout) {
            this.policyTimeout = policyTimeout;
            return this;
        }

        /** How long {@link PolicyServer#close()} waits for requests in flight; default 5 s. */
        public Builder shutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = Objects.requireNonNull(shutdownGrace);
            return this;
        }

        /**
         * How long a connection may take from TCP accept to the end of its WebSocket (or health
         * check) handshake, TLS included; one that has not finished by then is closed, so
         * connections that send nothing, or trickle their headers, cannot pile up. Default 10 s.
         * The Python servers have none.
         */
        public Builder handshakeTimeout(Duration handshakeTimeout) {
            if (handshakeTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("handshakeTimeout must be at least 1 ms");
            }
            this.handshakeTimeout = handshakeTimeout;
            return this;
        }

        /** Serve {@code wss://} with this TLS context. Default: plain {@code ws://}. */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /** The codec's nesting limit for requests; default {@value MsgpackCodec#DEFAULT_MAX_DEPTH}. */
        public Builder maxDepth(int maxDepth) {
            this.maxDepth = maxDepth;
            return this;
        }

        /**
         * A check run on every observation before the policy sees it; it rejects one by throwing
         * {@link IllegalArgumentException} with a message naming the problem, which the client
         * receives. Default: none.
         */
        public Builder observationCheck(Consumer<Map<String, Object>> observationCheck) {
            this.observationCheck = observationCheck;
            return this;
        }

        /**
         * Checks every observation against {@code spec} before the policy sees it (a mismatch is
         * answered with an error naming each key and what is wrong, then 1011) and advertises the
         * spec as {@code observation_spec} in the metadata frame. Runs before
         * {@link #observationCheck} when both are set. Default: none.
         */
        public Builder observationSpec(ObservationSpec spec) {
            this.observationSpec = spec;
            return this;
        }

        public PolicyServer build() {
            return new PolicyServer(this);
        }
    }
}
