package org.webpolicy.transport;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import org.webpolicy.image.compression.ImageCodec;

/**
 * Everything a {@link PolicyClient} was built with, fixed at {@link PolicyClientBuilder#build()}:
 * a builder used again never changes a client it built. Every wait has a finite bound.
 *
 * @param uri where to connect
 * @param apiKey sent as {@code Authorization: Api-Key <key>}, or null
 * @param protocolMode raw, envelope or automatic
 * @param retryInterval the longest pause between connection attempts (they start at 50 ms and double)
 * @param connectTimeout the longest time connecting may take, all attempts, handshakes and the
 *     metadata frame included
 * @param requestTimeout the longest wait for one reply, and for writing one request
 * @param pingInterval how long a connection may be silent before it is pinged, and then before it is cut
 * @param reconnect whether a call after a lost connection connects again
 * @param maxMessageBytes the largest reply accepted
 * @param maxDepth the deepest nesting a reply may have
 * @param sslContext the TLS context for {@code wss://}, or null for {@code ws://}
 * @param fallbacks further servers tried in turn when {@code uri} cannot be reached (failover
 *     without a balancer); empty for one server
 * @param imageCodec how images travel when the server accepts it ({@link ImageCodec#RAW}: as arrays, no offer)
 * @param maxOutstandingCalls the most asynchronous calls outstanding at once; one more is refused
 * @param callbackExecutor where the futures of asynchronous calls are completed, in call order
 */
public record ClientOptions(URI uri, String apiKey, ProtocolMode protocolMode, Duration retryInterval, Duration connectTimeout,
        Duration requestTimeout, Duration pingInterval, boolean reconnect, int maxMessageBytes, int maxDepth,
        SSLContext sslContext, List<URI> fallbacks, ImageCodec imageCodec, int maxOutstandingCalls,
        Executor callbackExecutor) {

    /**
     * The longest pause between attempts. Short, unlike openpi's fixed 5 s: a refused attempt
     * costs the server a SYN and a reset, and a robot holding its last action while its server
     * restarts is back within about this long (plus a handshake) of the server's return.
     */
    static final Duration DEFAULT_RETRY_INTERVAL = Duration.ofMillis(150);
    /**
     * Finite, unlike the openpi client's: a robot started before its server waits this long and
     * then learns why, instead of hanging in its first call.
     */
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(120);
    /** As the Python peers. */
    static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(20);
    /** The socket receive buffer asked for: a camera observation arrives in a few reads. */
    public static final int READ_BUFFER_BYTES = 256 << 10;

    /**
     * Checks every option, naming the one that is wrong, and copies the fallbacks.
     *
     * @param uri where to connect, not null
     * @param apiKey the API key, or null
     * @param protocolMode raw, envelope or automatic, not null
     * @param retryInterval the longest pause between connection attempts, positive
     * @param connectTimeout the longest time connecting may take, positive
     * @param requestTimeout the longest wait for one reply, positive
     * @param pingInterval how often the connection is pinged, positive
     * @param reconnect whether a call after a lost connection connects again
     * @param maxMessageBytes the largest reply accepted, positive
     * @param maxDepth the deepest nesting a reply may have, positive
     * @param sslContext the TLS context, or null
     * @param fallbacks further servers, possibly empty
     * @param imageCodec how images travel, not null
     * @param maxOutstandingCalls the most asynchronous calls outstanding, at least 1
     * @param callbackExecutor where asynchronous calls complete, not null
     * @throws NullPointerException when a required option is null
     * @throws IllegalArgumentException when a duration, a size or {@code maxOutstandingCalls} is not positive
     */
    public ClientOptions {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(protocolMode, "protocolMode");
        Objects.requireNonNull(imageCodec, "imageCodec");
        Objects.requireNonNull(callbackExecutor, "callbackExecutor");
        if (maxOutstandingCalls < 1) {
            throw new IllegalArgumentException("maxOutstandingCalls must be at least 1, got " + maxOutstandingCalls);
        }
        positive(retryInterval, "retryInterval");
        positive(connectTimeout, "connectTimeout");
        positive(requestTimeout, "requestTimeout");
        positive(pingInterval, "pingInterval");
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
        }
        if (maxDepth < 1) {
            throw new IllegalArgumentException("maxDepth must be positive, got " + maxDepth);
        }
        fallbacks = List.copyOf(fallbacks);
    }

    /**
     * Every server this client may connect to: {@link #uri()} first, then the fallbacks.
     *
     * @return a new list, {@code uri} first
     */
    public List<URI> endpoints() {
        List<URI> all = new ArrayList<>(1 + fallbacks.size());
        all.add(uri);
        all.addAll(fallbacks);
        return all;
    }

    /**
     * These options for a connection to {@code endpoint}, one of {@link #endpoints()}.
     *
     * @param endpoint the server to connect to
     * @return the same options with {@code endpoint} as {@code uri}
     */
    public ClientOptions at(URI endpoint) {
        return new ClientOptions(endpoint, apiKey, protocolMode, retryInterval, connectTimeout, requestTimeout, pingInterval,
                reconnect, maxMessageBytes, maxDepth, sslContext, fallbacks, imageCodec, maxOutstandingCalls, callbackExecutor);
    }

    /** Returns {@code d} when it is positive; names {@code what} otherwise. */
    static Duration positive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }

    /** The options without the API key's value, so they can be logged. */
    @Override
    public String toString() {
        return "ClientOptions[uri=" + uri + ", apiKey=" + (apiKey == null ? "none" : "set") + ", protocolMode=" + protocolMode
                + ", retryInterval=" + retryInterval + ", connectTimeout=" + connectTimeout + ", requestTimeout="
                + requestTimeout + ", pingInterval=" + pingInterval + ", reconnect=" + reconnect + ", maxMessageBytes="
                + maxMessageBytes + ", maxDepth=" + maxDepth + ", tls=" + (sslContext != null) + ", fallbacks=" + fallbacks
                + ", imageCodec=" + imageCodec + "]";
    }
}
