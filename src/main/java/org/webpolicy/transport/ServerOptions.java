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
final class ServerOptions {

    final String host;
    final int port;
    final byte[] apiKey;
    final Map<String, Object> metadata;
    final ObservationSpec observationSpec;
    final boolean serverTiming;
    final int maxMessageBytes;
    final Duration pingInterval;
    final int maxConnections;
    final Duration policyTimeout;
    final Duration shutdownGrace;
    final Duration handshakeTimeout;
    final Duration firstByteTimeout;
    final int maxHandshakesPerAddress;
    /** The port of the separate health listener; -1 when there is none. */
    final int healthPort;
    final SSLContext sslContext;
    final int maxDepth;
    final Consumer<Map<String, Object>> observationCheck;
    final int maxConcurrentRequests;
    final int maxQueuedRequests;
    final long maxPendingReplyBytes;
    final long inboundMemoryBytes;
    final boolean acceptImageCodecs;
    /** The most observations per batch; 0 when the server does not batch. */
    final int maxBatch;
    final Duration maxBatchWait;
    final Duration drainTime;
    final boolean publicMetrics;
    final ExchangeTap exchangeTap;

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

    boolean secure() {
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
