package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Consumer;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.server.ClientLog;
import org.webpolicy.transport.server.ConnectionSlots;
import org.webpolicy.transport.server.Housekeeping;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.frame.MessageBufferPool;
import org.webpolicy.transport.server.PendingHandshakes;
import org.webpolicy.transport.server.ProtocolCore;
import org.webpolicy.transport.server.Readiness;
import org.webpolicy.transport.server.RequestRunner;
import org.webpolicy.transport.server.RequestSlots;
import org.webpolicy.transport.server.ServerConnection;
import org.webpolicy.transport.server.ServerWire;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.ServerOptions;

/**
 * The Java-WebSocket side of the server: connections, handshakes, messages in and replies out.
 * What a request means is the {@link ProtocolCore}'s business; this class moves its bytes and
 * decides, where the library's own behaviour is unsafe, what happens instead (each place says why).
 * After its handshake, a connection's socket ({@code ws://} or {@code wss://}) is handed over to the
 * server's {@link IoLoop} ({@link OwnedSocket} says why); the callbacks here are the same before
 * and after.
 */
public final class ServerEndpoint extends WebSocketServer {

    private static final Logger log = LoggerFactory.getLogger(ServerEndpoint.class);

    /**
     * Bytes read from a socket at once by the WebSocket library (its default is 16 KB), during
     * handshakes (sockets' receive buffers are left to the kernel's auto-tuning). A camera
     * observation is hundreds of KB: each read is handed to a decoder thread, so fewer, larger
     * reads save hand-offs. The server pools a few such buffers per decoder thread, not one per
     * connection. The server's own I/O loop reads connections after their handshake into a smaller
     * buffer of each loop thread's ({@link IoLoop#SCRATCH_BYTES}), which stays in the core's cache.
     */
    static final int READ_BUFFER_BYTES = 256 << 10;

    private final ServerOptions options;
    private final ProtocolCore core;
    private final ThreadPoolExecutor workers;
    /**
     * Requests answered at once, on workers and on the I/O loop's threads together: the
     * {@code maxConcurrentRequests} bound, whoever answers.
     */
    private final RequestSlots requestSlots;
    private final Housekeeping housekeeping;
    private final ClientLog clientLog;
    private final InboundBudget budget;
    private final ConnectionSlots slots;
    private final RequestRunner requests;
    private final WriteWake writeWake = new WriteWake();
    /**
     * Reads and writes connections after their handshake, from {@link #onStart}; null when no
     * selector could be opened.
     */
    private volatile IoLoop ioLoop;
    private final Consumer<Throwable> onFatal;
    /** Connections accepted whose handshake has not finished: per-address count, first-byte and handshake times. */
    private final PendingHandshakes handshaking;
    private final Startup startup;
    private volatile int openConnections;
    private final Object openLock = new Object();
    private volatile boolean closing;
    /** Set when the server is told to stop: health checks answer 503 so balancers move away. */
    public volatile boolean draining;
    /** Whether {@code GET /readyz} says ready: not before the server's warm-up is done. */
    public final Readiness readiness = new Readiness();
    private volatile Throwable failure;

    /**
     * A server not yet started, with its own admission, client log and inbound memory budget.
     *
     * @param options the server's options
     * @param core what answers requests
     * @param workers the threads requests run on
     * @param housekeeping the server's timer thread
     * @param onFatal told once when the server fails and must go down
     */
    public ServerEndpoint(ServerOptions options, ProtocolCore core, ThreadPoolExecutor workers, Housekeeping housekeeping,
            Consumer<Throwable> onFatal) {
        this(options, core, workers, housekeeping, onFatal, new Admission(options, core), new ClientLog(),
                new InboundBudget(options.limits().inboundMemoryBytes(), options.reuseMessageBuffers()
                        ? new MessageBufferPool(options.limits().inboundMemoryBytes() / 4) : null));
    }

