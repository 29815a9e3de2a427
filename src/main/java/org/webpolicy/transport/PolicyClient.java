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
 * A policy that runs on a server: Python openpi and webpolicy servers, or {@link PolicyServer}.
 * Implements {@link Policy}, so a remote policy stands wherever a local one does.
 *
 * <pre>{@code
 * try (PolicyClient policy = PolicyClient.builder().host("gpu-01").port(8000).build()) {
 *     Map<String, Object> action = policy.step(observation);
 * }
 * }</pre>
 *
 * <h2>Connection</h2>
 * The first call (or {@link #connect()}) connects, retrying while the server refuses connections
 * (pauses from 50 ms doubling up to {@link PolicyClientBuilder#retryInterval}, 150 ms by default, within
 * {@link PolicyClientBuilder#connectTimeout}, 30 s by default), then reads the metadata frame. After a connection is lost, and after any failed call, the next
 * call connects again the same way ({@link PolicyClientBuilder#reconnect}, on by default, so a robot loop
 * outlives a server restart). Given several servers ({@link PolicyClientBuilder#endpoints}), connecting tries
 * them in turn, starting with the one that last worked, so a client fails over without a load
 * balancer. A server gone for longer than the connect timeout fails the call with a
 * {@link ServerUnreachableException} that says since when and why; {@link #connectionStats()}
 * counts reconnections and outages, and each outage is logged at WARN once. A failed call is never resent: the caller decides, because whether
 * the server ran it is unknown. Every wait is bounded by a timeout; none is infinite.
 *
 * <h2>Replies</h2>
 * Each request takes exactly one frame as its reply. A frame that arrives while no request is
 * outstanding, or a second frame for one request, fails the call (or the next call, when none is
 * in flight) with a {@link PolicyConnectionException} naming what arrived, and drops the
 * connection. Where the server's handshake says it echoes request ids (our server does), envelope
 * requests carry one and a reply with another id fails the same way; so a reply is never taken
 * for another request's.
 *
 * <h2>Asynchronous calls</h2>
 * {@link #stepAsync(Map)} returns at once with a {@link CompletableFuture} of the action, for a
 * coordinator, a UI or a supervisor of several robots that should not park a thread per call.
 * Calls are sent in the order they were made, by one daemon thread the client starts on the first
 * such call. Where the server echoes request ids (ours does, answering a connection's requests
 * in order) they are pipelined on one connection and each reply is matched to its call by its
 * id; elsewhere (openpi's raw form, Python webpolicy servers) they are sent one at a time, each
 * after the previous reply, exactly as {@link #step(Map)} would. Each call has the same
 * {@linkplain PolicyClientBuilder#requestTimeout request timeout} from its sending and the same errors as
 * {@code step} (the future fails with them). A call without its reply in time, or a lost
 * connection, fails every call sent on that connection and not yet answered, each naming the
 * cause; none is resent, and calls not sent yet go on the next connection. At most
 * {@link PolicyClientBuilder#maxOutstandingCalls} calls (16 by default) are outstanding at once; one more is
 * refused at once with a {@link RejectedExecutionException}.
 *
 * <h2>Threading</h2>
 * Thread-safe. One request is in flight at a time, as the protocol requires, except for pipelined
 * asynchronous calls; concurrent callers wait their turn in arrival order (a burst of pipelined
 * calls takes no new call while a {@code step} or {@code reset} waits, and ends when its replies
 * are in; a {@code step} made while an earlier {@code stepAsync} is still queued may go first).
 * Futures of {@code stepAsync} are completed in call order, one at a time, on the
 * {@linkplain PolicyClientBuilder#callbackExecutor callback executor} ({@link ForkJoinPool#commonPool()} by
 * default), never on the connection's reader thread nor on the thread that sends: dependent
 * stages added without an executor run there too (or, as with any {@code CompletableFuture}, on a
 * thread waiting in {@code get} or {@code join} at that moment), so a slow one delays the
 * completions after it (use the {@code ...Async} stages for long work). A {@code step} (or
 * {@code reset}) reads its own reply from the socket on the calling thread while it waits, so the
 * reply needs no hand-over from another thread; the connection's reader thread reads only while no
 * such call does (pipelined replies, pings and the server's close between calls). Every thread the client starts (each
 * connection's reader included) is a daemon: a client that is never closed does not keep the JVM alive. {@link #close()} may be called from any thread, any number of
 * times; it fails a call in flight and returns when the connection has ended.
 */
public final class PolicyClient implements Policy {

    private final ClientOptions options;
    private final ClientSession session;
    private final ClientAsyncCalls asyncCalls;

    PolicyClient(ClientOptions options) {
        this.options = options;
        this.session = new ClientSession(options);
        this.asyncCalls = new ClientAsyncCalls(session, options);
    }

    /**
     * Starts the options of a new client; the defaults match the openpi client where it has one.
     *
     * @return a builder with default options
     */
    public static PolicyClientBuilder builder() {
        return new PolicyClientBuilder();
    }

    /**
     * The server's address (the first one, when several were given).
     *
     * @return the {@code ws://} or {@code wss://} URI this client connects to first
     */
    public URI uri() {
        return options.uri();
    }

    /** The session behind this client: its connection, for tests that look at how replies were read. */
    ClientSession session() {
        return session;
    }

    /** The options this client was built with. */
    ClientOptions options() {
        return options;
    }

    /**
     * Connects now (if not connected) rather than on the first call.
     *
     * @return this client
     * @throws PolicyConnectionException when no connection could be made within the connect timeout
     * @throws IllegalStateException when the client is closed
     */
    public PolicyClient connect() {
        session.call(c -> c);
        return this;
    }

    /**
     * The metadata the server sent on the current (or last) connection; connects first if this
     * client never has.
     *
     * @return the server's metadata map, unmodifiable (empty when the server sent none)
     * @throws PolicyConnectionException when a first connection could not be made
     * @throws IllegalStateException when the client is closed before it ever connected
     */
    @Override
    public Map<String, Object> metadata() {
        if (!session.everConnected()) {
            connect();
        }
        return session.metadata();
    }

    /**
     * What this client has been through with its server: connections, reconnections, failed
     * attempts, outages, and since when the server is unreachable (null while connected).
     *
     * @return the counts at this moment
     */
    public ConnectionStats connectionStats() {
        return session.stats();
    }

    /**
     * Whether requests go as webpolicy envelopes on the current connection.
     *
     * @return true when connected and using the envelope form
     */
    public boolean usesEnvelope() {
        ClientConnection c = session.connection();
        return c != null && c.envelope();
    }

    /**
     * How images travel on the current connection: the codec of {@link PolicyClientBuilder#imageCodec} when
     * the server accepted it in its handshake, {@link ImageCodec#RAW} otherwise (and while not
     * connected).
     *
     * @return the codec images are sent with now
     */
    public ImageCodec imageCodecInUse() {
        ClientConnection c = session.connection();
        return c != null && c.compressesImages() ? options.imageCodec() : ImageCodec.RAW;
    }

    /**
     * Sends one observation and returns the server's action.
     *
     * @param observation the observation map
     * @return the action map
     * @throws PolicyConnectionException when no reply (or no usable one) came: the connection is
     *     dropped and the next call reconnects
     * @throws RemotePolicyException when the server reported that the request failed
     * @throws org.webpolicy.codec.EncodeException when the observation holds a value the wire
     *     cannot carry, named by its path (nothing is sent and the connection stays)
     * @throws IllegalStateException when the client is closed
     */
    @Override
    public Map<String, Object> step(Map<String, Object> observation) {
        return session.step(Objects.requireNonNull(observation, "observation"), null);
    }

    /**
     * Sends one observation with the robot's chunk under way (real-time chunking) and returns the
     * server's action. The continuation travels only when the server said in its handshake that
     * its policy takes one ({@link #acceptsContinuation()}); the reply must then answer its cursor
     * and generation. To any other server (the Python openpi and webpolicy servers among them) the
     * request is exactly {@link #step(Map)}'s, byte for byte. See docs/RTC_WIRE.md.
     *
     * @param observation the observation map
     * @param continuation what the robot will still execute of its current chunk, or null
     * @return the action map
     * @throws PolicyConnectionException as {@link #step(Map)}, and when the reply answers another
     *     cursor or generation (the connection is then dropped)
     * @throws RemotePolicyException when the server reported that the request failed (a
     *     malformed continuation among the reasons)
     * @throws IllegalArgumentException when the continuation's actions are not floating-point
     *     (nothing is sent)
     * @throws IllegalStateException when the client is closed
     */
    @Override
    public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
        return session.step(Objects.requireNonNull(observation, "observation"), continuation);
    }

    /**
     * Sends one observation without waiting: see "Asynchronous calls" above.
     *
     * @param observation the observation map; not to be changed until the future completes
     * @return a future of the action map; it fails with the exceptions {@link #step(Map)} throws
     *     (a {@link PolicyConnectionException} when no reply came in time or the connection was
     *     lost, a {@link RemotePolicyException} when the server reported that the request failed,
     *     an {@link IllegalStateException} when the client closed before the call was sent).
     *     Cancelling it before the call is sent keeps the call from being sent; once sent, its
     *     reply is read and dropped.
     * @throws RejectedExecutionException when {@link PolicyClientBuilder#maxOutstandingCalls} calls are
     *     already outstanding (nothing is queued)
     * @throws IllegalStateException when the client is closed
     */
    public CompletableFuture<Map<String, Object>> stepAsync(Map<String, Object> observation) {
        return asyncCalls.submit(Objects.requireNonNull(observation, "observation"), null);
    }

    /**
     * {@link #stepAsync(Map)} with the robot's chunk under way: the continuation travels as with
     * {@link #step(Map, Continuation)}, only to a server that takes one, and the reply must
     * answer its cursor and generation.
     *
     * @param observation the observation map; not to be changed until the future completes
     * @param continuation what the robot will still execute of its current chunk, or null
     * @return a future of the action map, failing as that of {@link #stepAsync(Map)}, and with an
     *     {@link IllegalArgumentException} when the continuation's actions are not floating-point
     *     (that call is not sent)
     * @throws RejectedExecutionException when {@link PolicyClientBuilder#maxOutstandingCalls} calls are
     *     already outstanding
     * @throws IllegalStateException when the client is closed
     */
    public CompletableFuture<Map<String, Object>> stepAsync(Map<String, Object> observation, Continuation continuation) {
        return asyncCalls.submit(Objects.requireNonNull(observation, "observation"), continuation);
    }

    /**
     * Whether the server of the current (or last) connection said in its handshake that its
     * policy takes a continuation (header {@code X-Webpolicy-Continuation: 1}); connects first if
     * this client never has, as {@link #metadata()}. Python servers never say so. The answer may
     * change when a reconnection reaches another server.
     *
     * @return true when continuations travel with {@link #step(Map, Continuation)}
     * @throws PolicyConnectionException when a first connection could not be made
     * @throws IllegalStateException when the client is closed before it ever connected
     */
    @Override
    public boolean acceptsContinuation() {
        if (!session.everConnected()) {
            connect();
        }
        return session.takesContinuation();
    }

    /**
     * Resets the remote policy. Over an envelope connection the server calls its policy's reset
     * (with the payload when it is not empty) and acknowledges. openpi's raw form has no remote
     * reset: there an empty reset does nothing, as the openpi client's, and a payload is refused
     * rather than silently dropped. Under {@link ProtocolMode#AUTO} the raw form is used when the
     * server's handshake does not announce envelopes, which Python webpolicy servers do not: use
     * {@link ProtocolMode#ENVELOPE} for them.
     *
     * @param payload what to pass to the policy's reset (e.g. a new prompt); null or empty for none
     * @throws IllegalStateException when the payload is not empty and the connection uses the raw
     *     form, or when the client is closed
     * @throws PolicyConnectionException when the server could not be reached or did not acknowledge
     * @throws RemotePolicyException when the server reported that the reset failed
     */
    @Override
    public void reset(Map<String, Object> payload) {
        session.reset(payload);
    }

    /**
     * Closes the connection and ends a connection attempt or call in progress (it fails); later
     * calls fail. Idempotent and safe from any thread: every caller returns once the connection
     * has ended.
     */
    @Override
    public void close() {
        asyncCalls.close();
        session.close();
    }

}
