package org.webpolicy.transport;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.DefaultSSLWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java-WebSocket side of the server: connections, handshakes, messages in and replies out.
 * What a request means is the {@link ProtocolCore}'s business; this class moves its bytes and
 * decides, where the library's own behaviour is unsafe, what happens instead (each place says why).
 */
final class ServerEndpoint extends WebSocketServer {

    private static final Logger log = LoggerFactory.getLogger(PolicyServer.class);

    private final ServerOptions options;
    private final ProtocolCore core;
    private final ThreadPoolExecutor workers;
    private final Housekeeping housekeeping;
    private final ClientLog clientLog;
    /** Connections accepted whose handshake has not finished, with when they were accepted. */
    private final Map<WebSocket, Long> handshaking = new ConcurrentHashMap<>();
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile Exception startFailure;
    private volatile int openConnections;
    private final Object openLock = new Object();
    volatile boolean closing;

    ServerEndpoint(ServerOptions options, ProtocolCore core, ThreadPoolExecutor workers, Housekeeping housekeeping,
            ClientLog clientLog) {
        this(options, core, workers, housekeeping, clientLog, new Admission(options.apiKey));
    }

    private ServerEndpoint(ServerOptions options, ProtocolCore core, ThreadPoolExecutor workers, Housekeeping housekeeping,
            ClientLog clientLog, Admission admission) {
        super(new InetSocketAddress(options.host, options.port), decoderThreads(),
                List.of(new HandshakeDraft(admission, options.maxMessageBytes)));
        admission.endpoint = this;
        this.options = options;
        this.core = core;
        this.workers = workers;
        this.housekeeping = housekeeping;
        this.clientLog = clientLog;
        setTcpNoDelay(true);
        setReuseAddr(true);
        setReceiveBufferSize(PolicyServer.READ_BUFFER_BYTES);
        setConnectionLostTimeout((int) Math.max(1, options.pingInterval.toSeconds()));
        if (options.sslContext != null) {
            setWebSocketFactory(new DefaultSSLWebSocketServerFactory(options.sslContext));
        }
    }

    /** The handshake gate's questions, answered by this endpoint once it exists. */
    private static final class Admission implements HandshakeDraft.Gate {
        private final byte[] apiKey;
        private volatile ServerEndpoint endpoint;

        Admission(byte[] apiKey) {
            this.apiKey = apiKey;
        }

        @Override
        public byte[] apiKey() {
            return apiKey;
        }

        @Override
        public boolean full() {
            return endpoint.full();
        }
    }

    private static int decoderThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /** Waits until the port is bound; throws with the reason when it could not be. */
    void awaitStarted() throws InterruptedException {
        if (!started.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Server did not start within 30 s");
        }
        if (startFailure != null) {
            throw new IllegalStateException("Could not start the policy server on " + options.host + ":" + options.port
                    + ": " + startFailure.getMessage(), startFailure);
        }
    }

    int openConnections() {
        return openConnections;
    }

    boolean full() {
        return openConnections >= options.maxConnections || closing;
    }

    @Override
    public void onStart() {
        long every = Math.max(10, Math.min(1000, options.handshakeTimeout.toMillis() / 4));
        housekeeping.every(every, this::sweep);
        started.countDown();
    }

    // The library creates a connection's buffers when it accepts it and releases them when it
    // closes, handshake or not: the only hooks that see a connection before its handshake.
    @Override
    protected void allocateBuffers(WebSocket conn) throws InterruptedException {
        handshaking.put(conn, System.nanoTime());
        super.allocateBuffers(conn);
    }

    @Override
    protected void releaseBuffers(WebSocket conn) throws InterruptedException {
        handshaking.remove(conn);
        super.releaseBuffers(conn);
    }

    /**
     * The library writes on its selector thread and can lose a write queued from another thread:
     * when its selector finds the queue empty just before we queue a frame and asks for write
     * readiness, it then withdraws that request, and the frame waits for the next event on the
     * connection (up to a ping interval). Fuzzing caught a reply stuck this way. Look again
     * shortly after every send (and every sweep) and ask again when frames wait unwritten.
     */
    void flushSoon(WebSocket conn) {
        housekeeping.later(1, () -> flushIfStuck(conn));
    }

    private void flushIfStuck(WebSocket conn) {
        WebSocketImpl impl = (WebSocketImpl) conn;
        SelectionKey key = impl.getSelectionKey();
        try {
            if (!impl.outQueue.isEmpty() && key != null && key.isValid()
                    && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                onWriteDemand(conn);
            }
        } catch (CancelledKeyException e) {
            // closed meanwhile
        }
    }

