package org.webpolicy.transport.client;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Continuation;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.ConnectionStats;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.ProtocolMode;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.Request;

/**
 * The state behind a {@link org.webpolicy.transport.PolicyClient}: the current connection, whose turn it is to use it,
 * and closing. Calls take turns (a fair lock: one request in flight, callers in arrival order;
 * a burst of pipelined asynchronous calls, see {@link ClientAsyncCalls}, is one turn);
 * each runs on a connected {@link ClientConnection}, and a connection a call broke is let go at
 * once, so the next call starts on a fresh one.
 */
public final class ClientSession {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private final ClientOptions options;
    private final ClientConnector connector;
    private final ClientHealth health = new ClientHealth();
    private final ReentrantLock turn = new ReentrantLock(true);
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch closeDone = new CountDownLatch(1);
    /** Replaced under {@link #turn}; read without it by {@link #close()} and {@link #connection()}. */
    private volatile ClientConnection connection;
    private volatile boolean everConnected;
    private volatile Map<String, Object> metadata = Map.of();
    private volatile boolean takesContinuation;

    /**
     * A session that connects on its first call, not before.
     *
     * @param options the client's options
     */
    public ClientSession(ClientOptions options) {
        this.options = options;
        // A reply's decoded value is held to the same bound as its bytes: a hostile server's few
        // bytes per element cannot become tens of bytes of objects each without end.
        this.connector = new ClientConnector(options, new MsgpackCodec(options.maxDepth(), options.maxMessageBytes()), health);
    }

    /**
     * The current connection, or null.
     *
     * @return the connection
     */
    public ClientConnection connection() {
        return connection;
    }

    /**
     * Counts and the current outage.
     *
     * @return a snapshot
     */
    public ConnectionStats stats() {
        return health.stats();
    }

    /**
     * Whether a connection was ever made: before one, there is no metadata to report yet; after one,
     * a session that does not reconnect does not connect again.
     *
     * @return true after the first connection
     */
    public boolean everConnected() {
        return everConnected;
    }

    /**
     * The metadata of the current (or last) connection.
     *
     * @return the metadata, empty before the first connection
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    /**
     * Whether the server of the current (or last) connection takes a continuation.
     *
     * @return false before the first connection
     */
    public boolean takesContinuation() {
        return takesContinuation;
    }

    /**
     * Runs {@code exchange} in this caller's turn, on a connection (connecting first if needed).
     *
     * @param <T> what the exchange returns
     * @param exchange what to do on the connection; a failure that leaves the connection unusable lets it go
     * @return what {@code exchange} returned
     * @throws IllegalStateException when the client is closed
     * @throws PolicyConnectionException when no connection could be made, or the interrupted
     *     caller gave up waiting for its turn
     */
    public <T> T call(Function<ClientConnection, T> exchange) {
        try {
            turn.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolicyConnectionException("Interrupted while waiting for another request to finish", e);
        }
        try {
            if (closeStarted.get()) {
                throw new IllegalStateException("This PolicyClient is closed");
            }
            ClientConnection c = ensureConnected();
            try {
                return exchange.apply(c);
            } catch (RuntimeException e) {
                if (!c.usable()) {
                    connection = null;
                    c.shutDown("call failed");
                }
                throw e;
            }
        } finally {
            turn.unlock();
        }
    }

    /**
     * One step: the observation raw, or in a step envelope; returns the action. Its images are
     * compressed only on a connection whose server accepted the offered codec. The continuation
     * (or null) travels only on a connection whose server takes one, and its reply must then echo
     * the cursor and generation; elsewhere it is dropped, and the bytes are those of a plain step.
     *
     * @param original the observation as the caller gave it
     * @param continuation what the robot will still execute, or null
     * @return the action
     */
    public Map<String, Object> step(Map<String, Object> original, Continuation continuation) {
        return call(c -> stepOn(c, original, continuation));
    }

    /** {@link #step} on {@code c}, in the caller's turn. */
    Map<String, Object> stepOn(ClientConnection c, Map<String, Object> original, Continuation continuation) {
        return c.exchange(c.protocol().step(original, continuation)).action();
    }

    /** True when another caller waits for its turn (a pipelined burst then stops taking new calls). */
    boolean othersWaiting() {
        return turn.hasQueuedThreads();
    }

    /**
     * A reset envelope; over the raw form nothing, and a payload is refused (it could not arrive).
     *
     * @param payload what the server's policy is reset with, or null
     * @throws IllegalStateException when a payload cannot travel over the raw form
     * @throws PolicyConnectionException when the server does not acknowledge the reset
     */
    public void reset(Map<String, Object> payload) {
        boolean hasPayload = payload != null && !payload.isEmpty();
        call(c -> {
            if (!c.envelope()) {
                if (hasPayload) {
                    throw new IllegalStateException(rawResetRefusal());
                }
                return null;
            }
            c.exchange(Request.reset(payload)); // checked: the reply is the acknowledgement
            return null;
        });
    }

    private String rawResetRefusal() {
        if (options.protocolMode() == ProtocolMode.RAW) {
            return "reset(payload) cannot reach " + options.uri() + ": ProtocolMode.RAW (openpi's form) has no remote reset,"
                    + " so the payload would be lost. Use ProtocolMode.ENVELOPE for a Python webpolicy server, or reset with"
                    + " an empty payload (a local no-op, as openpi's client).";
        }
        return "reset(payload) cannot reach " + options.uri() + ": the server did not announce envelope support (no "
                + Headers.PROTOCOL + " header), so this connection uses openpi's raw form, which has no remote"
                + " reset, and the payload would be lost. For a Python webpolicy server use ProtocolMode.ENVELOPE; for an"
                + " openpi server reset with an empty payload (a local no-op, as openpi's client).";
    }

    private ClientConnection ensureConnected() {
        ClientConnection c = connection;
        if (c != null) {
            c.catchUp();
            if (c.usable()) {
                return c;
            }
            connection = null;
            String violation = c.violation();
            c.shutDown(violation != null ? "protocol violation" : "connection lost");
            if (violation != null) {
                // A stray frame between calls: this call is the first to learn of it.
                throw new PolicyConnectionException(violation + "; the connection was dropped"
                        + (options.reconnect() ? " and the next call reconnects" : ""));
            }
            if (!options.reconnect()) {
                throw new PolicyConnectionException("The connection to " + options.uri() + " was lost and reconnection is off");
            }
        } else if (everConnected && !options.reconnect()) {
            throw new PolicyConnectionException("The connection to " + options.uri() + " was closed and reconnection is off");
        }
        c = connector.connect();
        metadata = c.metadata();
        takesContinuation = c.takesContinuation();
        connection = c;
        everConnected = true;
        log.info("Connected to {} ({} form{}{})", c.uri(), c.envelope() ? "envelope" : "raw",
                c.echoesIds() ? ", request ids checked" : "", c.takesContinuation() ? ", continuations taken" : "");
        return c;
    }

    /**
     * Ends a connection attempt or call in progress (it fails) and the connection; later calls
     * fail. Idempotent: every caller returns once the connection has ended.
     */
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            awaitUninterruptibly(closeDone);
            return;
        }
        try {
            connector.cancel();
            ClientConnection c = connection;
            if (c != null) {
                c.shutDown("client closed"); // a call waiting for its reply fails now
            }
            turn.lock(); // once held, the call in flight (if any) has returned
            try {
                if (connection != null) {
                    connection.shutDown("client closed");
                    connection = null;
                }
            } finally {
                turn.unlock();
            }
        } finally {
            closeDone.countDown();
        }
    }

    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