    private ServerEndpoint(ServerOptions options, ProtocolCore core, ThreadPoolExecutor workers, Housekeeping housekeeping,
            Consumer<Throwable> onFatal, Admission admission, ClientLog clientLog, InboundBudget budget) {
        super(new InetSocketAddress(options.host(), options.port()), decoderThreads(),
                List.of(new HandshakeDraft(admission, options.limits().maxMessageBytes())));
        admission.endpoint = this;
        this.options = options;
        this.core = core;
        this.workers = workers;
        this.requestSlots = new RequestSlots(options.limits().maxConcurrentRequests());
        this.housekeeping = housekeeping;
        this.clientLog = clientLog;
        this.budget = budget;
        this.onFatal = onFatal;
        this.startup = new Startup(options);
        this.slots = new ConnectionSlots(options.limits().maxConnections(), housekeeping, clientLog);
        this.handshaking = new PendingHandshakes(options.limits().maxHandshakesPerAddress(), options.limits().firstByteTimeout(),
                options.limits().handshakeTimeout());
        this.requests = new RequestRunner(options, core, budget, housekeeping, clientLog);
        setTcpNoDelay(true);
        setReuseAddr(true);
        // No fixed socket receive buffer: the kernel's auto-tuning grows a busy connection's window
        // past what a fixed 256 KB allowed, so a 600 KB observation no longer stalls its sender
        // twice per message (the ACKs that reopen the window made the loop pay for the sender's
        // transmission too). Measured alternately in one sitting: 8 clients on ALOHA 31-33% ->
        // 38-44% of the raw-socket floor, CPU per step 2.8-3.1x -> 2.2-2.5x the floor's.
        setConnectionLostTimeout((int) Math.max(1, options.limits().pingInterval().toSeconds()));
        // Connections are taken over after their handshake (OwnedSocket says why), TLS or not.
        setWebSocketFactory(new OwnedSocketFactory(options.sslContext()));
    }

    /**
     * One loop: on the 2-core machines this serves, a second selector would compete with the
     * workers and the policy for the same cores, and one loop reads and decodes at memory speed.
     * Its followers (leader/followers, see {@link IoLoop}) let the thread that read a request
     * answer it while another takes the selector: {@link #loopFollowers} of them.
     */
    private void openLoop() {
        try {
            ioLoop = new IoLoop("webpolicy-io-1",
                    options.answerOnLoopThreads() ? loopFollowers(options.limits().maxConcurrentRequests()) : 0, this::fatal);
        } catch (IOException e) {
            log.warn("No I/O loop ({}): connections stay on the WebSocket library's threads", e.toString());
        }
    }

