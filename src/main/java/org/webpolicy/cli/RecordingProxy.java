package org.webpolicy.cli;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;
import org.webpolicy.record.Recorder;
import org.webpolicy.transport.protocol.Headers;

/**
 * {@code webpolicy record}'s proxy: robots connect to it, it connects each one to the upstream
 * server and forwards every frame both ways unchanged (the metadata frame, requests, replies,
 * error texts, close codes and reasons), recording each exchange as it passes. The robot's
 * {@code Authorization} and {@code X-Webpolicy-*} handshake headers go upstream; the upstream's
 * {@code X-Webpolicy-*} answer headers come back, so a client picks the same protocol form as
 * it would connected directly. An upstream that refuses the handshake is refused to the robot
 * with the upstream's own answer (its status, headers and body: a 401 for a wrong API key); an
 * upstream that cannot be reached gets the robot a {@code 502 Bad Gateway}, one that does not
 * answer in time a {@code 504 Gateway Timeout}, each with a text body saying why. A connection is
 * recorded from the robot's first request (see {@code docs/RECORDING.md}).
 *
 * <p>The upstream connection is made before the robot's handshake is answered, on the upstream
 * client's own thread ({@link ToolSockets} keeps the robot's upgrade request meanwhile): an
 * upstream that does not answer holds that robot only, up to the upstream timeout, never the
 * decoder thread other robots' connections share. At most {@code maxConnections} robots are held
 * at once, connected or waiting.
 */
final class RecordingProxy extends WebSocketServer {

    /** How long the upstream may take to accept a robot's connection by default. */
    static final Duration DEFAULT_UPSTREAM_TIMEOUT = Duration.ofSeconds(10);

    private final URI upstream;
    private final Recorder recorder;
    private final int maxMessageBytes;
    private final long upstreamTimeoutMs;
    private final ToolSockets sockets;

    RecordingProxy(InetSocketAddress listen, URI upstream, Recorder recorder, int maxMessageBytes) {
        this(listen, upstream, recorder, maxMessageBytes, Runtime.getRuntime().availableProcessors(),
                ToolSockets.DEFAULT_MAX_CONNECTIONS, DEFAULT_UPSTREAM_TIMEOUT);
    }

    /**
     * @param decoders the library's decoder threads, which the robots' connections share
     * @param maxConnections robots held at once, connected or in their handshake
     * @param upstreamTimeout how long the upstream may take to accept a robot's connection
     */
    RecordingProxy(InetSocketAddress listen, URI upstream, Recorder recorder, int maxMessageBytes, int decoders,
            int maxConnections, Duration upstreamTimeout) {
        super(listen, decoders, List.of(MessageLimit.draft(maxMessageBytes)));
        this.upstream = upstream;
        this.recorder = recorder;
        this.maxMessageBytes = maxMessageBytes;
        this.upstreamTimeoutMs = Math.max(1, upstreamTimeout.toMillis());
        // The handshake's own deadline leaves the upstream its whole time first.
        this.sockets = new ToolSockets(maxConnections, upstreamTimeout.plus(ToolSockets.DEFAULT_HANDSHAKE_TIMEOUT),
                new UpstreamHold(), "webpolicy-record-timer");
        setWebSocketFactory(sockets);
        setTcpNoDelay(true);
        setReuseAddr(true);
    }