    /**
     * Runs every quarter of the handshake timeout (at most every second): asks again for frames
     * stranded unwritten, and closes connections whose handshake is overdue (pings only cover
     * connections that finished theirs).
     */
    private void sweep() {
        for (WebSocket conn : getConnections()) {
            flushIfStuck(conn);
        }
        long now = System.nanoTime();
        long limit = options.handshakeTimeout.toNanos();
        handshaking.forEach((conn, since) -> {
            if (conn.getReadyState() != ReadyState.NOT_YET_CONNECTED) {
                handshaking.remove(conn);
            } else if (now - since > limit) {
                handshaking.remove(conn);
                log.debug("Closing {}: no handshake within {} ms", conn.getRemoteSocketAddress(),
                        options.handshakeTimeout.toMillis());
                ((WebSocketImpl) conn).closeConnection(CloseFrame.NEVER_CONNECTED, "handshake timeout");
            }
        });
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
        handshaking.remove(conn);
        if (conn.getDraft() instanceof HandshakeDraft d && d.plainStatus() != 0) {
            // A health check or a refused handshake: the HTTP answer is written; hang up.
            ((WebSocketImpl) conn).flushAndClose(CloseFrame.NORMAL, "plain HTTP", false);
            return;
        }
        ServerConnection session = new ServerConnection(workers);
        conn.setAttachment(session);
        synchronized (openLock) {
            openConnections++;
        }
        log.debug("Connection from {}", conn.getRemoteSocketAddress());
        conn.send(core.metadataMessage());
        flushSoon(conn);
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        ServerConnection session = conn.getAttachment();
        if (session == null) {
            return;
        }
        session.queued.incrementAndGet();
        try {
            session.requests.execute(() -> handle(conn, session, message));
        } catch (RejectedExecutionException e) {
            session.queued.decrementAndGet();
            fail(conn, session, "The server is shutting down; request not run.");
        }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        ServerConnection session = conn.getAttachment();
        if (session != null) {
            fail(conn, session, "Requests must be binary msgpack frames; got a text frame");
        }
    }

    private void handle(WebSocket conn, ServerConnection session, ByteBuffer message) {
        try {
            if (session.closed) {
                return;
            }
            if (closing) {
                throw new RequestFailure("The server is shutting down; request not run.");
            }
            List<ByteBuffer> reply = core.answer(session.conversation, message);
            if (!session.closed) {
                conn.sendFrame(new EncodedMessage(reply));
                flushSoon(conn);
                session.conversation.replySent();
            }
        } catch (RuntimeException | Error e) {
            fail(conn, session, ProtocolCore.describe(e));
        } finally {
            session.queued.decrementAndGet();
        }
    }

    /** Sends the reason as a text frame, then closes with 1011, as the Python servers do. */
    private void fail(WebSocket conn, ServerConnection session, String text) {
        if (session.closed) {
            return;
        }
        session.closed = true;
        clientLog.warn("Request from {} failed; closing the connection: {}", conn.getRemoteSocketAddress(),
                ClientText.firstLine(text));
        try {
            conn.send(text);
            conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
            flushSoon(conn);
        } catch (RuntimeException e) {
            log.debug("Could not report the failure to {}: {}", conn.getRemoteSocketAddress(), e.toString());
        }
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
        ServerConnection session = conn.getAttachment();
        if (session == null) {
            return;
        }
        session.closed = true;
        synchronized (openLock) {
            openConnections--;
        }
        log.debug("Connection from {} closed: {} {}", conn.getRemoteSocketAddress(), code, reason);
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (conn == null) {
            // The server itself failed (e.g. the port is taken).
            startFailure = ex;
            started.countDown();
            log.error("Policy server failed: {}", ex.toString());
            return;
        }
        log.debug("Connection error from {}: {}", conn.getRemoteSocketAddress(), ex.toString());
    }

    /**
     * Stops the library's server, then cuts what its stop leaves open: it waits a few milliseconds
     * for close handshakes and then leaves the sockets of unfinished ones open, and their clients
     * would wait for their own timeouts.
     */
    void stopAndCut() throws InterruptedException {
        List<WebSocket> open = new ArrayList<>(getConnections());
        stop(1000, "Server shutting down");
        for (WebSocket conn : open) {
            if (conn.getReadyState() != ReadyState.CLOSED) {
                ((WebSocketImpl) conn).closeConnection(CloseFrame.GOING_AWAY, "server stopped");
            }
        }
    }
}
