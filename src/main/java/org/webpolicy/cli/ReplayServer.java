package org.webpolicy.cli;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.java_websocket.WebSocket;
import org.java_websocket.drafts.Draft;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.record.RecordedConnection;
import org.webpolicy.record.RecordedExchange;
import org.webpolicy.record.RecordingReader;
import org.webpolicy.transport.protocol.Envelope;

/**
 * {@code webpolicy replay}'s server: answers robots with a recording's replies, byte for byte.
 * Each robot connection takes the next recorded connection (in order, starting over after the
 * last) with its handshake headers and metadata message. In {@link Match#ORDER} each request gets
 * the next recorded reply of that connection; in {@link Match#CONTENT} the reply recorded for the
 * same observation (the same bytes, request ids aside), repeats in recorded order. A recorded
 * failure is sent again as it was (its text, then 1011). With timing on, each reply waits for the
 * recorded latency. Where the robot's request carries another request id than the recorded one,
 * the reply is re-encoded with the robot's id (the only case where bytes change).
 */
final class ReplayServer extends WebSocketServer {

    /** How a request finds its reply. */
    enum Match { ORDER, CONTENT }

    static final String OUT_OF_RECORDING = "The recording holds no more replies for this connection";
    private static final String ID = Envelope.REQUEST_ID;
    private static final String OP = Envelope.OP;