    /**
     * Connects a robot to the upstream before its handshake is answered, so the answer carries the
     * upstream's headers, or refuses it as the upstream refused. The connection is made on the
     * upstream client's own thread; the robot's handshake is answered there when it resolves.
     */
    private final class UpstreamHold implements ToolSockets.Hold {
        @Override
        public CompletionStage<ToolSockets.Refusal> start(WebSocket conn, ClientHandshake request) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (Iterator<String> it = request.iterateHttpFields(); it.hasNext(); ) {
                String name = it.next();
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals(Headers.AUTHORIZATION.toLowerCase(Locale.ROOT)) || lower.startsWith(FORWARDED_PREFIX)) {
                    headers.put(name, request.getFieldValue(name));
                }
            }
            Upstream up = new Upstream(conn, headers);
            conn.setAttachment(up);
            sockets.timer().schedule(() -> up.giveUp(ToolSockets.Refusal.plain(504, "Gateway Timeout", "upstream " + upstream
                    + " did not accept the connection within " + upstreamTimeoutMs + " ms")), upstreamTimeoutMs, TimeUnit.MILLISECONDS);
            up.connect();
            return up.resolved;
        }

        @Override
        public void abandoned(WebSocket conn) {
            Upstream up = conn.getAttachment();
            if (up != null) {
                up.giveUp(null);
            }
        }
    }

    /** Handshake headers that go both ways: ours ({@code X-Webpolicy-*}), compared in lower case. */
    private static final String FORWARDED_PREFIX = "x-webpolicy-";

    @Override
    public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft, ClientHandshake request)
            throws InvalidDataException {
        // Only handshakes whose upstream accepted get here (ToolSockets refuses the others). One
        // whose upstream closed since is answered, then closed as the upstream closed (robotOpen).
        ServerHandshakeBuilder response = super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
        Upstream up = conn.getAttachment();
        if (up != null) {
            up.upstreamHeaders.forEach(response::put);
        }
        return response;
    }

    @Override
    public void stop(int timeout) throws InterruptedException {
        sockets.stopping();
        try {
            super.stop(timeout);
        } finally {
            sockets.stopped();
        }
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        Upstream up = conn.getAttachment();
        if (up != null) {
            up.robotOpen();
        }
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        Upstream up = conn.getAttachment();
        if (up != null) {
            up.request(message);
        }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        Upstream up = conn.getAttachment();
        if (up != null && up.isOpen()) {
            up.send(message);
        }
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
        Upstream up = conn.getAttachment();
        if (up != null) {
            up.robotClosed(code, reason);
        }
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (conn == null) {
            startFailure = ex; // the server could not listen (port taken, ...)
            started.countDown();
        }
        System.err.println("webpolicy record: " + (conn == null ? "" : conn.getRemoteSocketAddress() + ": ") + ex);
    }

    /** Counted down once the server listens: {@link #getPort()} is the bound port from then on. */
    final java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    /** Why the server could not start, if it could not. */
    volatile Exception startFailure;

    @Override
    public void onStart() {
        started.countDown();
    }

    /**
     * One robot's connection to the upstream server: forwards its frames to the robot and records
     * them. The connection is recorded at the robot's first request, with the upstream's metadata
     * (and the time it came): a robot that never sent one (it gave up during its handshake, on
     * its side or on ours, and may be back on another connection) leaves no connection in the
     * recording, which a replay would otherwise hand the next robot as an empty session.
     */
    private final class Upstream extends WebSocketClient {
        private final WebSocket robot;
        final Map<String, String> upstreamHeaders = new LinkedHashMap<>();
        /** Frames that came from upstream before the robot's side was open (the metadata, at least). */
        private final List<Object> early = new ArrayList<>();
        private boolean robotIsOpen;
        private long connection = -1;
        /** The upstream's first message, kept until the robot's first request records the connection. */
        private ByteBuffer metadata;
        private long metadataNanos;
        private List<ByteBuffer> pendingRequest;
        private long pendingNanos;
        private boolean closed;
        private int closeCode;
        private String closeReason;
        /** Completes when the upstream accepted the connection (null), refused it or was given up on (the robot's answer). */
        final CompletableFuture<ToolSockets.Refusal> resolved = new CompletableFuture<>();
        /** The upstream's own refusal of the upgrade, as its answer came (set by this connection's draft). */
        private final java.util.concurrent.atomic.AtomicReference<ToolSockets.Refusal> upstreamRefusal;
        /** Why the upstream is not there for this robot, once it is not. */
        private volatile String failure;

        Upstream(WebSocket robot, Map<String, String> headers) {
            this(robot, headers, new java.util.concurrent.atomic.AtomicReference<>());
        }

        private Upstream(WebSocket robot, Map<String, String> headers,
                java.util.concurrent.atomic.AtomicReference<ToolSockets.Refusal> refusal) {
            super(upstream, new UpstreamDraft(maxMessageBytes, refusal), headers, (int) Math.min(Integer.MAX_VALUE, upstreamTimeoutMs));
            this.robot = robot;
            this.upstreamRefusal = refusal;
            setTcpNoDelay(true);
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
            for (Iterator<String> it = handshake.iterateHttpFields(); it.hasNext(); ) {
                String name = it.next();
                if (name.toLowerCase(Locale.ROOT).startsWith("x-webpolicy-")) {
                    upstreamHeaders.put(name, handshake.getFieldValue(name));
                }
            }
            resolved.complete(null); // answers the robot's handshake, on this thread
        }

        /**
         * Stops waiting for the upstream (the robot, if it still waits, gets {@code answer}) and
         * closes its socket, which frees the upstream client's thread from a read that may never
         * return. A null answer: the robot is gone or refused already.
         */
        void giveUp(ToolSockets.Refusal answer) {
            if (!resolved.isDone()) {
                // Null: the robot's connection ended or was refused already; the refusal is not sent.
                ToolSockets.Refusal refusal = answer != null ? answer
                        : ToolSockets.Refusal.unavailable("the robot's connection ended before its handshake was answered");
                failure = refusal.describe();
                resolved.complete(refusal);
            }
            if (isOpen() && !robot.isOpen()) {
                close(CloseFrame.GOING_AWAY, failure == null ? "the robot left" : failure);
            } else if (!isOpen()) {
                try {
                    java.net.Socket s = getSocket();
                    if (s != null) {
                        s.close();
                    }
                } catch (java.io.IOException e) {
                    // closing: nothing left to do
                }
            }
        }

        synchronized void robotOpen() {
            robotIsOpen = true;
            for (Object frame : early) {
                forward(frame);
            }
            early.clear();
            if (closed) {
                closeRobot(closeCode, closeReason); // the upstream closed while the robot's handshake was answered
            }
        }

        synchronized void request(ByteBuffer message) {
            ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message.duplicate()).flip();
            long now = System.nanoTime();
            if (connection < 0 && metadata != null && !closed) {
                connection = recorder.connectionOpened(String.valueOf(robot.getRemoteSocketAddress()), upstreamHeaders,
                        List.of(metadata), metadataNanos);
                metadata = null;
            }
            // Writable heap copies: the chunk CRC reads their array (a read-only buffer is copied again for it).
            pendingRequest = List.of(copy);
            pendingNanos = now;
            if (isOpen()) {
                send(copy.duplicate());
            }
        }

        @Override
        public void onMessage(ByteBuffer message) {
            ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message).flip();
            synchronized (this) {
                if (closed) {
                    return;
                }
                long now = System.nanoTime();
                if (connection < 0 && metadata == null && pendingRequest == null) {
                    metadata = copy; // recorded with the robot's first request, if it makes one
                    metadataNanos = now;
                } else if (connection >= 0 && pendingRequest != null) {
                    recorder.exchanged(connection, pendingRequest, List.of(copy), pendingNanos, now);
                    pendingRequest = null;
                }
                deliver(copy.duplicate());
            }
        }

        @Override
        public void onMessage(String text) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (connection >= 0 && pendingRequest != null) {
                    recorder.failed(connection, pendingRequest, text, pendingNanos, System.nanoTime());
                    pendingRequest = null;
                }
                deliver(text);
            }
        }

        private void deliver(Object frame) {
            if (robotIsOpen) {
                forward(frame);
            } else {
                early.add(frame);
            }
        }

        private void forward(Object frame) {
            if (!robot.isOpen()) {
                return;
            }
            if (frame instanceof ByteBuffer b) {
                robot.send(b);
            } else {
                robot.send((String) frame);
            }
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
            if (!resolved.isDone()) {
                String why = failure != null ? failure
                        : "closed (" + code + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")";
                failure = why;
                ToolSockets.Refusal refusal = upstreamRefusal.get();
                resolved.complete(refusal != null ? refusal
                        : ToolSockets.Refusal.plain(502, "Bad Gateway", "upstream " + upstream + " could not be reached: " + why));
            }
            synchronized (this) {
                if (connection >= 0 && !closed) {
                    recorder.connectionClosed(connection, code, reason);
                }
                closed = true;
                closeCode = code;
                closeReason = reason;
                if (robotIsOpen) {
                    closeRobot(code, reason);
                }
            }
        }

        /** The robot sees the upstream's own close: 1011 after an error text, 1000, ... */
        private void closeRobot(int code, String reason) {
            if (!robot.isOpen()) {
                return;
            }
            if (code == CloseFrame.ABNORMAL_CLOSE || code == CloseFrame.NEVER_CONNECTED) {
                robot.closeConnection(code, reason);
            } else {
                robot.close(code, reason);
            }
        }

        synchronized void robotClosed(int code, String reason) {
            if (connection >= 0 && !closed) {
                recorder.connectionClosed(connection, code, reason);
            }
            closed = true;
            if (isOpen()) {
                close(code == CloseFrame.ABNORMAL_CLOSE ? CloseFrame.NORMAL : code, reason);
            }
        }

        @Override
        public void onError(Exception ex) {
            if (!resolved.isDone()) {
                failure = ex.toString();
            }
            System.err.println("webpolicy record: upstream " + upstream + ": " + ex);
        }
    }

    /**
     * The upstream client's protocol draft: the message bound, and the upstream's answer kept when
     * it refuses the upgrade (the library keeps only "Invalid status code received"), so the
     * robot gets the same status, headers and body.
     */
    private static final class UpstreamDraft extends org.java_websocket.drafts.Draft_6455 {
        private final int maxMessageBytes;
        private final java.util.concurrent.atomic.AtomicReference<ToolSockets.Refusal> refusal;

        UpstreamDraft(int maxMessageBytes, java.util.concurrent.atomic.AtomicReference<ToolSockets.Refusal> refusal) {
            super(List.of(), maxMessageBytes);
            this.maxMessageBytes = maxMessageBytes;
            this.refusal = refusal;
        }

        @Override
        public Draft copyInstance() {
            return new UpstreamDraft(maxMessageBytes, refusal);
        }

        @Override
        public org.java_websocket.handshake.Handshakedata translateHandshake(ByteBuffer buf)
                throws org.java_websocket.exceptions.InvalidHandshakeException {
            UpstreamRefusal answer = UpstreamRefusal.parse(buf);
            if (answer != null) {
                refusal.set(answer.refusal());
                if (!answer.complete()) {
                    // The rest of its head or body is still to come; the library keeps what is here.
                    throw new org.java_websocket.exceptions.IncompleteHandshakeException();
                }
            }
            return super.translateHandshake(buf); // refuses a status other than 101
        }
    }
}
