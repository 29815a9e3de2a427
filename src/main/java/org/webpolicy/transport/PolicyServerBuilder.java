package org.webpolicy.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
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
 * Options of a {@link PolicyServer}, from {@link PolicyServer#builder}; the defaults match the
 * Python servers where they have one. {@link #build()} copies them into an immutable
 * {@link ServerOptions}: a builder changed or used again never changes a server already built.
 */
public final class PolicyServerBuilder {
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
    boolean reuseMessageBuffers;
    boolean answerOnLoopThreads = true;
    int warmUpRequests = DEFAULT_WARM_UP_REQUESTS;
    Map<String, Object> warmUpSample;

    /**
     * Requests the default warm-up runs ({@link #warmUp(int)}): enough for the JIT to have
     * compiled the request path. Measured with {@code scripts/bench_warmup} on a 2-core machine:
     * the first 1 000 requests' p50 then 1.05-1.48x the steady state's (1.66-1.86x without), for
     * about 10 s of CPU time (both ends of the loopback connection and the JIT's compiles).
     */
    public static final int DEFAULT_WARM_UP_REQUESTS = 3000;

    PolicyServerBuilder(Policy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    /**
     * The address to bind; default {@code 0.0.0.0} (all interfaces), as openpi.
     *
     * @param host the address to bind
     * @return this builder
     */
    public PolicyServerBuilder host(String host) {
        this.host = Objects.requireNonNull(host, "host");
        return this;
    }

    /**
     * The port; default 8000, as openpi. 0 binds a free port ({@link PolicyServer#port()}).
     *
     * @param port the port, or 0 for a free one
     * @return this builder
     */
    public PolicyServerBuilder port(int port) {
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
    public PolicyServerBuilder apiKey(String apiKey) {
        this.apiKey = apiKey;
        return this;
    }

    /**
     * The metadata frame sent on connect; default {@link Policy#metadata()}.
     *
     * @param metadata the metadata map sent on connect
     * @return this builder
     */
    public PolicyServerBuilder metadata(Map<String, Object> metadata) {
        this.metadata = metadata;
        return this;
    }

    /**
     * Whether raw-form actions get openpi's {@code server_timing}; default true.
     *
     * @param serverTiming whether to add server_timing
     * @return this builder
     */
    public PolicyServerBuilder serverTiming(boolean serverTiming) {
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
    public PolicyServerBuilder maxMessageBytes(int maxMessageBytes) {
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
    public PolicyServerBuilder pingInterval(Duration pingInterval) {
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
    public PolicyServerBuilder maxConnections(int maxConnections) {
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
    public PolicyServerBuilder policyTimeout(Duration policyTimeout) {
        this.policyTimeout = policyTimeout;
        return this;
    }

    /**
     * How long {@link PolicyServer#close()} waits for requests in flight; default 5 s.
     *
     * @param shutdownGrace how long close waits
     * @return this builder
     */
    public PolicyServerBuilder shutdownGrace(Duration shutdownGrace) {
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
    public PolicyServerBuilder handshakeTimeout(Duration handshakeTimeout) {
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
    public PolicyServerBuilder firstByteTimeout(Duration firstByteTimeout) {
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
    public PolicyServerBuilder maxHandshakesPerAddress(int maxHandshakesPerAddress) {
        if (maxHandshakesPerAddress < 1) {
            throw new IllegalArgumentException("maxHandshakesPerAddress must be at least 1, got " + maxHandshakesPerAddress);
        }
        this.maxHandshakesPerAddress = maxHandshakesPerAddress;
        return this;
    }

    /**
     * Also answers {@code GET /healthz}, {@code GET /readyz} (and {@code GET /metrics} when
     * {@link #publicMetrics}) on this port, plain HTTP, on a thread of its own: health checks
     * there share neither connection slots nor network threads with the WebSocket port, so no
     * flood of connections on it can delay them. Point the load balancer's or orchestrator's
     * probes at it and keep it off the public network (it serves one request at a time). The
     * WebSocket port keeps answering {@code /healthz} and {@code /readyz} too. 0 picks a free port
     * ({@link PolicyServer#healthPort()}). Default: none.
     *
     * @param healthPort the port, 0 for a free one, or -1 for none
     * @return this builder
     * @throws IllegalArgumentException when not -1..65535
     */
    public PolicyServerBuilder healthPort(int healthPort) {
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
    public PolicyServerBuilder sslContext(SSLContext sslContext) {
        this.sslContext = sslContext;
        return this;
    }

    /**
     * The codec's nesting limit for requests; default {@value MsgpackCodec#DEFAULT_MAX_DEPTH}.
     *
     * @param maxDepth the deepest nesting accepted
     * @return this builder
     */
    public PolicyServerBuilder maxDepth(int maxDepth) {
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
    public PolicyServerBuilder observationCheck(Consumer<Map<String, Object>> observationCheck) {
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
    public PolicyServerBuilder observationSpec(ObservationSpec spec) {
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
    public PolicyServerBuilder maxConcurrentRequests(int maxConcurrentRequests) {
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
    public PolicyServerBuilder maxQueuedRequests(int maxQueuedRequests) {
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
    public PolicyServerBuilder maxPendingReplyBytes(long maxPendingReplyBytes) {
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
    public PolicyServerBuilder inboundMemoryBytes(long inboundMemoryBytes) {
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
    public PolicyServerBuilder acceptImageCodecs(boolean acceptImageCodecs) {
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
    public PolicyServerBuilder batching(int maxBatch, Duration maxWait) {
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
    public PolicyServerBuilder drainTime(Duration drainTime) {
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
    public PolicyServerBuilder publicMetrics(boolean publicMetrics) {
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
    public PolicyServerBuilder exchangeTap(ExchangeTap exchangeTap) {
        this.exchangeTap = exchangeTap;
        return this;
    }

    /**
     * Whether the buffers requests arrive in are kept and reused once answered, instead of a new
     * array per message (default false). A camera observation's buffer is then no garbage per step:
     * in the benchmark nine tenths of the bytes a server allocated, and young-collection pauses
     * (humongous ones for multi-megabyte messages) in its tail.
     *
     * <p>The contract for the policy: decoded {@code NdArray}s are views of the message's bytes, valid
     * during the call that receives them. With reuse, the bytes under a view change once the reply
     * is sent: a policy that keeps an observation's array, or a continuation's, past its
     * {@code step} (a history of frames; a hand-off to a thread that runs after the call returns,
     * as an asynchronous chunk broker's prefetch does) must keep a copy ({@code NdArray.copy()}). Returning the views in the action is
     * fine: the reply is encoded before the buffer goes back. A request that fails keeps its buffer
     * out of the pool (a call abandoned at its deadline may still read it). The pool keeps idle
     * buffers up to a quarter of {@link #inboundMemoryBytes(long)} beside that budget; buffers in use are
     * charged to it, whole. An {@link #exchangeTap} is lent the request
     * ({@link ExchangeTap#exchanged(java.net.SocketAddress, java.nio.ByteBuffer, java.nio.ByteBuffer, Runnable, java.util.List, long, long)}).
     *
     * @param reuseMessageBuffers true to pool request buffers
     * @return this builder
     */
    public PolicyServerBuilder reuseMessageBuffers(boolean reuseMessageBuffers) {
        this.reuseMessageBuffers = reuseMessageBuffers;
        return this;
    }

    /**
     * Whether the I/O loop's thread that read a request may answer it itself, once a parked
     * follower has taken the selector over (leader/followers; default true), or every request
     * goes to a worker thread (false). Answering on the thread that read the request takes a
     * thread wake-up off each request's path: on a 2-core machine, six alternating runs of
     * {@code webpolicy bench} each way, one client's ALOHA p99 was within 5x the raw socket's p99
     * (measured in the same run) in 5 of 6 runs against 2 of 6 with workers alone, and under 1 ms
     * in 3 of them. The loop answers only a request that arrived alone on a server otherwise idle:
     * requests read together go to workers and the loop keeps its thread, so a server saturated by
     * many clients hands its selector over rarely (0.02 times per request with 8 clients, counted).
     * The server's threads then spend no more CPU per round trip than with workers alone (482
     * against 542 us per ALOHA round trip, medians of seven runs each on a loaded 2-core machine;
     * docs/RELIABILITY.md, "The CPU price, counted"). Either way a slow policy stalls no socket and at most
     * {@link #maxConcurrentRequests} requests are answered at once.
     *
     * @param answerOnLoopThreads false to hand every request to a worker
     * @return this builder
     */
    public PolicyServerBuilder answerOnLoopThreads(boolean answerOnLoopThreads) {
        this.answerOnLoopThreads = answerOnLoopThreads;
        return this;
    }

    /**
     * Warms the server's own code before it says ready, without calling the policy: on
     * {@link PolicyServer#start()}, after the port is bound, {@code requests} synthetic
     * observations go through the server's whole path on a loopback connection of its own
     * (handshake, frames, decode, observation spec check, reply encode, both the openpi and
     * the envelope form, and JPEG and PNG images when {@link #acceptImageCodecs} is on), and a
     * stand-in answers them in place of the policy, so a policy on a GPU is never called with
     * made-up data. The observations are ALOHA-sized (4 cameras of 3x224x224 uint8, a float64
     * state, a prompt), or follow the {@link #observationSpec} when one is set; the
     * {@link #observationCheck}, the {@link #exchangeTap} and the metrics never see them.
     * {@code start()} returns once the warm-up is done; meanwhile {@code /healthz} answers
     * {@code 200} (alive) and {@code /readyz} {@code 503} ("warming up"), and a robot that
     * connects is served, at the speed of code not yet compiled. The JIT's work is shared by
     * every server of a JVM, so only the first server of a process runs this warm-up; later
     * ones are ready at once. If the warm-up itself fails, a warning is logged and the server
     * serves anyway. The TLS engine ({@link #sslContext}) and the batch gatherer
     * ({@link #batching}) are not part of it. Default {@value #DEFAULT_WARM_UP_REQUESTS}
     * requests, about 10 s of CPU time (5-10 s to ready on a 2-core machine); 0 turns the
     * warm-up off (the Python servers have none). Without it the first requests after start
     * run about twice as slow as later ones.
     *
     * @param requests how many requests, 0 for no warm-up
     * @return this builder
     * @throws IllegalArgumentException when negative
     */
    public PolicyServerBuilder warmUp(int requests) {
        if (requests < 0) {
            throw new IllegalArgumentException("warm-up requests must be zero or more, got " + requests);
        }
        this.warmUpRequests = requests;
        this.warmUpSample = null;
        return this;
    }

    /**
     * Warms the server and the policy itself with a sample observation: as {@link #warmUp(int)},
     * but {@code sampleObservation} is sent {@code requests} times and the served policy is
     * called with it (through the {@link #observationCheck} and {@link #policyTimeout}, as a
     * robot's observation would be), so the policy's own first calls (a GPU's kernels, caches,
     * its JIT) are paid before any robot comes. Its actions are thrown away. Runs on every
     * {@code start()}, not only the first of a process. A warm-up call that fails (the policy
     * throws, the check rejects the sample) fails {@link PolicyServer#start()}, which then
     * closes the server: a policy that cannot answer its own sample should not be put behind a
     * load balancer. Use an observation the policy can take like a real one; a stateful policy
     * sees these calls before its first {@code reset}.
     *
     * @param sampleObservation an observation like the robots', not null
     * @param requests how many times to send it, at least 1
     * @return this builder
     * @throws IllegalArgumentException when {@code requests} is below 1 or the sample is null
     */
    public PolicyServerBuilder warmUp(Map<String, Object> sampleObservation, int requests) {
        if (sampleObservation == null) {
            throw new IllegalArgumentException("the warm-up's sample observation is null; use warmUp(0) for no warm-up");
        }
        if (requests < 1) {
            throw new IllegalArgumentException("a warm-up with a sample observation needs at least 1 request, got " + requests);
        }
        this.warmUpRequests = requests;
        this.warmUpSample = Collections.unmodifiableMap(new LinkedHashMap<>(sampleObservation));
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
        return new PolicyServer(policy, options());
    }

    /**
     * The options set so far, copied: later changes to this builder do not reach them. What
     * {@link #build()} serves with, without its checks against the policy.
     *
     * @return the options, immutable
     */
    public ServerOptions options() {
        Consumer<Map<String, Object>> check = observationCheck;
        if (observationSpec != null) {
            Consumer<Map<String, Object>> bySpec = observationSpec::checkReceived; // worded for any peer
            check = check == null ? bySpec : bySpec.andThen(check);
        }
        return new ServerOptions(host, port,
                apiKey == null ? null : apiKey.getBytes(StandardCharsets.UTF_8),
                metadata == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(metadata)),
                observationSpec, check, serverTiming, sslContext, healthPort, acceptImageCodecs, publicMetrics,
                exchangeTap,
                new ServerOptions.Limits(maxMessageBytes, maxDepth, maxConnections, handshakeTimeout,
                        firstByteTimeout, maxHandshakesPerAddress, maxConcurrentRequests, maxQueuedRequests,
                        maxPendingReplyBytes,
                        inboundMemoryBytes > 0 ? inboundMemoryBytes : ServerOptions.defaultInboundMemory(),
                        policyTimeout, pingInterval),
                new ServerOptions.Shutdown(drainTime, shutdownGrace),
                new ServerOptions.Batching(maxBatch, maxBatchWait),
                new ServerOptions.WarmUp(warmUpRequests, warmUpSample), reuseMessageBuffers,
                answerOnLoopThreads);
    }
}
