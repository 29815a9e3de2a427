package org.webpolicy.cli;

import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.enums.Role;
import org.java_websocket.exceptions.IncompleteHandshakeException;
import org.java_websocket.exceptions.InvalidHandshakeException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.Handshakedata;
import org.webpolicy.transport.adapter.HandshakeDraft;

/**
 * The connections of the record proxy and the replay server: at most {@code maxConnections} at
 * once, open or still in their handshake, each handshake done within {@code handshakeTimeout} or
 * the socket is closed; and for the proxy, a handshake that waits for something slow (the
 * upstream's own handshake) without holding the library's decoder thread, which every connection
 * the library assigns to it shares.
 *
 * <p>Every upgrade request is read here first, parsed from the bytes as they arrive, before the
 * library sees it. One that is refused gets a plain HTTP answer written here (the library's own
 * answer to any refusal is a 404): {@code 503 Service Unavailable} for one connection too many or
 * a tool shutting down, or what a {@link Hold} decides (the proxy: the upstream's own refusal, or
 * {@code 502}/{@code 504} when the upstream cannot be reached), each with a short text body
 * saying why. The others go to the library, which answers them on its decoder thread in one call
 * that must return the answer; so a {@link Hold} starts what the answer depends on and returns,
 * the bytes are kept (with any that follow) and decoded, handshake callback and all, on the thread
 * that completes the hold. Until then the decoder thread serves the other connections.
 */
final class ToolSockets implements WebSocketServerFactory {

    /** What a connection's handshake waits for. */
    interface Hold {
        /**
         * Starts what the answer to {@code request} depends on, without blocking (on a decoder thread).
         *
         * @param conn the robot's connection, not yet open
         * @param request its upgrade request
         * @return completes when the handshake may be answered: with null to upgrade it, or the
         *     refusal to send instead
         */
        CompletionStage<Refusal> start(WebSocket conn, ClientHandshake request);

        /**
         * The connection closed, or was refused, before its handshake was answered: release what
         * {@link #start} began.
         *
         * @param conn the robot's connection
         */
        void abandoned(WebSocket conn);
    }

    /**
     * A plain HTTP answer instead of the upgrade: the status, its reason phrase, headers and a body.
     *
     * @param status the HTTP status
     * @param phrase its reason phrase
     * @param headers header lines to send (name, value), besides Content-Length and Connection
     * @param body the body's bytes
     */
    record Refusal(int status, String phrase, List<Map.Entry<String, String>> headers, byte[] body) {

        /** The answer for one connection too many, or a tool shutting down. */
        static Refusal unavailable(String why) {
            return plain(503, "Service Unavailable", why);
        }

        /**
         * A refusal with a text body.
         *
         * @param status the HTTP status
         * @param phrase its reason phrase
         * @param why the body: what the robot is told
         * @return the refusal
         */
        static Refusal plain(int status, String phrase, String why) {
            return new Refusal(status, phrase, List.of(Map.entry("Content-Type", "text/plain; charset=utf-8")),
                    (phrase + ": " + why + "\n").getBytes(StandardCharsets.UTF_8));
        }

        /** The whole answer, head and body. */
        ByteBuffer bytes() {
            StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(phrase).append("\r\n");
            for (Map.Entry<String, String> h : headers) {
                head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
            }
            head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
            byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
            return ByteBuffer.allocate(h.length + body.length).put(h).put(body).flip();
        }

        /** The status line and the body's first line, for a log or a close reason. */
        String describe() {
            String text = new String(body, StandardCharsets.UTF_8);
            int eol = text.indexOf('\n');
            return status + " " + phrase + (text.isBlank() ? "" : " (" + (eol >= 0 ? text.substring(0, eol) : text).trim() + ")");
        }
    }

    /** The most bytes an upgrade request may take before it is complete; longer ones are cut. */
    static final int MAX_HEAD_BYTES = 64 << 10;
    /** How many connections the tools hold at once by default (open or in their handshake). */
    static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** How long a connection may take to complete its handshake by default. */
    static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(15);

    private final int maxConnections;
    private final long handshakeTimeoutNanos;
    private final Hold hold;
    /** Every connection not yet closed, answered or not. */
    private final Set<Socket> live = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor timer;
    /** Set once the tool stops: handshakes not yet answered, and any that arrive, are refused. */
    private volatile boolean stopping;