    /**
     * The I/O loop's followers: one per core beyond the first (at least one, at most
     * {@code maxConcurrentRequests}). More would only wait for a core: each answers a request
     * that could otherwise start at once on a worker, and the loop's threads are kept for the
     * server's life. The loop's threads then number at most {@code 1 + maxConcurrentRequests}.
     *
     * @param maxConcurrentRequests the server's bound on requests answered at once
     * @return the followers
     */
    static int loopFollowers(int maxConcurrentRequests) {
        return Math.min(maxConcurrentRequests, Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
    }

    private static int decoderThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Starts the library's server thread, after a probe of the port: a port in use is then one
     * clear exception, where the library's own bind failure would also log itself at ERROR with
     * a stack trace (its logger, not ours). A port taken between the probe and the bind still
     * fails {@link #awaitStarted} with the same text.
     *
     * @throws IllegalStateException when the port is in use
     */
    @Override
    public void start() {
        startup.probe(getAddress());
        super.start();
    }

    /**
     * Waits until the port is bound; throws with the reason when it could not be.
     *
     * @throws InterruptedException when interrupted while waiting
     * @throws IllegalStateException when the port could not be bound, or not within 30 s
     */
    public void awaitStarted() throws InterruptedException {
        startup.await();
    }

    /**
     * Connections whose handshake finished and that are not closed yet: what {@code maxConnections} bounds.
     *
     * @return the count
     */
    public int openConnections() {
        return openConnections;
    }

    /** Whether the server went down. */
    boolean failed() {
        return failure != null;
    }

    boolean full() {
        return openConnections >= options.limits().maxConnections() || closing || failure != null;
    }

    /**
     * Connections accepted whose handshake is under way (for tests).
     *
     * @return the count
     */
    public int pendingHandshakes() {
        return handshaking.count();
    }

    /**
     * Connections accepted and not yet closed, handshake or not.
     *
     * @return the count
     */
    public int acceptedConnections() {
        return slots.accepted();
    }

    /**
     * Open connections whose socket the server's I/O loop reads and writes (for tests).
     *
     * @return the count
     */
    public int ownedConnections() {
        int n = 0;
        for (WebSocket conn : getConnections()) {
            if (conn instanceof OwnedSocket owned && owned.writer.owned() && conn.isOpen()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Inbound message bytes held now, over all connections.
     *
     * @return the bytes
     */
    public long inboundBytes() {
        return budget.used();
    }

    /** Stops taking requests: those queued fail fast, new connections get 503. */
    public void startClosing() {
        closing = true;
        requests.closing = true;
    }

    /**
     * Waits until no thread of the I/O loop answers a request (the workers are waited for apart).
     *
     * @param nanos the most to wait
     * @throws InterruptedException when interrupted while waiting
     */
    public void awaitLoopAnswers(long nanos) throws InterruptedException {
        IoLoop loop = ioLoop;
        if (loop != null) {
            loop.awaitAnswers(nanos);
        }
    }

    @Override
    public void onStart() {
        openLoop();
        slots.checkDescriptorLimit(options.limits().maxConnections());
        long every = Math.max(10, Math.min(1000,
                Math.min(options.limits().handshakeTimeout().toMillis(), options.limits().firstByteTimeout().toMillis()) / 4));
        housekeeping.every(every, this::sweep);
        startup.started();
    }

    @Override
    protected boolean onConnect(SelectionKey key) {
        return slots.beforeAccept(key);
    }

    // The library creates a connection's buffers when it accepts it and releases them when it
    // closes, handshake or not: the only hooks that see a connection before its handshake.
    @Override
    protected void allocateBuffers(WebSocket conn) throws InterruptedException {
        slots.opened();
        // On the selector thread, where the library accepts: the first accept makes the
        // selector known to the write wake-up.
        writeWake.register(((WebSocketImpl) conn).getSelectionKey().selector(), this);
        OwnedSocket owned = (OwnedSocket) conn;
        ServerWire wire = new ServerWire(owned, new ServerConnection(workers, requestSlots), requests, options.limits().maxMessageBytes(),
                options.limits().maxPendingReplyBytes(), budget, clientLog);
        owned.wire(wire);
        conn.setAttachment(wire.session());
        super.allocateBuffers(conn);
        if (!handshaking.admit(wire)) {
            // Before it could send anything: it costs an accept and a close, not a slot.
            clientLog.warn("Closing a connection from {}: {} handshakes already under way from that address",
                    conn.getRemoteSocketAddress(), options.limits().maxHandshakesPerAddress());
            ((WebSocketImpl) conn).closeConnection(CloseFrame.NEVER_CONNECTED, "too many handshakes from one address");
        }
    }

    /**
     * The library reads every socket into buffers made here, a fixed pool of at most
     * 2 x decoder threads + 1 of {@link #READ_BUFFER_BYTES} each, shared by all
     * connections and given back after each read is decoded. Its own are heap buffers, which the
     * JDK fills through a temporary direct buffer of its own, copying every byte received once
     * more; a direct buffer is filled by the socket read itself. Nothing keeps these buffers past
     * a read: the frame decoder copies (and unmasks) their bytes into the message's own buffer.
     */
    @Override
    public ByteBuffer createBuffer() {
        return ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
    }

    @Override
    protected void releaseBuffers(WebSocket conn) throws InterruptedException {
        // Called once per connection: the library closes a connection once, whatever the path.
        ServerWire wire = ((OwnedSocket) conn).wire();
        if (wire != null) {
            handshaking.done(wire);
            wire.release(); // gives back what its partly received frame and message held of the budget
        }
        ServerConnection session = conn.getAttachment();
        if (session != null && session.markGone()) {
            synchronized (openLock) {
                openConnections--;
            }
        }
        slots.closed();
        super.releaseBuffers(conn);
    }

    /**
     * Runs every quarter of the first-byte or handshake timeout, the shorter (at most every
     * second): asks again for frames stranded unwritten, and closes connections that sent nothing
     * in time or whose handshake is overdue (pings only cover connections that finished theirs).
     */
    private void sweep() {
        for (WebSocket conn : getConnections()) {
            ((OwnedSocket) conn).flushIfStuck();
        }
        SelectionKey listener = slots.acceptKey();
        if (listener != null && !listener.channel().isOpen() && !closing && failure == null) {
            // The library closes its listening socket when an accept fails (e.g. EMFILE despite
            // the slots' guard) and logs it only at TRACE: the port is dead, so say so and go down.
            fatal(new IllegalStateException("The listening socket was closed by the WebSocket library"));
        }
        handshaking.sweep((conn, reason) -> {
            log.debug("Closing {}: {}", conn.remoteAddress(), reason);
            conn.cut(CloseFrame.NEVER_CONNECTED, reason);
        });
    }

    /** On the selector thread: counts the reads handed to a decoder thread (see {@link OwnedSocket}). */
    @Override
    protected void queue(WebSocketImpl ws) throws InterruptedException {
        if (ws instanceof OwnedSocket owned) {
            owned.readQueued();
        }
        if (ws instanceof OwnedSocket owned && owned.handshaking() && owned.wire() != null) {
            handshaking.spoke(owned.wire());
        }
        super.queue(ws);
    }

    @Override
    public void onClosing(WebSocket conn, int code, String reason, boolean remote) {
        if (conn.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
            // A refused handshake (not HTTP, not an upgrade, too large): the library queues its
            // HTTP error answer but, with no draft chosen, never closes the socket and goes on
            // buffering what arrives. Close it once the answer has had time to go out.
            WebSocketImpl impl = (WebSocketImpl) conn;
            if (!housekeeping.later(50, () -> impl.closeConnection(CloseFrame.NEVER_CONNECTED, "handshake refused"))) {
                impl.closeConnection(CloseFrame.NEVER_CONNECTED, "server closing");
            }
        }
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        OwnedSocket owned = (OwnedSocket) conn;
        ServerWire wire = owned.wire();
        handshaking.done(wire);
        if (conn.getDraft() instanceof HandshakeDraft d && d.plainStatus() != 0) {
            // A health check or a refused handshake: the HTTP answer is written; hang up.
            ((WebSocketImpl) conn).flushAndClose(CloseFrame.NORMAL, "plain HTTP", false);
            return;
        }
        ServerConnection session = conn.getAttachment();
        if (!session.markOpen()) {
            return; // closed while it opened
        }
        synchronized (openLock) {
            openConnections++;
        }
        log.debug("Connection from {}", conn.getRemoteSocketAddress());
        HandshakeDraft draft = (HandshakeDraft) conn.getDraft();
        if (draft.acceptedImageCodec() != null) {
            session.conversation.decompressImages(budget);
        }
        // Before the library decodes the bytes behind the upgrade: from the first, they go to the wire.
        owned.openWire();
        wire.sendBinary(new EncodedMessage(List.of(ByteBuffer.wrap(core.metadataMessage()))));
        wire.flushSoon();
        IoLoop loop = ioLoop;
        if (loop != null) {
            // Without the wake-up pipe the library keeps the connection.
            writeWake.onSelector(() -> owned.handOver(loop));
        }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        // never called: the library is handed no frames (WireDraft); the connection's ServerWire reads them
    }

    /** Makes sure {@code conn}'s queued frames get written by the library's selector (see {@link OwnedSocket#flushSoon}). */
    void flushSoon(OwnedSocket conn) {
        if (!writeWake.demand(conn)) {
            housekeeping.later(1, conn::flushIfStuck);
        }
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
        log.debug("Connection from {} closed: {} {}", conn.getRemoteSocketAddress(), code, reason);
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (startup.failed(ex)) {
            // The server itself failed to start (e.g. the port is taken): start() throws it to
            // the caller, so it is not logged a second time here.
            log.debug("Policy server failed to start: {}", ex.toString());
            return;
        }
        Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
        if (conn == null || cause instanceof VirtualMachineError || cause instanceof LinkageError) {
            // The library calls this just before it stops the whole server (its selector thread
            // failed, or a decoder thread caught an Error such as OutOfMemoryError): the port is
            // about to die. Report the server down so that it does not live on serving no one.
            fatal(cause);
            return;
        }
        log.debug("Connection error from {}: {}", conn.getRemoteSocketAddress(), ex.toString());
    }

    /** Records the first fatal failure and hands it to the server, which closes itself. */
    private void fatal(Throwable cause) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = cause;
        }
        log.error("Policy server failed and is going down: {}", cause.toString());
        onFatal.accept(cause);
    }

    /**
     * The failure that brought the server down, or null.
     *
     * @return the failure
     */
    public Throwable failure() {
        return failure;
    }

    /**
     * Stops the library's server, then cuts what its stop leaves open: it waits a few milliseconds
     * for close handshakes and then leaves the sockets of unfinished ones open, and their clients
     * would wait for their own timeouts.
     *
     * @throws InterruptedException when interrupted while the library stops
     */
    public void stopAndCut() throws InterruptedException {
        List<WebSocket> open = new ArrayList<>(getConnections());
        try {
            stop(1000, "Server shutting down");
        } catch (ClosedSelectorException e) {
            // The library's stop races its own selector thread, which exits (closing the selector)
            // once the last connection is gone while stop still sends close frames to the rest.
        }
        for (WebSocket conn : open) {
            if (conn.getReadyState() != ReadyState.CLOSED) {
                ((WebSocketImpl) conn).closeConnection(CloseFrame.GOING_AWAY, "server stopped");
            }
        }
        IoLoop loop = ioLoop;
        if (loop != null) {
            loop.close();
        }
        writeWake.close();
    }
}
