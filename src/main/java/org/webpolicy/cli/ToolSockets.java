package org.webpolicy.cli;

import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
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
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.InvalidHandshakeException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.Handshakedata;

/**
 * The connections of the record proxy and the replay server: at most {@code maxConnections} at
 * once, open or still in their handshake (one more is refused with the library's 404), each
 * handshake done within {@code handshakeTimeout} or the socket is closed; and for the proxy, a
 * handshake that waits for something slow (the upstream's own handshake) without holding the
 * library's decoder thread, which every connection the library assigns to it shares.
 *
 * <p>The library answers a handshake on its decoder thread, in one call that must return the
 * answer. So a {@link Hold} sees the robot's upgrade request first, parsed from the bytes as they
 * arrive, starts what the answer depends on and returns; the bytes are kept (with any that follow)
 * and decoded, handshake callback and all, on the thread that completes the hold, when the answer
 * is known. Until then the decoder thread serves the other connections.
 */
final class ToolSockets implements WebSocketServerFactory {

    /** What a connection's handshake waits for. */
    interface Hold {
        /**
         * Starts what the answer to {@code request} depends on, without blocking (on a decoder thread).
         *
         * @param conn the robot's connection, not yet open
         * @param request its upgrade request
         * @return completes when the handshake may be answered
         */
        CompletionStage<?> start(WebSocket conn, ClientHandshake request);

        /**
         * The connection closed before its handshake was answered: release what {@link #start} began.
         *
         * @param conn the robot's connection
         */
        void abandoned(WebSocket conn);
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
    private final Set<Socket> live = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor timer;

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

    /**
     * Refuses a connection beyond the bound: call first thing in the handshake callback.
     *
     * @param conn the connection whose handshake is being answered
     * @throws InvalidDataException when it is one too many
     */
    void admit(WebSocket conn) throws InvalidDataException {
        if (conn instanceof Socket s && !s.admitted) {
            throw new InvalidDataException(CloseFrame.TRY_AGAIN_LATER,
                    "too many connections (" + maxConnections + " at most, open or in their handshake)");
        }
    }

    /** Connections held now, open or in their handshake. */
    int held() {
        live.removeIf(WebSocket::isClosed);
        return live.size();
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
        return createWebSocket(adapter, List.of(draft));
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
        boolean admitted = held() < maxConnections;
        Socket s = new Socket(adapter, drafts, admitted);
        if (admitted) {
            live.add(s);
        }
        timer.schedule(s::handshakeDeadline, handshakeTimeoutNanos, TimeUnit.NANOSECONDS);
        return s;
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) {
        return channel;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** One connection: its bytes go to the library, after its hold when there is one. */
    private final class Socket extends WebSocketImpl {
        final boolean admitted;
        /** Serializes decoding between the library's decoder thread and the thread that ends the hold. */
        private final Object decoding = new Object();
        /** Bytes kept while the hold is on (the upgrade request, and anything behind it). */
        private ByteBuffer kept;
        /** True once bytes go straight to the library. */
        private boolean passing;
        private boolean started;

        Socket(WebSocketAdapter adapter, List<Draft> drafts, boolean admitted) {
            super(adapter, drafts);
            this.admitted = admitted;
            // Refused connections go straight to the handshake callback, which refuses them.
            this.passing = hold == null || !admitted;
        }

        @Override
        public void decode(ByteBuffer bytes) {
            ClientHandshake request;
            synchronized (decoding) {
                if (passing) {
                    super.decode(bytes);
                    return;
                }
                if (!keep(bytes)) {
                    closeConnection(CloseFrame.TOOBIG, "upgrade request longer than " + MAX_HEAD_BYTES + " bytes");
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
                started = true;
            }
            CompletionStage<?> done;
            try {
                done = hold.start(this, request);
            } catch (RuntimeException e) {
                release();
                throw e;
            }
            done.whenComplete((v, e) -> release());
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
            try {
                Handshakedata h = Draft.translateHandshakeHttp(view, Role.SERVER);
                return h instanceof ClientHandshake c ? c : null;
            } catch (IncompleteHandshakeException e) {
                return null;
            }
        }

        /** The hold is over: the kept bytes go to the library, on this thread, and the rest as they come. */
        private void release() {
            boolean gone;
            synchronized (decoding) {
                gone = isClosed();
                if (!gone) {
                    try {
                        pass();
                    } catch (RuntimeException e) {
                        closeConnection(CloseFrame.UNEXPECTED_CONDITION, e.toString());
                    }
                }
                gone = !isOpen(); // closed, or refused by the handshake callback
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

        /** A connection still in its handshake when its time is up is closed; its hold, if any, abandoned. */
        void handshakeDeadline() {
            if (getReadyState() == ReadyState.NOT_YET_CONNECTED) {
                closeConnection(CloseFrame.ABNORMAL_CLOSE, "no handshake within the handshake timeout");
                live.remove(this);
                boolean wasHeld;
                synchronized (decoding) {
                    wasHeld = started && !passing;
                }
                if (wasHeld) {
                    hold.abandoned(this);
                }
            }
        }
    }
}
