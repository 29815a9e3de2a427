package org.webpolicy.transport;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.MsgpackCodec;

/**
 * Opens connections for a {@link PolicyClient}: attempt after attempt while the server refuses
 * connections or is full (every {@code retryInterval}), all within {@code connectTimeout}, so
 * connecting to a server that is not up ends with an error naming the address, the attempts made
 * and the last cause instead of hanging. {@link #cancel()} (the client closing) ends an attempt in
 * progress and the wait between attempts.
 *
 * <p>Given several servers (failover without a balancer), an attempt that fails goes on to the
 * next server at once; the pause comes only after every server has refused in turn. Connecting
 * again starts with the server that last worked, so a client stays where it is until that server
 * goes away.
 */
final class ClientConnector {

    private static final Logger log = LoggerFactory.getLogger(ClientConnector.class);

    private final ClientOptions options;
    private final MsgpackCodec codec;
    private final CountDownLatch cancelled = new CountDownLatch(1);
    private volatile ClientConnection attempt;
    private final List<URI> endpoints;
    /** The endpoint tried first: the one that last worked. Used by the session's one caller at a time. */
    private int preferred;

    ClientConnector(ClientOptions options, MsgpackCodec codec) {
        this.options = options;
        this.codec = codec;
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
        int next = preferred;
        while (true) {
            failIfCancelled();
            attempts++;
            int index = next;
            next = (next + 1) % endpoints.size();
            URI endpoint = endpoints.get(index);
            long left = Math.max(1, deadline - System.nanoTime());
            ClientConnection c = new ClientConnection(options.at(endpoint), codec,
                    (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left))));
            attempt = c;
            ClientConnection.Failure failure;
            try {
                failure = c.open(left);
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
                return c;
            }
            long now = System.nanoTime();
            if (failure.retryable() && deadline - now > 0 && cancelled.getCount() != 0 && next != preferred) {
                log.info("Could not connect to {} ({}); trying {}", endpoint, failure.reason(), endpoints.get(next));
                continue;
            }
            if (failure.retryable() && deadline - now > 0 && cancelled.getCount() != 0) {
                log.info("Still waiting for the server at {} ({})", describeEndpoints(), failure.reason());
                try {
                    cancelled.await(Math.min(options.retryInterval().toNanos(), deadline - now), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PolicyConnectionException("Interrupted while waiting to connect to " + describeEndpoints(), e);
                }
                if (deadline - System.nanoTime() > 0) {
                    continue;
                }
            }
            // No attempt starts at the deadline: the error names the last real one's cause.
            failIfCancelled();
            throw new PolicyConnectionException(String.format(Locale.ROOT,
                    "Could not connect to %s: %d attempt%s over %.1f s (connect timeout %.1f s); the last (%s): %s",
                    describeEndpoints(),
                    attempts, attempts == 1 ? "" : "s", (System.nanoTime() - start) / 1e9,
                    options.connectTimeout().toMillis() / 1e3, endpoint, failure.reason()));
        }
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
