package org.webpolicy.transport;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.webpolicy.policy.ObservationSpec;

/**
 * What a {@link PolicyServer} was built with, copied out of its builder: a builder changed or
 * used again never changes a server already built.
 */
public final class ServerOptions {

    public final String host;
    public final int port;
    public final byte[] apiKey;
    public final Map<String, Object> metadata;
    public final ObservationSpec observationSpec;
    public final boolean serverTiming;
    public final int maxMessageBytes;
    public final Duration pingInterval;
    public final int maxConnections;
    public final Duration policyTimeout;
    final Duration shutdownGrace;
    public final Duration handshakeTimeout;
    public final Duration firstByteTimeout;
    public final int maxHandshakesPerAddress;
    /** The port of the separate health listener; -1 when there is none. */
    final int healthPort;
    public final SSLContext sslContext;
    public final int maxDepth;
    public final Consumer<Map<String, Object>> observationCheck;
    public final int maxConcurrentRequests;
    public final int maxQueuedRequests;
    public final long maxPendingReplyBytes;
    public final long inboundMemoryBytes;
    public final boolean acceptImageCodecs;
    /** The most observations per batch; 0 when the server does not batch. */
    public final int maxBatch;
    public final Duration maxBatchWait;
    final Duration drainTime;
    public final boolean publicMetrics;
    public final ExchangeTap exchangeTap;

    ServerOptions(PolicyServer.Builder b) {
        host = b.host;
        port = b.port;
        apiKey = b.apiKey == null ? null : b.apiKey.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        metadata = b.metadata == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(b.metadata));
        observationSpec = b.observationSpec;
        serverTiming = b.serverTiming;
        maxMessageBytes = b.maxMessageBytes;
        pingInterval = b.pingInterval;
        maxConnections = b.maxConnections;
        policyTimeout = b.policyTimeout;
        shutdownGrace = b.shutdownGrace;
        handshakeTimeout = b.handshakeTimeout;
        firstByteTimeout = b.firstByteTimeout;
        maxHandshakesPerAddress = b.maxHandshakesPerAddress;
        healthPort = b.healthPort;
        sslContext = b.sslContext;
        maxDepth = b.maxDepth;
        Consumer<Map<String, Object>> check = b.observationCheck;
        if (b.observationSpec != null) {
            Consumer<Map<String, Object>> bySpec = b.observationSpec::checkReceived; // worded for any peer
            check = check == null ? bySpec : bySpec.andThen(check);
        }
        observationCheck = check;
        maxConcurrentRequests = b.maxConcurrentRequests;
        maxQueuedRequests = b.maxQueuedRequests;
        maxPendingReplyBytes = b.maxPendingReplyBytes;
        maxBatch = b.maxBatch;
        maxBatchWait = b.maxBatchWait;
        drainTime = b.drainTime;
        publicMetrics = b.publicMetrics;
        exchangeTap = b.exchangeTap;
        inboundMemoryBytes = b.inboundMemoryBytes > 0 ? b.inboundMemoryBytes : defaultInboundMemory();
        acceptImageCodecs = b.acceptImageCodecs;
    }

    public boolean secure() {
        return sslContext != null;
    }

    /**
     * A quarter of the heap: the rest is for decoded requests, the library's copy of a fragmented
     * message, replies waiting to be written and the policy itself.
     */
    static long defaultInboundMemory() {
        return Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4);
    }
}