    /**
     * @param maxConnections connections held at once, open or in their handshake
     * @param handshakeTimeout how long a handshake may take, hold included
     * @param hold what handshakes wait for, or null to answer them at once
     * @param name the timer thread's name
     */
    ToolSockets(int maxConnections, Duration handshakeTimeout, Hold hold, String name) {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1, got " + maxConnections);
        }
        this.maxConnections = maxConnections;
        this.handshakeTimeoutNanos = handshakeTimeout.toNanos();
        this.hold = hold;
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /** The timer the tools' own deadlines run on (one daemon thread). */
    ScheduledExecutorService timer() {
        return timer;
    }

    /** Connections held now, open or in their handshake (refused ones not counted). */
    int held() {
        // The library marks a connection closed only after closing its socket and telling the tool.
        live.removeIf(s -> s.isClosed() || s.getChannel() != null && !s.getChannel().isOpen());
        int n = 0;
        for (Socket s : live) {
            if (s.admitted && !s.refused) {
                n++;
            }
        }
        return n;
    }

    /**
     * The tool is stopping: every handshake not yet answered is refused with 503 (a held one's
     * hold abandoned), and so is any that arrives from now on. Call before the library's
     * {@code stop}, then {@link #stopped} after it.
     */
    void stopping() {
        stopping = true;
        for (Socket s : live) {
            s.refuse(Refusal.unavailable("the tool is shutting down"));
        }
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
        return createWebSocket(adapter, List.of(draft));
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
        boolean admitted = held() < maxConnections;
        Socket s = new Socket(adapter, drafts, admitted);
        live.add(s);
        timer.schedule(s::handshakeDeadline, handshakeTimeoutNanos, TimeUnit.NANOSECONDS);
        return s;
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) {
        return channel;
    }

    /** Called by the library as it stops: the timer ends. */
    @Override
    public void close() {
        timer.shutdownNow();
    }

    /**
     * The library has stopped (after {@link #stopping} and its {@code stop}): connections whose
     * handshake was never answered, which its selector no longer closes, are closed here.
     */
    void stopped() {
        timer.shutdownNow();
        for (Socket s : live) {
            if (s.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
                s.refuse(Refusal.unavailable("the tool is shutting down"));
                s.closeConnection(CloseFrame.GOING_AWAY, "the tool stopped");
            }
        }
        live.clear();
    }

    /** One connection: its bytes go to the library once its upgrade request is read and not refused, after its hold if any. */
    private final class Socket extends WebSocketImpl {
        final boolean admitted;
        /** Serializes decoding between the library's decoder thread and the thread that ends the hold. */
        private final Object decoding = new Object();
        /** Bytes kept until the upgrade request is whole and, with a hold, until the hold is over. */
        private ByteBuffer kept;
        /** Bytes of {@link #kept} already scanned for the head's blank line, without finding it. */
        private int scanned;
        /** True once bytes go straight to the library. */
        private boolean passing;
        private boolean started;
        /** True once a plain HTTP refusal was written instead of the upgrade: later bytes are ignored. */
        volatile boolean refused;

        Socket(WebSocketAdapter adapter, List<Draft> drafts, boolean admitted) {
            super(adapter, drafts);
            this.admitted = admitted;
        }

        @Override
        public void decode(ByteBuffer bytes) {
            ClientHandshake request;
            synchronized (decoding) {
                if (passing) {
                    super.decode(bytes);
                    return;
                }
                if (refused) {
                    bytes.position(bytes.limit());
                    return;
                }
                if (!keep(bytes)) {
                    refuseLocked(new Refusal(431, "Request Header Fields Too Large", List.of(),
                            ("Request Header Fields Too Large: the upgrade request is over " + MAX_HEAD_BYTES + " bytes\n")
                                    .getBytes(StandardCharsets.UTF_8)));
                    return;
                }
                if (started) {
                    return;
                }
                try {
                    request = head();
                } catch (InvalidHandshakeException e) {
                    pass(); // the library refuses it as it would any bad request
                    return;
                }
                if (request == null) {
                    return; // more of the head to come
                }
                if (stopping) {
                    refuseLocked(Refusal.unavailable("the tool is shutting down"));
                    return;
                }
                if (!admitted) {
                    refuseLocked(Refusal.unavailable("too many connections (" + maxConnections
                            + " at most, open or in their handshake)"));
                    return;
                }
                if (hold == null) {
                    pass();
                    return;
                }
                started = true;
            }
            CompletionStage<Refusal> done;
            try {
                done = hold.start(this, request);
            } catch (RuntimeException e) {
                release(Refusal.plain(500, "Internal Server Error", e.toString()));
                throw e;
            }
            done.whenComplete((refusal, e) -> release(e != null ? Refusal.plain(500, "Internal Server Error", e.toString())
                    : refusal));
        }

