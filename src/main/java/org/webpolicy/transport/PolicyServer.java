package org.webpolicy.transport;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.server.HealthListener;
import org.webpolicy.transport.server.Housekeeping;
import org.webpolicy.transport.server.ImageDecodePool;
import org.webpolicy.transport.adapter.IoLoop;
import org.webpolicy.transport.server.PolicyCalls;
import org.webpolicy.transport.server.ProtocolCore;
import org.webpolicy.transport.adapter.ServerEndpoint;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.server.ServerThreads;

/**
 * Serves one {@link Policy} over WebSocket to any number of clients: Python openpi clients (raw
 * form), Python webpolicy clients (envelope form) and {@link PolicyClient}, told apart per
 * message. Also answers {@code GET /healthz} with {@code 200 OK} on the same port ({@code 503}
 * while draining before a close), and {@code GET /metrics} with the server's metrics in the
 * Prometheus text format (behind the API key when one is set, unless
 * {@link Builder#publicMetrics}).
 *
 * <p>A {@link BatchPolicy} served with {@link Builder#batching} gets observations from different
 * connections gathered into one {@link BatchPolicy#stepBatch} call.
 *
 * <pre>{@code
 * try (PolicyServer server = PolicyServer.builder(policy).port(8000).build().start()) {
 *     server.awaitClose();
 * }
 * }</pre>
 *
 * <h2>Threading</h2>
 * Network I/O never waits for the policy: the WebSocket library's threads accept connections and
 * do their handshakes; after it, a plain ({@code ws://}) connection's socket is read and decoded
 * on the server's own I/O loop thread ({@code webpolicy-io-1}), and its replies are written by
 * the worker that produced them (what the socket does not take at once is finished by the loop);
 * {@code wss://} connections stay on the library's threads. Requests run on a worker pool, so
 * pings, health checks, handshakes and other connections are served while a policy call takes
 * seconds. Each connection's requests are
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
 * {@link #start()} binds and returns once the port is open; {@link #close()} first drains for
 * {@link Builder#drainTime} (health checks answer 503, connections are still served, so a load
 * balancer moves new connections elsewhere), then stops accepting, lets requests in flight finish (up to {@link Builder#shutdownGrace}), then closes every
 * connection. The server owns its threads; the policy belongs to the caller and is not closed.
 */
