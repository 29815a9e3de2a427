package org.webpolicy.transport;

import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLContext;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.client.ClientAddress;
import org.webpolicy.transport.client.ClientAsyncCalls;
import org.webpolicy.transport.client.ClientConnection;
import org.webpolicy.transport.client.ClientSession;

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
 * (pauses from 50 ms doubling up to {@link Builder#retryInterval}, 150 ms by default, within
 * {@link Builder#connectTimeout}, 30 s by default), then reads the metadata frame. After a connection is lost, and after any failed call, the next
 * call connects again the same way ({@link Builder#reconnect}, on by default, so a robot loop
 * outlives a server restart). Given several servers ({@link Builder#endpoints}), connecting tries
 * them in turn, starting with the one that last worked, so a client fails over without a load
 * balancer. A server gone for longer than the connect timeout fails the call with a
 * {@link ServerUnreachableException} that says since when and why; {@link #connectionStats()}
 * counts reconnections and outages, and each outage is logged at WARN once. A failed call is never resent: the caller decides, because whether
 * the server ran it is unknown. Every wait is bounded by a timeout; none is infinite.
 *
 * <h2>Replies</h2>
 * Each request takes exactly one frame as its reply. A frame that arrives while no request is
 * outstanding, or a second frame for one request, fails the call (or the next call, when none is
 * in flight) with a {@link PolicyConnectionException} naming what arrived, and drops the
 * connection. Where the server's handshake says it echoes request ids (our server does), envelope
 * requests carry one and a reply with another id fails the same way; so a reply is never taken
 * for another request's.
 *
 * <h2>Asynchronous calls</h2>
 * {@link #stepAsync(Map)} returns at once with a {@link CompletableFuture} of the action, for a
 * coordinator, a UI or a supervisor of several robots that should not park a thread per call.
 * Calls are sent in the order they were made, by one daemon thread the client starts on the first
 * such call. Where the server echoes request ids (ours does, answering a connection's requests
 * in order) they are pipelined on one connection and each reply is matched to its call by its
 * id; elsewhere (openpi's raw form, Python webpolicy servers) they are sent one at a time, each
 * after the previous reply, exactly as {@link #step(Map)} would. Each call has the same
 * {@linkplain Builder#requestTimeout request timeout} from its sending and the same errors as
 * {@code step} (the future fails with them). A call without its reply in time, or a lost
 * connection, fails every call sent on that connection and not yet answered, each naming the
 * cause; none is resent, and calls not sent yet go on the next connection. At most
 * {@link Builder#maxOutstandingCalls} calls (16 by default) are outstanding at once; one more is
 * refused at once with a {@link RejectedExecutionException}.
 *
 * <h2>Threading</h2>
 * Thread-safe. One request is in flight at a time, as the protocol requires, except for pipelined
 * asynchronous calls; concurrent callers wait their turn in arrival order (a burst of pipelined
 * calls takes no new call while a {@code step} or {@code reset} waits, and ends when its replies
 * are in; a {@code step} made while an earlier {@code stepAsync} is still queued may go first).
 * Futures of {@code stepAsync} are completed in call order, one at a time, on the
 * {@linkplain Builder#callbackExecutor callback executor} ({@link ForkJoinPool#commonPool()} by
 * default), never on the connection's reader thread nor on the thread that sends: dependent
 * stages added without an executor run there too (or, as with any {@code CompletableFuture}, on a
 * thread waiting in {@code get} or {@code join} at that moment), so a slow one delays the
 * completions after it (use the {@code ...Async} stages for long work). Every thread the client starts (each
 * connection's reader included) is a daemon: a client that is never closed does not keep the JVM alive. {@link #close()} may be called from any thread, any number of
 * times; it fails a call in flight and returns when the connection has ended.
 */
public final class PolicyClient implements Policy {

    private final ClientOptions options;
    private final ClientSession session;
    private final ClientAsyncCalls asyncCalls;

    private PolicyClient(ClientOptions options) {
        this.options = options;
        this.session = new ClientSession(options);
        this.asyncCalls = new ClientAsyncCalls(session, options);
    }

    /**
     * Starts the options of a new client; the defaults match the openpi client where it has one.
     *
     * @return a builder with default options
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The server's address (the first one, when several were given).
     *
     * @return the {@code ws://} or {@code wss://} URI this client connects to first
     */
    public URI uri() {
        return options.uri();
    }

    /** The options this client was built with. */
    ClientOptions options() {
        return options;
    }

    /**
     * Connects now (if not connected) rather than on the first call.
     *
     * @return this client
     * @throws PolicyConnectionException when no connection could be made within the connect timeout
     * @throws IllegalStateException when the client is closed
     */
    public PolicyClient connect() {
        session.call(c -> c);
        return this;
    }

    /**
     * The metadata the server sent on the current (or last) connection; connects first if this
     * client never has.
     *
     * @return the server's metadata map, unmodifiable (empty when the server sent none)
     * @throws PolicyConnectionException when a first connection could not be made
     * @throws IllegalStateException when the client is closed before it ever connected
     */
    @Override
    public Map<String, Object> metadata() {
        if (!session.everConnected()) {
            connect();
        }
        return session.metadata();
    }

    /**
     * What this client has been through with its server: connections, reconnections, failed
     * attempts, outages, and since when the server is unreachable (null while connected).
     *
     * @return the counts at this moment
     */
    public ConnectionStats connectionStats() {
        return session.stats();
    }

    /**
     * Whether requests go as webpolicy envelopes on the current connection.
     *
     * @return true when connected and using the envelope form
     */
    public boolean usesEnvelope() {
        ClientConnection c = session.connection();
        return c != null && c.envelope();
    }

    /**
     * How images travel on the current connection: the codec of {@link Builder#imageCodec} when
     * the server accepted it in its handshake, {@link ImageCodec#RAW} otherwise (and while not
     * connected).
     *
     * @return the codec images are sent with now
     */
    public ImageCodec imageCodecInUse() {
        ClientConnection c = session.connection();
        return c != null && c.compressesImages() ? options.imageCodec() : ImageCodec.RAW;
    }

    /**
     * Sends one observation and returns the server's action.
     *
     * @param observation the observation map
     * @return the action map
     * @throws PolicyConnectionException when no reply (or no usable one) came: the connection is
     *     dropped and the next call reconnects
     * @throws RemotePolicyException when the server reported that the request failed
     * @throws org.webpolicy.codec.EncodeException when the observation holds a value the wire
     *     cannot carry, named by its path (nothing is sent and the connection stays)
     * @throws IllegalStateException when the client is closed
     */
    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return session.step(Objects.requireNonNull(observation, "observation"), null);
    }

    /**
     * Sends one observation with the robot's chunk under way (real-time chunking) and returns the
     * server's action. The continuation travels only when the server said in its handshake that
     * its policy takes one ({@link #acceptsContinuation()}); the reply must then answer its cursor
     * and generation. To any other server (the Python openpi and webpolicy servers among them) the
     * request is exactly {@link #step(Map)}'s, byte for byte. See docs/RTC_WIRE.md.
     *
     * @param observation the observation map
     * @param continuation what the robot will still execute of its current chunk, or null
     * @return the action map
     * @throws PolicyConnectionException as {@link #step(Map)}, and when the reply answers another
     *     cursor or generation (the connection is then dropped)
     * @throws RemotePolicyException when the server reported that the request failed (a
     *     malformed continuation among the reasons)
     * @throws IllegalArgumentException when the continuation's actions are not floating-point
     *     (nothing is sent)
     * @throws IllegalStateException when the client is closed
     */
    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        return session.step(Objects.requireNonNull(observation, "observation"), continuation);
    }

    /**
     * Sends one observation without waiting: see "Asynchronous calls" above.
     *
     * @param observation the observation map; not to be changed until the future completes
     * @return a future of the action map; it fails with the exceptions {@link #step(Map)} throws
     *     (a {@link PolicyConnectionException} when no reply came in time or the connection was
     *     lost, a {@link RemotePolicyException} when the server reported that the request failed,
     *     an {@link IllegalStateException} when the client closed before the call was sent).
     *     Cancelling it before the call is sent keeps the call from being sent; once sent, its
     *     reply is read and dropped.
     * @throws RejectedExecutionException when {@link Builder#maxOutstandingCalls} calls are
     *     already outstanding (nothing is queued)
     * @throws IllegalStateException when the client is closed
     */
    public CompletableFuture<Map<String, Object>> stepAsync(Map<String, Object> observation) {
        return asyncCalls.submit(Objects.requireNonNull(observation, "observation"), null);
    }

    /**
     * {@link #stepAsync(Map)} with the robot's chunk under way: the continuation travels as with
     * {@link #step(Map, Continuation)}, only to a server that takes one, and the reply must
     * answer its cursor and generation.
     *
     * @param observation the observation map; not to be changed until the future completes
     * @param continuation what the robot will still execute of its current chunk, or null
     * @return a future of the action map, failing as that of {@link #stepAsync(Map)}, and with an
     *     {@link IllegalArgumentException} when the continuation's actions are not floating-point
     *     (that call is not sent)
     * @throws RejectedExecutionException when {@link Builder#maxOutstandingCalls} calls are
     *     already outstanding
     * @throws IllegalStateException when the client is closed
     */
    public CompletableFuture<Map<String, Object>> stepAsync(Map<String, Object> observation, Continuation continuation) {
        return asyncCalls.submit(Objects.requireNonNull(observation, "observation"), continuation);
    }

    /**
     * Whether the server of the current (or last) connection said in its handshake that its
     * policy takes a continuation (header {@code X-Webpolicy-Continuation: 1}); connects first if
     * this client never has, as {@link #metadata()}. Python servers never say so. The answer may
     * change when a reconnection reaches another server.
     *
     * @return true when continuations travel with {@link #step(Map, Continuation)}
     * @throws PolicyConnectionException when a first connection could not be made
     * @throws IllegalStateException when the client is closed before it ever connected
     */
    @Override
    public boolean acceptsContinuation() {
        if (!session.everConnected()) {
            connect();
        }
        return session.takesContinuation();
    }

    /**
     * Resets the remote policy. Over an envelope connection the server calls its policy's reset
     * (with the payload when it is not empty) and acknowledges. openpi's raw form has no remote
     * reset: there an empty reset does nothing, as the openpi client's, and a payload is refused
     * rather than silently dropped. Under {@link ProtocolMode#AUTO} the raw form is used when the
     * server's handshake does not announce envelopes, which Python webpolicy servers do not: use
     * {@link ProtocolMode#ENVELOPE} for them.
     *
     * @param payload what to pass to the policy's reset (e.g. a new prompt); null or empty for none
     * @throws IllegalStateException when the payload is not empty and the connection uses the raw
     *     form, or when the client is closed
     * @throws PolicyConnectionException when the server could not be reached or did not acknowledge
     * @throws RemotePolicyException when the server reported that the reset failed
     */
    @Override
    public void reset(Map<String, Object> payload) {
        session.reset(payload);
    }

    /**
     * Closes the connection and ends a connection attempt or call in progress (it fails); later
     * calls fail. Idempotent and safe from any thread: every caller returns once the connection
     * has ended.
     */
    @Override
    public void close() {
        asyncCalls.close();
        session.close();
    }

    /**
     * Options of a {@link PolicyClient}; defaults match the openpi client where it has one.
     * {@link #build()} copies them: changing the builder afterwards never changes a built client.
     */
    public static final class Builder {
        private ClientAddress address = ClientAddress.ofHost("localhost");
        private List<ClientAddress> fallbacks = List.of();
        private Integer port;
        private String apiKey;
        private ProtocolMode protocolMode = ProtocolMode.AUTO;
        private Duration retryInterval = ClientOptions.DEFAULT_RETRY_INTERVAL;
        private Duration connectTimeout = ClientOptions.DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = ClientOptions.DEFAULT_REQUEST_TIMEOUT;
        private Duration pingInterval = ClientOptions.DEFAULT_PING_INTERVAL;
        private boolean reconnect = true;
        private int maxMessageBytes = Integer.MAX_VALUE;
        private SSLContext sslContext;
        private ImageCodec imageCodec = ImageCodec.RAW;
        private int maxOutstandingCalls = 16;
        private Executor callbackExecutor = ForkJoinPool.commonPool();

        private Builder() {
        }

        /**
         * Where the server is: a bare host name or address ({@code gpu01}, {@code 10.0.0.5},
         * {@code ::1}), one with its port ({@code gpu01:8000}, {@code [::1]:8000}), or a full
         * {@code ws://} / {@code wss://} URI, as the openpi client accepts. Replaces an earlier
         * {@code host} or {@code uri}.
         *
         * @param host the host, host and port, or URI
         * @return this builder
         * @throws IllegalArgumentException when {@code host} is none of these
         */
        public Builder host(String host) {
            this.address = ClientAddress.ofHost(Objects.requireNonNull(host, "host"));
            this.fallbacks = List.of();
            return this;
        }

        /**
         * Several servers serving the same policy, for failover without a load balancer: the
         * client connects to the first that accepts, trying them in this order and starting, when
         * it reconnects, with the one that last worked; it pauses {@link #retryInterval} only
         * after all have refused in turn. Each is written as for {@link #host}; a {@link #port}
         * fills in those that name none and must agree with those that do. Replaces an earlier
         * {@code host}, {@code uri} or list.
         *
         * @param hosts one or more hosts, hosts and ports, or URIs
         * @return this builder
         * @throws IllegalArgumentException when the list is empty or an entry is not an address
         */
        public Builder endpoints(List<String> hosts) {
            if (hosts == null || hosts.isEmpty()) {
                throw new IllegalArgumentException("endpoints needs at least one server address");
            }
            List<ClientAddress> parsed = new ArrayList<>();
            for (String host : hosts) {
                parsed.add(ClientAddress.ofHost(Objects.requireNonNull(host, "an endpoint")));
            }
            this.address = parsed.get(0);
            this.fallbacks = List.copyOf(parsed.subList(1, parsed.size()));
            return this;
        }

        /**
         * The port, when the host or URI does not name one; default 8000 for a bare host. When
         * the address names a port too, both must agree, or {@link #build()} fails.
         *
         * @param port 1..65535
         * @return this builder
         * @throws IllegalArgumentException when {@code port} is out of range
         */
        public Builder port(int port) {
            this.port = ClientAddress.checkPort(port);
            return this;
        }

        /**
         * A full {@code ws://} or {@code wss://} URI. Replaces an earlier {@code host} or {@code uri}.
         *
         * @param uri the URI
         * @return this builder
         * @throws IllegalArgumentException when {@code uri} is malformed, has no host, or another scheme
         */
        public Builder uri(String uri) {
            this.address = ClientAddress.ofUri(Objects.requireNonNull(uri, "uri"));
            this.fallbacks = List.of();
            return this;
        }

        /**
         * Sends {@code Authorization: Api-Key <key>} with the handshake.
         *
         * @param apiKey the key, or null for none
         * @return this builder
         */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /**
         * Raw, envelope, or automatic (default): see {@link ProtocolMode}.
         *
         * @param protocolMode the form requests take
         * @return this builder
         */
        public Builder protocolMode(ProtocolMode protocolMode) {
            this.protocolMode = Objects.requireNonNull(protocolMode, "protocolMode");
            return this;
        }

        /**
         * The longest pause between connection attempts while the server refuses; default 150 ms.
         * Pauses start at 50 ms (or this, when shorter) and double up to it, each up to a quarter
         * shorter at random, so a robot is back within about this long of its server's return and
         * a fleet does not reconnect in lockstep. (openpi's client pauses a fixed 5 s.)
         *
         * @param retryInterval a positive duration
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder retryInterval(Duration retryInterval) {
            this.retryInterval = ClientOptions.positive(retryInterval, "retryInterval");
            return this;
        }

        /**
         * The longest time connecting may take, all attempts, handshakes and the metadata frame
         * included; default 30 s. Each attempt gets 2 s of it, doubled after an attempt that ran
         * out of its time, so a server that accepts and then goes quiet costs one short attempt. (The openpi client waits forever; a robot started before its
         * server should rather learn why it cannot start. Pass a long duration to wait longer.)
         *
         * @param connectTimeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = ClientOptions.positive(connectTimeout, "connectTimeout");
            return this;
        }

        /**
         * The longest wait for one reply, and for writing one request; default 120 s.
         *
         * @param requestTimeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = ClientOptions.positive(requestTimeout, "requestTimeout");
            return this;
        }

        /**
         * How long a connection may be silent before the client pings the server; a server that
         * then sends nothing within another interval is taken for lost and the connection is cut.
         * Default 20 s, as the Python peers.
         *
         * @param pingInterval a positive duration (to the millisecond)
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder pingInterval(Duration pingInterval) {
            this.pingInterval = ClientOptions.positive(pingInterval, "pingInterval");
            return this;
        }

        /**
         * Whether a call after a lost connection connects again; default true.
         *
         * @param reconnect true to reconnect
         * @return this builder
         */
        public Builder reconnect(boolean reconnect) {
            this.reconnect = reconnect;
            return this;
        }

        /**
         * The largest reply accepted; default unlimited, as the Python peers.
         *
         * @param maxMessageBytes a positive number of bytes
         * @return this builder
         * @throws IllegalArgumentException when not positive
         */
        public Builder maxMessageBytes(int maxMessageBytes) {
            if (maxMessageBytes < 1) {
                throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
            }
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /**
         * Connect with {@code wss://} using this TLS context (a bare host then gets {@code wss://}).
         *
         * @param sslContext the context, or null for the default one with {@code wss://} URIs
         * @return this builder
         */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /**
         * How the images of an observation (uint8 arrays of rank 3, see
         * {@link org.webpolicy.image.compression.ImageCompression ImageCompression}) travel; default
         * {@link ImageCodec#RAW}. With PNG or JPEG the handshake offers the codec, and images are
         * compressed only on a connection whose server accepted it (a server of ours, which turns
         * them back into arrays before its policy sees them). Any other server, such as the Python
         * openpi and webpolicy servers, receives raw arrays, byte for byte as with RAW.
         *
         * @param imageCodec raw, PNG (lossless) or JPEG at a quality
         * @return this builder
         * @throws NullPointerException when {@code imageCodec} is null
         */
        public Builder imageCodec(ImageCodec imageCodec) {
            this.imageCodec = Objects.requireNonNull(imageCodec, "imageCodec");
            return this;
        }

        /**
         * The most {@link PolicyClient#stepAsync(Map) stepAsync} calls outstanding at once (queued
         * or sent, future not completed); one more is refused with a
         * {@link RejectedExecutionException}. Default 16, the default
         * {@link PolicyServer.Builder#maxQueuedRequests} of our server, which closes a connection
         * with more requests than that waiting: keep this at or below the server's.
         *
         * @param maxOutstandingCalls at least 1
         * @return this builder
         * @throws IllegalArgumentException when less than 1
         */
        public Builder maxOutstandingCalls(int maxOutstandingCalls) {
            if (maxOutstandingCalls < 1) {
                throw new IllegalArgumentException("maxOutstandingCalls must be at least 1, got " + maxOutstandingCalls);
            }
            this.maxOutstandingCalls = maxOutstandingCalls;
            return this;
        }

        /**
         * Where the futures of {@link PolicyClient#stepAsync(Map) stepAsync} are completed (in call
         * order, one at a time), and so where dependent stages added without an executor run;
         * default {@link ForkJoinPool#commonPool()}. When it refuses a task (shut down), the
         * future is completed on the client's own thread instead.
         *
         * @param callbackExecutor the executor
         * @return this builder
         * @throws NullPointerException when {@code callbackExecutor} is null
         */
        public Builder callbackExecutor(Executor callbackExecutor) {
            this.callbackExecutor = Objects.requireNonNull(callbackExecutor, "callbackExecutor");
            return this;
        }

        /**
         * A client with a copy of these options; it connects on its first call.
         *
         * @return the new client
         * @throws IllegalArgumentException when the address and the port disagree, a TLS context
         *     was given for a {@code ws://} URI, or the endpoints mix {@code ws://} and {@code wss://}
         * @throws IllegalStateException when a {@code wss://} URI needs the default TLS context
         *     and there is none
         */
        public PolicyClient build() {
            SSLContext tls = sslContext;
            URI uri = address.resolve(port, tls != null);
            List<URI> others = new ArrayList<>();
            for (ClientAddress fallback : fallbacks) {
                URI other = fallback.resolve(port, tls != null);
                if (!other.getScheme().equals(uri.getScheme())) {
                    throw new IllegalArgumentException("The endpoints mix ws:// and wss:// (" + uri + ", " + other
                            + "): give them all the same scheme");
                }
                others.add(other);
            }
            if ("ws".equals(uri.getScheme()) && tls != null) {
                throw new IllegalArgumentException("A TLS context was given but the address is " + uri + ": use wss://");
            }
            if ("wss".equals(uri.getScheme()) && tls == null) {
                try {
                    tls = SSLContext.getDefault();
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException("No default TLS context for " + uri, e);
                }
            }
            return new PolicyClient(new ClientOptions(uri, apiKey, protocolMode, retryInterval, connectTimeout,
                    requestTimeout, pingInterval, reconnect, maxMessageBytes, MsgpackCodec.DEFAULT_MAX_DEPTH, tls, others,
                    imageCodec, maxOutstandingCalls, callbackExecutor));
        }
    }
}