        /** Keeps {@code bytes}; false when that makes more than a head may take. */
        private boolean keep(ByteBuffer bytes) {
            int n = bytes.remaining();
            if (kept == null) {
                kept = ByteBuffer.allocate(Math.max(n, 1024));
            }
            if (kept.position() + n > MAX_HEAD_BYTES) {
                return false;
            }
            if (kept.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.min(MAX_HEAD_BYTES, Math.max(kept.capacity() * 2, kept.position() + n)));
                kept.flip();
                bigger.put(kept);
                kept = bigger;
            }
            kept.put(bytes);
            return true;
        }

        /** The upgrade request when all of it is here, else null. */
        private ClientHandshake head() throws InvalidHandshakeException {
            ByteBuffer view = kept.duplicate().flip();
            // Not parsed until whole: a parse costs far more than the scan (HandshakeDraft). The
            // scan starts where the last one ended, less a blank line's first three bytes, so a
            // head sent a byte at a time is scanned once, not once per byte.
            if (HandshakeDraft.headBytes(view.duplicate().position(Math.max(0, scanned - 3))) < 0) {
                scanned = view.limit();
                return null;
            }
            try {
                Handshakedata h = Draft.translateHandshakeHttp(view, Role.SERVER);
                return h instanceof ClientHandshake c ? c : null;
            } catch (IncompleteHandshakeException e) {
                return null;
            }
        }

        /**
         * The hold is over: the kept bytes go to the library, on this thread, and the rest as they
         * come; or the refusal is written instead.
         */
        private void release(Refusal refusal) {
            boolean gone;
            synchronized (decoding) {
                if (refusal != null) {
                    refuseLocked(refusal);
                } else if (!isClosed() && !refused) {
                    try {
                        pass();
                    } catch (RuntimeException e) {
                        closeConnection(CloseFrame.UNEXPECTED_CONDITION, e.toString());
                    }
                }
                gone = !isOpen(); // closed, refused here, or refused by the handshake callback
            }
            if (gone && hold != null) {
                hold.abandoned(this);
            }
        }

        private void pass() {
            passing = true;
            ByteBuffer b = kept == null ? ByteBuffer.allocate(0) : kept.flip();
            kept = null;
            if (b.hasRemaining()) {
                super.decode(b);
            }
        }

        /**
         * Refuses the upgrade with a plain HTTP answer if it has not been answered yet.
         *
         * @return true when this call refused it
         */
        boolean refuse(Refusal refusal) {
            boolean wasHeld;
            synchronized (decoding) {
                if (passing || refused || isClosed()) {
                    return false;
                }
                wasHeld = started;
                refuseLocked(refusal);
            }
            if (wasHeld) {
                hold.abandoned(this);
            }
            return true;
        }

        /**
         * Writes the refusal and half-closes: the robot reads the answer and an end of stream,
         * closes its side, and the library then closes this one (or the handshake deadline, or
         * {@link #close} once the tool stopped, does). Closing at once would reset a connection
         * whose request bytes are still unread, and the robot could lose the answer. Written
         * here, not queued for the library's selector: nothing else writes to a connection whose
         * handshake was not answered, a fresh socket's send buffer takes a few hundred bytes at
         * once, and a tool that is stopping has no selector left to write them.
         */
        private void refuseLocked(Refusal refusal) {
            if (refused || passing || isClosed()) {
                return;
            }
            refused = true;
            kept = null;
            ByteBuffer answer = refusal.bytes();
            try {
                if (getChannel() instanceof SocketChannel ch && ch.isOpen()) {
                    for (int i = 0; i < 100 && answer.hasRemaining(); i++) {
                        ch.write(answer);
                    }
                    ch.shutdownOutput();
                }
            } catch (java.io.IOException e) {
                closeConnection(CloseFrame.NEVER_CONNECTED, "refused (" + refusal.describe() + "), the robot gone: " + e);
            }
        }

        /** A connection still in its handshake when its time is up is closed; its hold, if any, abandoned. */
        void handshakeDeadline() {
            if (getReadyState() == ReadyState.NOT_YET_CONNECTED) {
                boolean wasHeld;
                synchronized (decoding) {
                    wasHeld = started && !passing && !refused;
                }
                live.remove(this); // first: its slot is free as soon as the robot can see the close
                closeConnection(CloseFrame.ABNORMAL_CLOSE, "no handshake within the handshake timeout");
                if (wasHeld) {
                    hold.abandoned(this);
                }
            }
        }
    }
}
