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
 * too (the library answers that with 404, whatever the upstream's status).
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
        public CompletionStage<?> start(WebSocket conn, ClientHandshake request) {
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
            sockets.timer().schedule(() -> up.giveUp("did not accept within " + upstreamTimeoutMs + " ms"),
                    upstreamTimeoutMs, TimeUnit.MILLISECONDS);
            up.connect();
            return up.resolved;
        }

        @Override
        public void abandoned(WebSocket conn) {
            Upstream up = conn.getAttachment();
            if (up != null) {
                up.giveUp("the robot left before its handshake was answered");
            }
        }
    }

    /** Handshake headers that go both ways: ours ({@code X-Webpolicy-*}), compared in lower case. */
    private static final String FORWARDED_PREFIX = "x-webpolicy-";

    @Override
    public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft, ClientHandshake request)
            throws InvalidDataException {
        sockets.admit(conn);
        Upstream up = conn.getAttachment();
        if (up == null || !up.isOpen()) {
            String why = up == null || up.failure == null ? "did not accept" : up.failure;
            throw new InvalidDataException(CloseFrame.TRY_AGAIN_LATER, "upstream " + upstream + ": " + why);
        }
        ServerHandshakeBuilder response = super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
        up.upstreamHeaders.forEach(response::put);
        return response;
    }

    @Override
    public void stop(int timeout) throws InterruptedException {
        try {
            super.stop(timeout);
        } finally {
            sockets.close();
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

    /** One robot's connection to the upstream server: forwards its frames to the robot and records them. */
    private final class Upstream extends WebSocketClient {
        private final WebSocket robot;
        final Map<String, String> upstreamHeaders = new LinkedHashMap<>();
        /** Frames that came from upstream before the robot's side was open (the metadata, at least). */
        private final List<Object> early = new ArrayList<>();
        private boolean robotIsOpen;
        private long connection = -1;
        private List<ByteBuffer> pendingRequest;
        private long pendingNanos;
        private boolean closed;
        /** Completes when the upstream accepted the connection, refused it or was given up on. */
        final CompletableFuture<Void> resolved = new CompletableFuture<>();
        /** Why the upstream is not there for this robot, once it is not. */
        volatile String failure;

        Upstream(WebSocket robot, Map<String, String> headers) {
            super(upstream, MessageLimit.draft(maxMessageBytes), headers, (int) Math.min(Integer.MAX_VALUE, upstreamTimeoutMs));
            this.robot = robot;
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
         * Stops waiting for the upstream (the robot is refused, if it still waits) and closes its
         * socket, which frees the upstream client's thread from a read that may never return.
         */
        void giveUp(String why) {
            if (!resolved.isDone()) {
                failure = why;
                resolved.complete(null);
            }
            if (isOpen() && !robot.isOpen()) {
                close(CloseFrame.GOING_AWAY, why);
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
        }

        synchronized void request(ByteBuffer message) {
            ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message.duplicate()).flip();
            pendingRequest = List.of(copy.asReadOnlyBuffer());
            pendingNanos = System.nanoTime();
            if (isOpen()) {
                send(copy);
            }
        }

        @Override
        public void onMessage(ByteBuffer message) {
            ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message).flip();
            synchronized (this) {
                if (closed) {
                    return; // the robot left (before the upstream's metadata, even): no connection to record
                }
                long now = System.nanoTime();
                if (connection < 0) {
                    connection = recorder.connectionOpened(String.valueOf(robot.getRemoteSocketAddress()),
                            upstreamHeaders, List.of(copy.asReadOnlyBuffer()));
                } else if (pendingRequest != null) {
                    recorder.exchanged(connection, pendingRequest, List.of(copy.asReadOnlyBuffer()), pendingNanos, now);
                    pendingRequest = null;
                }
                deliver(copy);
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
                failure = failure != null ? failure : "closed (" + code + (reason == null || reason.isEmpty() ? "" : " " + reason) + ")";
                resolved.complete(null);
            }
            synchronized (this) {
                if (connection >= 0 && !closed) {
                    recorder.connectionClosed(connection, code, reason);
                }
                closed = true;
            }
            if (robot.isOpen()) {
                // The robot sees the upstream's own close: 1011 after an error text, 1000, ...
                if (code == CloseFrame.ABNORMAL_CLOSE || code == CloseFrame.NEVER_CONNECTED) {
                    robot.closeConnection(code, reason);
                } else {
                    robot.close(code, reason);
                }
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
}
