package org.webpolicy.transport;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.webpolicy.policy.ObservationSpec;

/**
 * What a {@link PolicyServer} was built with, copied out of its {@link PolicyServerBuilder}: a
 * builder changed or used again never changes a server already built. The builder's javadoc
 * says what each option does and its default.
 *
 * @param host the address bound
 * @param port the port asked for (0: a free one)
 * @param apiKey the expected API key as UTF-8 bytes, or null when none is checked; not copied
 *     on access, so not to be changed
 * @param metadata the metadata frame sent on connect (unmodifiable), or null for the policy's
 * @param observationSpec the spec observations are checked against, or null
 * @param observationCheck the checks run on every observation (the spec's first), or null
 * @param serverTiming whether raw-form actions get {@code server_timing}
 * @param sslContext the TLS context ({@code wss://}), or null for {@code ws://}
 * @param healthPort the port of the separate health listener; -1 when there is none
 * @param acceptImageCodecs whether clients may send compressed camera images
 * @param publicMetrics whether {@code /metrics} is answered without the API key
 * @param exchangeTap what sees every exchange as it went on the wire, or null
 * @param limits what one client, and all of them together, may cost the server
 * @param shutdown how the server closes
 * @param batching how observations from different connections are gathered
 * @param warmUp what the server runs before it says ready
 * @param reuseMessageBuffers whether request buffers are pooled and reused once answered
 * @param answerOnLoopThreads whether the I/O loop's thread that read a request may answer it
 *     (leader/followers), or every request goes to a worker
 */
public record ServerOptions(String host, int port, byte[] apiKey, Map<String, Object> metadata,
        ObservationSpec observationSpec, Consumer<Map<String, Object>> observationCheck, boolean serverTiming,
        SSLContext sslContext, int healthPort, boolean acceptImageCodecs, boolean publicMetrics,
        ExchangeTap exchangeTap, Limits limits, Shutdown shutdown, Batching batching, WarmUp warmUp,
        boolean reuseMessageBuffers, boolean answerOnLoopThreads) {

    /**
     * What one client, and all of them together, may cost the server.
     *
     * @param maxMessageBytes the largest message accepted
     * @param maxDepth the deepest nesting of maps and lists a message may have
     * @param maxConnections open connections at once
     * @param handshakeTimeout the time a connection has to finish its handshake
     * @param firstByteTimeout the time a new connection has to send its first byte
     * @param maxHandshakesPerAddress unfinished handshakes from one address at once
     * @param maxConcurrentRequests requests run at once (the worker pool)
     * @param maxQueuedRequests requests waiting for a worker, at most
     * @param maxPendingReplyBytes reply bytes one connection may leave unread
     * @param inboundMemoryBytes message bytes (and their decoded form) held at once, for all clients
     * @param policyTimeout the longest a policy call may take, or null for no deadline
     * @param pingInterval how often idle connections are pinged; one silent for longer is cut
     */
    public record Limits(int maxMessageBytes, int maxDepth, int maxConnections, Duration handshakeTimeout,
            Duration firstByteTimeout, int maxHandshakesPerAddress, int maxConcurrentRequests,
            int maxQueuedRequests, long maxPendingReplyBytes, long inboundMemoryBytes, Duration policyTimeout,
            Duration pingInterval) {
    }

    /**
     * How the server closes.
     *
     * @param drainTime how long health checks answer 503 before the server stops accepting
     * @param shutdownGrace how long requests in flight may take to finish
     */
    public record Shutdown(Duration drainTime, Duration shutdownGrace) {
    }

    /**
     * How observations from different connections are gathered into one batch call.
     *
     * @param maxBatch the most observations per batch; 0 when the server does not batch
     * @param maxBatchWait how long the first observation waits for others
     */
    public record Batching(int maxBatch, Duration maxBatchWait) {
    }

    /**
     * What the server runs before {@code GET /readyz} says ready (and {@link PolicyServer#start()}
     * returns): requests through its whole path, on a loopback connection of its own.
     *
     * @param requests how many requests; 0 for no warm-up
     * @param sample the observation sent to the policy itself, or null: then synthetic
     *     observations are answered by a stand-in and the policy is not called
     */
    public record WarmUp(int requests, Map<String, Object> sample) {

        /**
         * Whether the warm-up calls the served policy.
         *
         * @return true when a sample observation was given
         */
        public boolean callsPolicy() {
            return sample != null && requests > 0;
        }
    }

    /**
     * Whether the server speaks TLS.
     *
     * @return true for {@code wss://}
     */
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
