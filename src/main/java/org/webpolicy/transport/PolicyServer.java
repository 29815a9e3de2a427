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
import org.webpolicy.transport.server.Readiness;
import org.webpolicy.transport.server.ProtocolCore;
import org.webpolicy.transport.adapter.ServerEndpoint;
import org.webpolicy.transport.metrics.ServerMetrics;
import org.webpolicy.transport.server.ServerThreads;

/**
 * Serves one {@link Policy} over WebSocket to any number of clients: Python openpi clients (raw
 * form), Python webpolicy clients (envelope form) and {@link PolicyClient}, told apart per
 * message. Also answers {@code GET /healthz} with {@code 200 OK} on the same port ({@code 503}
 * while draining before a close or after a failure: liveness), {@code GET /readyz} with
 * {@code 200 OK} once the server is warm ({@code 503} while it warms up, drains or has failed:
 * readiness, for load balancers), and {@code GET /metrics} with the server's metrics in the
 * Prometheus text format (behind the API key when one is set, unless
 * {@link PolicyServerBuilder#publicMetrics}).
 *
 * <p>A {@link BatchPolicy} served with {@link PolicyServerBuilder#batching} gets observations from different
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
 * do their handshakes; after it, a connection's socket ({@code ws://}, or {@code wss://} through
 * the JDK's TLS engine) is read and decoded on the server's own I/O loop ({@code webpolicy-io-1}
 * and its followers {@code webpolicy-io-1-2}, ...: one thread leads the selector at a time), and
 * its replies are written by the thread that produced them (what the socket does not take at once
 * is finished by the loop). The loop's thread that read a request answers it itself once it has
 * handed the selector to a parked follower; otherwise requests run on a worker pool. Either way,
 * pings, health checks, handshakes and other connections are served while a policy call takes
 * seconds, and at most {@link PolicyServerBuilder#maxConcurrentRequests} requests are answered at
 * once. Each connection's requests are
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
 * {@link #start()} binds, runs the warm-up ({@link PolicyServerBuilder#warmUp(int)}; on by
 * default, without calling the policy) and returns once the server is warm and ready;
 * {@link #close()} first drains for
 * {@link PolicyServerBuilder#drainTime} (health checks answer 503, connections are still served, so a load
 * balancer moves new connections elsewhere), then stops accepting, lets requests in flight finish (up to {@link PolicyServerBuilder#shutdownGrace}), then closes every
 * connection. The server owns its threads; the policy belongs to the caller and is not closed.
 */
public final class PolicyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PolicyServer.class);

    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final PolicyCalls calls;
    private final ThreadPoolExecutor workers;
    private final Housekeeping housekeeping = new Housekeeping();
    private final ProtocolCore core;
    private final ServerEndpoint endpoint;
    private final Policy policy;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** The separate health listener ({@link PolicyServerBuilder#healthPort}), or null. */
    private volatile HealthListener health;

    PolicyServer(Policy policy, ServerOptions options) {
        this.options = options;
        this.policy = policy;
        this.calls = new PolicyCalls(policy, options, metrics);
        this.workers = ServerThreads.workers(options.limits().maxConcurrentRequests());
        this.core = new ProtocolCore(policy, options, calls, metrics);
        this.endpoint = new ServerEndpoint(options, core, workers, housekeeping, this::failed);
    }

    /**
     * A builder for a server of {@code policy}, with defaults matching the Python servers.
     *
     * @param policy the policy to serve; the server calls it but does not close it
     * @return a new builder
     */
    public static PolicyServerBuilder builder(Policy policy) {
        return new PolicyServerBuilder(policy);
    }

    /**
     * Binds the port and starts serving, runs the warm-up and returns once it is done and
     * {@code GET /readyz} says ready. Connections are accepted from the bind on, and
     * {@code /healthz} answers {@code 200} during the warm-up.
     *
     * @return this server
     * @throws IllegalStateException when the port cannot be bound, or the warm-up with a sample
     *     observation failed (the server is then closed)
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
        endpoint.readiness.warming();
        if (options.healthPort() >= 0) {
            try {
                health = new HealthListener(options.host(), options.healthPort(), new HealthListener.State() {
                    @Override
                    public int healthStatus() {
                        return endpoint.failure() != null || endpoint.draining ? 503 : 200;
                    }

                    @Override
                    public Readiness.Answer readiness() {
                        return endpoint.readiness.answer(endpoint.draining, endpoint.failure() != null);
                    }

                    @Override
                    public String publicMetrics() {
                        return options.publicMetrics() ? metricsText() : null;
                    }
                });
            } catch (IOException e) {
                close();
                throw new IllegalStateException("Could not open the health port " + options.healthPort() + ": " + e.getMessage(), e);
            }
        }
        if (health != null) {
            log.info("Answering health checks on http://{}:{}/healthz", options.host(), healthPort());
        }
        warmUp();
        // Said once warm, so that what waits for this line finds the server ready.
        log.info("Serving policy on {}://{}:{}", options.secure() ? "wss" : "ws", options.host(), port());
        return this;
    }

    /** Runs the warm-up, then says ready; a failed warm-up with the user's sample closes the server. */
    private void warmUp() {
        if (options.warmUp().requests() > 0) {
            log.info("Port {} bound; warming up before GET /readyz says ready", port());
        }
        try {
            ServerWarmUp.run(policy, options);
        } catch (IllegalStateException e) {
            close();
            throw e;
        }
        endpoint.readiness.warm();
    }

    /**
     * Whether the server is warm and says ready on {@code GET /readyz} (draining and failure
     * aside): true once {@link #start()} has returned.
     *
     * @return true once the warm-up is done
     */
    public boolean isWarm() {
        return endpoint.readiness.isWarm();
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
     * The port of the separate health listener ({@link PolicyServerBuilder#healthPort}), the free one chosen
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

    /** Whether it serves {@code wss://} (for tests that reach it the same way). */
    boolean secure() {
        return options.secure();
    }

    /** The WebSocket side, for tests that play the library's part. */
    ServerEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Starts draining: from now on {@code /healthz} answers {@code 503} ("draining"), so a load
     * balancer's health check takes this server out and sends new connections elsewhere, while
     * open connections are still served. {@link #close()} drains for {@link PolicyServerBuilder#drainTime}
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
            long graceEnds = System.nanoTime() + options.shutdown().shutdownGrace().toNanos();
            workers.shutdown();
            workers.awaitTermination(options.shutdown().shutdownGrace().toNanos(), TimeUnit.NANOSECONDS);
            // Requests answered by the I/O loop's own threads (leader/followers) within the same grace.
            endpoint.awaitLoopAnswers(graceEnds - System.nanoTime());
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
        if (options.shutdown().drainTime().isZero() || endpoint.failure() != null) {
            return;
        }
        startDraining();
        log.info("Policy server on port {} draining for {} ms", port(), options.shutdown().drainTime().toMillis());
        Thread.sleep(options.shutdown().drainTime().toMillis());
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

}