    private final Match match;
    private final boolean timing;
    private final MsgpackCodec codec = new MsgpackCodec();
    private final List<RecordedConnection> connections = new ArrayList<>();
    private final Map<Long, List<RecordedExchange>> byConnection = new LinkedHashMap<>();
    private final Map<String, List<RecordedExchange>> byContent = new HashMap<>();
    private final AtomicLong nextConnection = new AtomicLong();
    private final ScheduledExecutorService delays = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "webpolicy-replay-timing");
        t.setDaemon(true);
        return t;
    });
    final String truncation;
    final int exchanges;

    private final ToolSockets sockets;

    ReplayServer(InetSocketAddress listen, Path recording, Match match, boolean timing, int maxMessageBytes)
            throws java.io.IOException {
        this(listen, recording, match, timing, maxMessageBytes, ToolSockets.DEFAULT_MAX_CONNECTIONS);
    }

    /** @param maxConnections robots held at once, connected or in their handshake; one more is refused */
    ReplayServer(InetSocketAddress listen, Path recording, Match match, boolean timing, int maxMessageBytes,
            int maxConnections) throws java.io.IOException {
        this(listen, recording, match, timing, maxMessageBytes, maxConnections, ToolSockets.DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /**
     * @param maxConnections robots held at once, connected or in their handshake; one more is refused
     * @param handshakeTimeout a connection whose handshake is not done by then is closed
     */
    ReplayServer(InetSocketAddress listen, Path recording, Match match, boolean timing, int maxMessageBytes,
            int maxConnections, java.time.Duration handshakeTimeout) throws java.io.IOException {
        super(listen, List.of(MessageLimit.draft(maxMessageBytes)));
        this.sockets = new ToolSockets(maxConnections, handshakeTimeout, null, "webpolicy-replay-timer");
        setWebSocketFactory(sockets);
        this.match = match;
        this.timing = timing;
        setTcpNoDelay(true);
        setReuseAddr(true);
        int n = 0;
        try (RecordingReader reader = RecordingReader.open(recording)) {
            for (RecordedExchange x = reader.next(); x != null; x = reader.next()) {
                if (!x.sent()) {
                    continue; // failed before it went out: the server never answered it
                }
                byConnection.computeIfAbsent(x.connection(), k -> new ArrayList<>()).add(x.withoutRequest());
                if (match == Match.CONTENT) {
                    byContent.computeIfAbsent(contentKey(x.request()), k -> new ArrayList<>()).add(x.withoutRequest());
                }
                n++;
            }
            truncation = reader.truncation();
            connections.addAll(reader.connections().values());
        }
        connections.sort((a, b) -> Long.compare(a.id(), b.id()));
        if (connections.isEmpty()) {
            throw new IllegalArgumentException(recording + " holds no recorded connection");
        }
        exchanges = n;
    }

    /** What a robot's connection is replaying. */
    private static final class Session {
        final RecordedConnection recorded;
        final ArrayDeque<RecordedExchange> next;
        final Map<String, Integer> seen = new HashMap<>();

        Session(RecordedConnection recorded, List<RecordedExchange> exchanges) {
            this.recorded = recorded;
            this.next = new ArrayDeque<>(exchanges);
        }
    }

    @Override
    public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft, ClientHandshake request)
            throws InvalidDataException {
        // Past ToolSockets: admitted, and not refused. A recorded connection is taken here, and
        // the library opens the robot's connection right after this returns.
        RecordedConnection recorded = connections.get((int) (nextConnection.getAndIncrement() % connections.size()));
        List<RecordedExchange> inOrder = match == Match.ORDER ? byConnection.getOrDefault(recorded.id(), List.of()) : List.of();
        conn.setAttachment(new Session(recorded, inOrder));
        ServerHandshakeBuilder response = super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
        recorded.handshake().forEach(response::put);
        return response;
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        Session s = conn.getAttachment();
        conn.send(s.recorded.metadata());
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        Session s = conn.getAttachment();
        long arrived = System.nanoTime();
        byte[] request = new byte[message.remaining()];
        message.get(request);
        RecordedExchange x;
        synchronized (s) {
            x = match == Match.ORDER ? s.next.poll() : byContent(s, request);
        }
        if (x == null) {
            conn.send(match == Match.ORDER ? OUT_OF_RECORDING + " (it has "
                    + byConnection.getOrDefault(s.recorded.id(), List.of()).size() + ")"
                    : "No recorded request has this observation (" + request.length + " bytes)");
            conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
            return;
        }
        Runnable answer = () -> answer(conn, request, x);
        long wait = timing ? (x.replyTimeNs() - x.requestTimeNs()) - (System.nanoTime() - arrived) : 0;
        if (wait > 0) {
            delays.schedule(answer, wait, TimeUnit.NANOSECONDS);
        } else {
            answer.run();
        }
    }

    private RecordedExchange byContent(Session s, byte[] request) {
        String key = contentKey(request);
        List<RecordedExchange> candidates = byContent.get(key);
        if (candidates == null) {
            return null;
        }
        int i = s.seen.merge(key, 1, Integer::sum) - 1;
        return candidates.get(Math.min(i, candidates.size() - 1));
    }

    private void answer(WebSocket conn, byte[] request, RecordedExchange x) {
        if (!conn.isOpen()) {
            return;
        }
        if (x.reply() == null) {
            conn.send(x.failure() == null ? "The recorded request failed" : x.failure());
            conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
            return;
        }
        conn.send(withRequestId(request, x.reply()));
    }

    /** The recorded reply, its request id replaced by the robot's where they differ. */
    @SuppressWarnings("unchecked")
    private byte[] withRequestId(byte[] request, byte[] reply) {
        Object id = requestId(request);
        if (id == null) {
            return reply;
        }
        Object decoded = codec.unpack(reply.clone());
        if (!(decoded instanceof Map<?, ?> map) || id.equals(map.get(ID))) {
            return reply;
        }
        Map<String, Object> fixed = new LinkedHashMap<>((Map<String, Object>) map);
        fixed.put(ID, id);
        return codec.pack(fixed);
    }

    private Object requestId(byte[] request) {
        try {
            return codec.unpack(request.clone()) instanceof Map<?, ?> m ? m.get(ID) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A digest of the request's observation (or the whole request when it is not an envelope step), ids left out. */
    private String contentKey(byte[] request) {
        byte[] basis = request;
        try {
            if (codec.unpack(request.clone()) instanceof Map<?, ?> m && m.get(OP) != null) {
                Map<Object, Object> copy = new LinkedHashMap<>(m);
                copy.remove(ID);
                basis = codec.pack(copy);
            }
        } catch (RuntimeException e) {
            // not msgpack: its bytes are the key
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(basis));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
        conn.send("The replay server takes binary requests only");
        conn.close(CloseFrame.UNEXPECTED_CONDITION, Envelope.ERROR_REASON);
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
        if (conn == null) {
            startFailure = ex; // the server could not listen (port taken, ...)
            started.countDown();
        }
        System.err.println("webpolicy replay: " + (conn == null ? "" : conn.getRemoteSocketAddress() + ": ") + ex);
    }

    /** Counted down once the server listens: {@link #getPort()} is the bound port from then on. */
    final java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    /** Why the server could not start, if it could not. */
    volatile Exception startFailure;

    @Override
    public void onStart() {
        started.countDown();
    }

    @Override
    public void stop(int timeout) throws InterruptedException {
        delays.shutdownNow();
        sockets.stopping();
        try {
            super.stop(timeout);
        } finally {
            sockets.stopped();
        }
    }
}
