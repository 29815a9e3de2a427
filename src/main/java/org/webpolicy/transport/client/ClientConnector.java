package org.webpolicy.transport.client;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.ServerUnreachableException;

/**
 * Opens connections for a {@link org.webpolicy.transport.PolicyClient}: attempt after attempt while the server refuses
 * connections or is full, all within {@code connectTimeout}, so connecting to a server that is not
 * up ends with an error naming the address, since when it is unreachable, the attempts made and
 * the last cause instead of hanging. The pauses between attempts start at {@link #FIRST_PAUSE}
 * and double up to {@code retryInterval}, each up to a quarter shorter at random: a robot whose
 * server restarts is back within about one {@code retryInterval} of the server's return, and a
 * fleet that lost one server does not come back in lockstep. {@link #cancel()} (the client closing) ends an attempt in
 * progress and the wait between attempts.
 *
 * <p>Given several servers (failover without a balancer), an attempt that fails goes on to the
 * next server at once; the pause comes only after every server has refused in turn. Connecting
 * again starts with the server that last worked, so a client stays where it is until that server
 * goes away.
 */
public final class ClientConnector {

    private static final Logger log = LoggerFactory.getLogger(ClientConnector.class);

    /** The first pause between attempts; later ones double up to {@code retryInterval}. */
    static final Duration FIRST_PAUSE = Duration.ofMillis(50);
    /**
     * The time the first attempt has to connect, complete the handshake and read the metadata
     * frame; doubled after each attempt that ran out of it. A server that accepted the TCP
     * connection and then went quiet (one closing, measured: 28 s lost waiting out the whole
     * connect timeout in 2 of 10 restarts) costs a robot this long, not its whole connect timeout,
     * and a slow link still gets as long as it needs after a few attempts.
     */
    static final Duration FIRST_ATTEMPT_TIMEOUT = Duration.ofSeconds(2);

    private final ClientOptions options;
    private final MsgpackCodec codec;
    private final ClientHealth health;
    private final CountDownLatch cancelled = new CountDownLatch(1);
    private volatile ClientConnection attempt;
    private final List<URI> endpoints;
    /** The endpoint tried first: the one that last worked. Used by the session's one caller at a time. */
    private int preferred;

    ClientConnector(ClientOptions options, MsgpackCodec codec, ClientHealth health) {
        this.options = options;
        this.codec = codec;
        this.health = health;
        this.endpoints = options.endpoints();
    }

    /**
     * A new connection whose metadata frame has been read.
     *
     * @throws PolicyConnectionException when none could be opened within the connect timeout, a
     *     failure is not worth retrying (a refused API key), or the client was closed
     */
    ClientConnection connect() {
        long start = System.nanoTime();
        long deadline = start + options.connectTimeout().toNanos();
        int attempts = 0;
        int pauses = 0;
        long attemptNanos = FIRST_ATTEMPT_TIMEOUT.toNanos();
        // The cause the error names: the last attempt's, unless the deadline cut that one short.
        String cause = null;
        URI causeEndpoint = null;
        int next = preferred;
        while (true) {
            failIfCancelled();
            attempts++;
            int index = next;
            next = (next + 1) % endpoints.size();
            URI endpoint = endpoints.get(index);
            long budget = Math.max(1, Math.min(attemptNanos, deadline - System.nanoTime()));
            ClientConnection c = new ClientConnection(options.at(endpoint), codec,
                    (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(budget))),
                    why -> health.lost(endpoint, why));
            attempt = c;
            ConnectFailure failure;
            try {
                failure = c.open(budget);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.shutDown("interrupted");
                throw new PolicyConnectionException("Interrupted while connecting to " + endpoint, e);
            } finally {
                attempt = null;
            }
            if (failure == null) {
                if (cancelled.getCount() == 0) {
                    c.shutDown("client closed");
                    failIfCancelled();
                }
                preferred = index;
                health.connected(endpoint);
                return c;
            }
            health.attemptFailed(endpoint, failure.reason(), options.retryInterval());
            boolean cutShort = failure.timedOut() && budget < attemptNanos;
            if (cause == null || !cutShort) {
                cause = failure.reason();
                causeEndpoint = endpoint;
            }
            if (failure.timedOut()) {
                attemptNanos = Math.min(attemptNanos * 2, options.connectTimeout().toNanos());
            }
            long now = System.nanoTime();
            if (failure.retryable() && deadline - now > 0 && cancelled.getCount() != 0 && next != preferred) {
                log.debug("Could not connect to {} ({}); trying {}", endpoint, failure.reason(), endpoints.get(next));
                continue;
            }
            if (failure.retryable() && deadline - now > 0 && cancelled.getCount() != 0) {
                long pause = pauseNanos(pauses++, options.retryInterval());
                log.debug("Still waiting for the server at {} ({}); next attempt in {} ms", describeEndpoints(),
                        failure.reason(), TimeUnit.NANOSECONDS.toMillis(pause));
                try {
                    cancelled.await(Math.min(pause, deadline - now), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PolicyConnectionException("Interrupted while waiting to connect to " + describeEndpoints(), e);
                }
                if (deadline - System.nanoTime() > 0) {
                    continue;
                }
            }
            // No attempt starts at the deadline, and one the deadline cut short is not named: the
            // error gives the last real attempt's cause.
            failIfCancelled();
            Instant since = health.unreachableSince();
            String message = String.format(Locale.ROOT,
                    "Could not connect to %s%s: %d attempt%s over %.1f s (connect timeout %.1f s); the last (%s): %s",
                    describeEndpoints(), since == null ? "" : " (server unreachable since " + since + ")",
                    attempts, attempts == 1 ? "" : "s", (System.nanoTime() - start) / 1e9,
                    options.connectTimeout().toMillis() / 1e3, causeEndpoint, cause);
            if (failure.retryable() && since != null) {
                throw new ServerUnreachableException(message, since, cause);
            }
            throw new PolicyConnectionException(message);
        }
    }

    /**
     * The pause after {@code pauses} earlier ones: {@link #FIRST_PAUSE} doubled each time up to
     * {@code longest}, then up to a quarter shorter at random.
     *
     * @param pauses pauses made so far
     * @param longest the longest pause
     * @return the pause in nanoseconds
     */
    public static long pauseNanos(int pauses, Duration longest) {
        long nominal = Math.min(longest.toNanos(), FIRST_PAUSE.toNanos() << Math.min(pauses, 20));
        return nominal - (long) (ThreadLocalRandom.current().nextDouble() * (nominal / 4));
    }

    /** Ends a connection attempt in progress and every later one; idempotent. */
    void cancel() {
        cancelled.countDown();
        ClientConnection c = attempt;
        if (c != null) {
            c.shutDown("client closed");
        }
    }

    private void failIfCancelled() {
        if (cancelled.getCount() == 0) {
            throw new PolicyConnectionException("The client for " + describeEndpoints() + " was closed while connecting");
        }
    }

    /** The one server, or all of them in order. */
    private String describeEndpoints() {
        return endpoints.size() == 1 ? endpoints.get(0).toString() : "any of " + endpoints;
    }
}