public final class PolicyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyServer.class);
    /**
     * Bytes read from a socket at once by the WebSocket library (its default is 16 KB), during
     * handshakes and on {@code wss://} connections (sockets' receive buffers are left to the
     * kernel's auto-tuning). A camera
     * observation is hundreds of KB: each read is handed to a decoder thread, so fewer, larger
     * reads save hand-offs. The server pools a few such buffers per decoder thread, not one per
     * connection. The server's own I/O loop reads plain connections into one buffer of
     * {@link IoLoop#SCRATCH_BYTES}.
     */
    public static final int READ_BUFFER_BYTES = 256 << 10;

    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final PolicyCalls calls;
    private final ThreadPoolExecutor workers;
    private final Housekeeping housekeeping = new Housekeeping();
    private final ProtocolCore core;
    private final ServerEndpoint endpoint;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** The separate health listener ({@link Builder#healthPort}), or null. */
    private volatile HealthListener health;

    private PolicyServer(Builder b) {
        this.options = new ServerOptions(b);
        Policy policy = b.policy;
        this.calls = new PolicyCalls(policy, options, metrics);
        this.workers = ServerThreads.workers(options.maxConcurrentRequests);
        this.core = new ProtocolCore(policy, options, calls, metrics);
        this.endpoint = new ServerEndpoint(options, core, workers, housekeeping, this::failed);
    }

    /**
     * A builder for a server of {@code policy}, with defaults matching the Python servers.
     *
     * @param policy the policy to serve; the server calls it but does not close it
     * @return a new builder
     */
    public static Builder builder(Policy policy) {
        return new Builder(policy);
    }

    /**
     * Binds the port and starts serving; returns once connections are accepted.
     *
     * @return this server
     * @throws IllegalStateException when the port cannot be bound
     */
    public PolicyServer start() {
        try {
            endpoint.start();
            endpoint.awaitStarted();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutdownPools();
            throw new IllegalStateException("Interrupted while starting", e);
        } catch (IllegalStateException e) {
            shutdownPools();
            throw e;
        }
        if (options.healthPort >= 0) {
            try {
                health = new HealthListener(options.host, options.healthPort, new HealthListener.State() {
                    @Override
                    public int healthStatus() {
                        return endpoint.failure() != null || endpoint.draining ? 503 : 200;
                    }

                    @Override
                    public String publicMetrics() {
                        return options.publicMetrics ? metricsText() : null;
                    }
                });
            } catch (IOException e) {
                close();
                throw new IllegalStateException("Could not open the health port " + options.healthPort + ": " + e.getMessage(), e);
            }
        }
        log.info("Serving policy on {}://{}:{}", options.secure() ? "wss" : "ws", options.host, port());
        if (health != null) {
            log.info("Answering health checks on http://{}:{}/healthz", options.host, healthPort());
        }
        return this;
    }

    /**
     * The bound port (the free one chosen when the builder said 0).
     *
     * @return the port
     */
    public int port() {
        return endpoint.getPort();
    }

    /**
     * The port of the separate health listener ({@link Builder#healthPort}), the free one chosen
     * when the builder said 0.
     *
     * @return the port, or -1 when there is no separate health listener
     */
    public int healthPort() {
        HealthListener h = health;
        return h == null ? -1 : h.port();
    }

    /**
     * The number of open WebSocket connections (health checks not counted).
     *
     * @return the count
     */
    public int connectionCount() {
        return endpoint.openConnections();
    }

    /** Connections accepted and not yet closed, handshake or not (for tests and the campaign). */
    int acceptedConnections() {
        return endpoint.acceptedConnections();
    }

    /** Open connections read and written by the server's own I/O loop (for tests). */
    int ownedConnections() {
        return endpoint.ownedConnections();
    }

    /** Where compressed images are decoded, with its counts (for tests and the campaign). */
    ImageDecodePool imageDecodes() {
        return core.imageDecodes();
    }

    /** Inbound message bytes held now from the server's budget (for tests and the campaign). */
    long inboundBytes() {
        return endpoint.inboundBytes();
    }

    /** The WebSocket side, for tests that play the library's part. */
    ServerEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Starts draining: from now on {@code /healthz} answers {@code 503} ("draining"), so a load
     * balancer's health check takes this server out and sends new connections elsewhere, while
     * open connections are still served. {@link #close()} drains for {@link Builder#drainTime}
     * first by itself; call this earlier to drain for longer.
     */
    public void startDraining() {
        endpoint.draining = true;
    }

    /**
     * The server's metrics in the Prometheus text format, as {@code GET /metrics} answers them.
     *
     * @return the text exposition (version 0.0.4)
     */
    public String metricsText() {
        return metrics.prometheusText(endpoint.openConnections(), endpoint.draining);
    }

    /** The server's counters, for tests and the Micrometer binding. */
    ServerMetrics metrics() {
        return metrics;
    }

    /**
     * Blocks until the server has been closed, by {@link #close()} or because it failed.
     *
     * @return empty after a plain {@link #close()}; the cause when the server went down by itself
     *     (e.g. its listening socket was lost, or a network thread ran out of memory): a process
     *     serving only this server should then exit non-zero, so that its supervisor restarts it
     * @throws InterruptedException when interrupted while waiting
     */
    public Optional<Throwable> awaitClose() throws InterruptedException {
        stopped.await();
        return Optional.ofNullable(endpoint.failure());
    }

    /**
     * The cause when the server has failed and is going down (health checks then get 503), or
     * empty while it serves.
     *
     * @return the failure, if any
     */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(endpoint.failure());
    }

    /** The endpoint failed for good: close everything, on a thread of our own (not the library's). */
    private void failed(Throwable cause) {
        Thread closer = new Thread(this::close, "webpolicy-failure-close");
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * Stops accepting connections and requests, waits for requests in flight to be answered (up
     * to the shutdown grace), then closes every connection with 1001 (going away). Safe to call
     * more than once and from several threads: every call returns once the server is closed.
     */
    @Override
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            drain();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        endpoint.startClosing();
        try {
            // Requests already queued see the flag and fail fast; those running are waited for.
            workers.shutdown();
            workers.awaitTermination(options.shutdownGrace.toNanos(), TimeUnit.NANOSECONDS);
            endpoint.stopAndCut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            shutdownPools();
            stopped.countDown();
        }
        log.info("Policy server on port {} closed", port());
    }

    /** Health checks answer 503 for the drain time, while connections are still served. */
    private void drain() throws InterruptedException {
        if (options.drainTime.isZero() || endpoint.failure() != null) {
            return;
        }
        startDraining();
        log.info("Policy server on port {} draining for {} ms", port(), options.drainTime.toMillis());
        Thread.sleep(options.drainTime.toMillis());
    }

    private void shutdownPools() {
        HealthListener h = health;
        if (h != null) {
            h.close();
        }
        workers.shutdownNow();
        housekeeping.shutdownNow();
        calls.shutdownNow();
        core.shutdownNow();
    }

    /** Options of a {@link PolicyServer}; the defaults match the Python servers where they have one. */
    public static final class Builder {
        final Policy policy;
        String host = "0.0.0.0";
        int port = 8000;
        String apiKey;
        Map<String, Object> metadata;
        boolean serverTiming = true;
        int maxMessageBytes = 256 * 1024 * 1024;
        Duration pingInterval = Duration.ofSeconds(20);
        int maxConnections = 1024;
        Duration policyTimeout;
        Duration shutdownGrace = Duration.ofSeconds(5);
        Duration handshakeTimeout = Duration.ofSeconds(10);
        Duration firstByteTimeout = Duration.ofSeconds(2);
        int maxHandshakesPerAddress = 64;
        int healthPort = -1;
        SSLContext sslContext;
        int maxDepth = MsgpackCodec.DEFAULT_MAX_DEPTH;
        Consumer<Map<String, Object>> observationCheck;
        ObservationSpec observationSpec;
        int maxConcurrentRequests = 16;
        int maxQueuedRequests = 16;
        long maxPendingReplyBytes = 16L << 20;
        long inboundMemoryBytes;
        boolean acceptImageCodecs = true;
        int maxBatch;
        Duration maxBatchWait = Duration.ZERO;
        Duration drainTime = Duration.ZERO;
        boolean publicMetrics;
        ExchangeTap exchangeTap;

        private Builder(Policy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
        }

        /**
         * The address to bind; default {@code 0.0.0.0} (all interfaces), as openpi.
         *
         * @param host the address to bind
         * @return this builder
         */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * The port; default 8000, as openpi. 0 binds a free port ({@link PolicyServer#port()}).
         *
         * @param port the port, or 0 for a free one
         * @return this builder
         */
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
         *
         * @param apiKey the expected key, or null to check none
         * @return this builder
         */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /**
         * The metadata frame sent on connect; default {@link Policy#metadata()}.
         *
         * @param metadata the metadata map sent on connect
         * @return this builder
         */
        public Builder metadata(Map<String, Object> metadata) {
            this.metadata = metadata;
            return this;
        }

        /**
         * Whether raw-form actions get openpi's {@code server_timing}; default true.
         *
         * @param serverTiming whether to add server_timing
         * @return this builder
         */
        public Builder serverTiming(boolean serverTiming) {
            this.serverTiming = serverTiming;
            return this;
        }

        /**
         * The largest message accepted; larger ones close the connection with 1009 before the
         * claimed size is allocated. Default 256 MiB (about 70 times 4 cameras of 3x480x640).
         * The Python servers have no limit.
         *
         * @param maxMessageBytes the limit in bytes
         * @return this builder
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
         *
         * @param pingInterval the interval between pings
         * @return this builder
         */
        public Builder pingInterval(Duration pingInterval) {
            if (pingInterval.toSeconds() < 1) {
                throw new IllegalArgumentException("pingInterval must be at least 1 s");
            }
            this.pingInterval = pingInterval;
            return this;
        }

        /**
         * The most WebSocket connections at once; more are refused with HTTP 503. Default 1024.
         *
         * @param maxConnections the most connections at once
         * @return this builder
         */
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
         *
         * @param policyTimeout the deadline, or null for none
         * @return this builder
         */
        public Builder policyTimeout(Duration policyTimeout) {
            this.policyTimeout = policyTimeout;
            return this;
        }

        /**
         * How long {@link PolicyServer#close()} waits for requests in flight; default 5 s.
         *
         * @param shutdownGrace how long close waits
         * @return this builder
         */
        public Builder shutdownGrace(Duration shutdownGrace) {
            this.shutdownGrace = Objects.requireNonNull(shutdownGrace);
            return this;
        }

        /**
         * How long a connection may take from TCP accept to the end of its WebSocket (or health
         * check) handshake, TLS included; one that has not finished by then is closed, so
         * connections that send nothing, or trickle their headers, cannot pile up. Default 10 s.
         * The Python servers have none.
         *
         * @param handshakeTimeout the longest handshake
         * @return this builder
         */
        public Builder handshakeTimeout(Duration handshakeTimeout) {
            if (handshakeTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("handshakeTimeout must be at least 1 ms");
            }
            this.handshakeTimeout = handshakeTimeout;
            return this;
        }

        /**
         * How long a new connection may stay silent: one that has sent no byte this long after
         * its TCP accept is closed, so a flood of silent connections holds each slot for this
         * long instead of the whole {@link #handshakeTimeout}, and {@code /healthz} and new robots
         * keep being accepted. Clients send their request (or TLS hello) at once; with TLS the
         * first bytes seen are those of the request head after the TLS handshake, so this also
         * bounds the TLS handshake. Default 2 s. The Python servers have none.
         *
         * @param firstByteTimeout at least 1 ms
         * @return this builder
         * @throws IllegalArgumentException when below 1 ms
         */
        public Builder firstByteTimeout(Duration firstByteTimeout) {
            if (firstByteTimeout == null || firstByteTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("firstByteTimeout must be at least 1 ms, got " + firstByteTimeout);
            }
            this.firstByteTimeout = firstByteTimeout;
            return this;
        }

        /**
         * The most connections from one IP address whose handshake is under way at once; one
         * more is closed as soon as it is accepted, before it can hold a slot. Open connections
         * do not count, so robots behind one NAT or a proxy (which all share its address) are
         * limited only in how many handshake at the same instant. Default 64.
         *
         * @param maxHandshakesPerAddress at least 1
         * @return this builder
         * @throws IllegalArgumentException when below 1
         */
        public Builder maxHandshakesPerAddress(int maxHandshakesPerAddress) {
            if (maxHandshakesPerAddress < 1) {
                throw new IllegalArgumentException("maxHandshakesPerAddress must be at least 1, got " + maxHandshakesPerAddress);
            }
            this.maxHandshakesPerAddress = maxHandshakesPerAddress;
            return this;
        }

        /**
         * Also answers {@code GET /healthz} (and {@code GET /metrics} when
         * {@link #publicMetrics}) on this port, plain HTTP, on a thread of its own: health checks
         * there share neither connection slots nor network threads with the WebSocket port, so no
         * flood of connections on it can delay them. Point the load balancer's or orchestrator's
         * probes at it and keep it off the public network (it serves one request at a time). The
         * WebSocket port keeps answering {@code /healthz} too. 0 picks a free port
         * ({@link PolicyServer#healthPort()}). Default: none.
         *
         * @param healthPort the port, 0 for a free one, or -1 for none
         * @return this builder
         * @throws IllegalArgumentException when not -1..65535
         */
        public Builder healthPort(int healthPort) {
            if (healthPort < -1 || healthPort > 65535) {
                throw new IllegalArgumentException("healthPort must be -1 (none) or 0..65535, got " + healthPort);
            }
            this.healthPort = healthPort;
            return this;
        }

        /**
         * Serve {@code wss://} with this TLS context. Default: plain {@code ws://}.
         *
         * @param sslContext the TLS context, or null for plain ws://
         * @return this builder
         */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /**
         * The codec's nesting limit for requests; default {@value MsgpackCodec#DEFAULT_MAX_DEPTH}.
         *
         * @param maxDepth the deepest nesting accepted
         * @return this builder
         */
        public Builder maxDepth(int maxDepth) {
            this.maxDepth = maxDepth;
            return this;
        }

        /**
         * A check run on every observation before the policy sees it; it rejects one by throwing
         * {@link IllegalArgumentException} with a message naming the problem, which the client
         * receives. Default: none.
         *
         * @param observationCheck the check, or null for none
         * @return this builder
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
         *
         * @param spec the spec, or null for none
         * @return this builder
         */
        public Builder observationSpec(ObservationSpec spec) {
            this.observationSpec = spec;
            return this;
        }

        /**
         * The most requests answered at once, over all connections: the size of the worker pool,
         * and of the pool that runs policy calls under {@link #policyTimeout}. A policy call that
         * hangs past its deadline keeps its thread; once this many are stuck, further requests
         * fail at once instead of adding threads. Default 16.
         *
         * @param maxConcurrentRequests at least 1
         * @return this builder
         * @throws IllegalArgumentException when below 1
         */
        public Builder maxConcurrentRequests(int maxConcurrentRequests) {
            if (maxConcurrentRequests < 1) {
                throw new IllegalArgumentException("maxConcurrentRequests must be at least 1, got " + maxConcurrentRequests);
            }
            this.maxConcurrentRequests = maxConcurrentRequests;
            return this;
        }

        /**
         * The most requests one connection may have received and not yet had answered; a client
         * that sends more (it does not wait for its replies) is closed with 1008. Python and Java
         * clients send one request at a time. Default 16.
         *
         * @param maxQueuedRequests at least 1
         * @return this builder
         * @throws IllegalArgumentException when below 1
         */
        public Builder maxQueuedRequests(int maxQueuedRequests) {
            if (maxQueuedRequests < 1) {
                throw new IllegalArgumentException("maxQueuedRequests must be at least 1, got " + maxQueuedRequests);
            }
            this.maxQueuedRequests = maxQueuedRequests;
            return this;
        }

        /**
         * The most reply bytes (replies, errors, pongs) one connection may leave unread: a client
         * that stops reading is closed with 1008 once this much waits to be written to it. One
         * reply of any size is always sent when nothing waits, so an honest client, which reads
         * its reply before it sends the next request, never meets this bound. Default 16 MiB.
         *
         * @param maxPendingReplyBytes at least 64 KiB
         * @return this builder
         * @throws IllegalArgumentException when below 64 KiB
         */
        public Builder maxPendingReplyBytes(long maxPendingReplyBytes) {
            if (maxPendingReplyBytes < 64 << 10) {
                throw new IllegalArgumentException("maxPendingReplyBytes must be at least 64 KiB, got " + maxPendingReplyBytes);
            }
            this.maxPendingReplyBytes = maxPendingReplyBytes;
            return this;
        }

        /**
         * The server-wide budget for inbound message bytes: frames being received and requests
         * waiting to be answered, over all connections. Buffers grow only as bytes arrive; a
         * connection whose message would exceed the budget is closed with 1013 (try again later),
         * never the server. Default a quarter of the maximum heap (at least 16 MiB).
         *
         * @param inboundMemoryBytes at least 1 MiB
         * @return this builder
         * @throws IllegalArgumentException when below 1 MiB
         */
        public Builder inboundMemoryBytes(long inboundMemoryBytes) {
            if (inboundMemoryBytes < 1 << 20) {
                throw new IllegalArgumentException("inboundMemoryBytes must be at least 1 MiB, got " + inboundMemoryBytes);
            }
            this.inboundMemoryBytes = inboundMemoryBytes;
            return this;
        }

        /**
         * Whether a client's offer of compressed images (PNG or JPEG, header
         * {@value org.webpolicy.image.compression.ImageCodecNegotiation#HEADER}) is accepted;
         * default true. On a connection that accepted, every observation's compressed images are
         * decoded back to arrays before the observation check and the policy, so the policy never
         * sees the difference. Decoding is bounded by this server's own limits: the arrays an
         * observation declares may hold at most {@link #maxMessageBytes} bytes in all, and the
         * decode's peak memory is charged to the {@link #inboundMemoryBytes} budget while the
         * request runs; images run on a decode pool of their own (half the cores, at most half
         * of {@link #maxConcurrentRequests} waiting on it) within {@link #policyTimeout} (10 s
         * when none is set) and stop when their client leaves; only the JPEG and PNG our encoder
         * writes are taken (no progressive JPEG, nothing truncated). A compressed image that is
         * malformed, disagrees with its declared shape or is over a bound fails its request
         * (error text and 1011). With false, the handshake accepts nothing and clients
         * send raw arrays, as to the Python servers.
         *
         * @param acceptImageCodecs true to accept compressed images
         * @return this builder
         */
        public Builder acceptImageCodecs(boolean acceptImageCodecs) {
            this.acceptImageCodecs = acceptImageCodecs;
            return this;
        }

        /**
         * Gathers observations from different connections into batches for a {@link BatchPolicy}:
         * the server calls {@link BatchPolicy#stepBatch} once as soon as {@code maxBatch}
         * observations of the same keys, dtypes and shapes wait, or the oldest has waited
         * {@code maxWait} while the policy could have taken it, and sends each action to its own
         * connection. Time spent behind a call already running when an observation arrived does
         * not count toward its {@code maxWait}, so the robots of the call that just ended can
         * rejoin and batches fill even when a call takes longer than {@code maxWait}. An
         * observation that differs from the others goes into a batch of its own; batches of
         * different shapes never wait behind each other's {@code maxWait}, and among batches ready
         * to run the one whose oldest observation is oldest goes first (each connection in turn).
         * A thread-safe policy ({@link Policy#isThreadSafe()}) gets batches of different shapes at
         * once. When {@code stepBatch} throws or returns the wrong number of actions, the batch is
         * split in halves and called again, down to single observations, so only an observation
         * that fails alone fails (with its own reason) and the others get their actions; a call
         * past {@link #policyTimeout} fails its whole batch with the deadline and is not retried.
         * Resets are not batched. Each waiting observation holds a worker, so
         * {@link #maxConcurrentRequests} must be at least {@code maxBatch} (and should be at least
         * the number of robots). Default: no batching.
         *
         * @param maxBatch the most observations per call, at least 2
         * @param maxWait the longest an observation waits for others, at least 0
         * @return this builder
         * @throws IllegalArgumentException when {@code maxBatch} is below 2 or {@code maxWait} negative
         */
        public Builder batching(int maxBatch, Duration maxWait) {
            if (maxBatch < 2) {
                throw new IllegalArgumentException("maxBatch must be at least 2, got " + maxBatch);
            }
            if (maxWait == null || maxWait.isNegative()) {
                throw new IllegalArgumentException("maxWait must be zero or more, got " + maxWait);
            }
            this.maxBatch = maxBatch;
            this.maxBatchWait = maxWait;
            return this;
        }

        /**
         * How long {@link PolicyServer#close()} drains before it stops: {@code /healthz} answers
         * {@code 503} ("draining") while open connections are still served, so a load balancer
         * checking health every interval moves new connections away first. Set it to a little
         * more than the balancer's check interval times its fall count. Default zero (no drain).
         *
         * @param drainTime the drain, zero or more
         * @return this builder
         * @throws IllegalArgumentException when negative
         */
        public Builder drainTime(Duration drainTime) {
            if (drainTime == null || drainTime.isNegative()) {
                throw new IllegalArgumentException("drainTime must be zero or more, got " + drainTime);
            }
            this.drainTime = drainTime;
            return this;
        }

        /**
         * Whether {@code GET /metrics} is answered without the API key (for a scraper inside a
         * trusted network). Default false: when an API key is set, metrics require it too.
         *
         * @param publicMetrics true to serve metrics without the key
         * @return this builder
         */
        public Builder publicMetrics(boolean publicMetrics) {
            this.publicMetrics = publicMetrics;
            return this;
        }

        /**
         * Hands every answered or failed request, with its reply, to {@code tap} as the bytes that
         * went on the wire (a recorder: {@code Recorder.serverTap()}). Default none.
         *
         * @param exchangeTap the tap, or null for none
         * @return this builder
         */
        public Builder exchangeTap(ExchangeTap exchangeTap) {
            this.exchangeTap = exchangeTap;
            return this;
        }

        /**
         * A server with the options set so far; later changes to this builder do not affect it.
         *
         * @return a server, not yet started
         * @throws IllegalArgumentException when batching is set for a policy that is not a
         *     {@link BatchPolicy}, or with fewer concurrent requests than its batch size
         */
        public PolicyServer build() {
            if (maxBatch > 0 && !(policy instanceof BatchPolicy)) {
                throw new IllegalArgumentException("batching needs a BatchPolicy; "
                        + policy.getClass().getName() + " has no stepBatch");
            }
            if (maxBatch > maxConcurrentRequests) {
                throw new IllegalArgumentException("maxConcurrentRequests (" + maxConcurrentRequests
                        + ") must be at least maxBatch (" + maxBatch + "): each observation waiting for its batch"
                        + " holds a worker, so a batch could never fill");
            }
            return new PolicyServer(this);
        }
    }
}
