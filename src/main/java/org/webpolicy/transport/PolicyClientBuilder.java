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
 * Options of a {@link PolicyClient}; defaults match the openpi client where it has one.
 * {@link #build()} copies them: changing the builder afterwards never changes a built client.
 */
public final class PolicyClientBuilder {
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

    PolicyClientBuilder() {
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
    public PolicyClientBuilder host(String host) {
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
    public PolicyClientBuilder endpoints(List<String> hosts) {
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
    public PolicyClientBuilder port(int port) {
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
    public PolicyClientBuilder uri(String uri) {
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
    public PolicyClientBuilder apiKey(String apiKey) {
        this.apiKey = apiKey;
        return this;
    }

    /**
     * Raw, envelope, or automatic (default): see {@link ProtocolMode}.
     *
     * @param protocolMode the form requests take
     * @return this builder
     */
    public PolicyClientBuilder protocolMode(ProtocolMode protocolMode) {
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
    public PolicyClientBuilder retryInterval(Duration retryInterval) {
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
    public PolicyClientBuilder connectTimeout(Duration connectTimeout) {
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
    public PolicyClientBuilder requestTimeout(Duration requestTimeout) {
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
    public PolicyClientBuilder pingInterval(Duration pingInterval) {
        this.pingInterval = ClientOptions.positive(pingInterval, "pingInterval");
        return this;
    }

    /**
     * Whether a call after a lost connection connects again; default true.
     *
     * @param reconnect true to reconnect
     * @return this builder
     */
    public PolicyClientBuilder reconnect(boolean reconnect) {
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
    public PolicyClientBuilder maxMessageBytes(int maxMessageBytes) {
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
    public PolicyClientBuilder sslContext(SSLContext sslContext) {
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
    public PolicyClientBuilder imageCodec(ImageCodec imageCodec) {
        this.imageCodec = Objects.requireNonNull(imageCodec, "imageCodec");
        return this;
    }

    /**
     * The most {@link PolicyClient#stepAsync(Map) stepAsync} calls outstanding at once (queued
     * or sent, future not completed); one more is refused with a
     * {@link RejectedExecutionException}. Default 16, the default
     * {@link PolicyServerBuilder#maxQueuedRequests} of our server, which closes a connection
     * with more requests than that waiting: keep this at or below the server's.
     *
     * @param maxOutstandingCalls at least 1
     * @return this builder
     * @throws IllegalArgumentException when less than 1
     */
    public PolicyClientBuilder maxOutstandingCalls(int maxOutstandingCalls) {
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
    public PolicyClientBuilder callbackExecutor(Executor callbackExecutor) {
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
