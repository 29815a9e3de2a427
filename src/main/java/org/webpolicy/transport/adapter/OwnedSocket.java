package org.webpolicy.transport.adapter;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.Opcode;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.webpolicy.transport.server.ServerWire;
import org.webpolicy.transport.server.WireConnection;

/**
 * A server connection ({@code ws://}, or {@code wss://} through a {@link TlsChannel}) whose socket the server takes over from the WebSocket
 * library once its handshake is done: the library's selector and decoder threads cost two thread
 * hand-offs per read and another per reply, which on a robot's request-reply cycle is most of the
 * CPU a request takes. The library keeps the HTTP upgrade and its liveness pings; the frames
 * after the upgrade are the connection's {@link ServerWire}'s, which {@link WireDraft} hands
 * every byte (through {@link #decode}, on the library's decoder thread before the hand-over and on
 * the {@link IoLoop} after it).
 *
 * <p>Every send entry point goes through one {@link FrameWriter} per connection, before the hand-over
 * too (then into the library's queue, as the library would). The hand-over runs on the library's
 * selector thread ({@link #handOver}): its key is cancelled, so it reads no more, its queue moves
 * into our writer, and the {@link IoLoop} starts reading once the library's decoder thread has
 * decoded every read the library queued before the cancel: nothing is lost or reordered.
 *
 * <p>It is a {@link WebSocketImpl} because the library's server factory must return one for the
 * handshake, and the hand-over reads the library's key and queue ({@code getSelectionKey},
 * {@code outQueue}), which its public API does not otherwise offer; this class is the one place
 * that does. The server side sees it only as a {@link WireConnection}.
 */
public final class OwnedSocket extends WebSocketImpl implements WireConnection {

    /** Where every frame sent on this connection goes, before and after the hand-over. */
    public final FrameWriter writer = new FrameWriter();
    /** Reads the library queued for its decoder thread; counted on the library's selector thread. */
    private long readsQueued;
    /** Reads the library's decoder thread has decoded. */
    private final AtomicLong readsDecoded = new AtomicLong();
    /** Reads the library queued before its key was cancelled; -1 until the hand-over. */
    private volatile long handOverAt = -1;
    private final AtomicBoolean reading = new AtomicBoolean();
    private volatile IoLoop loop;
    /** The connection's WebSocket after the upgrade; set when the library accepts it. */
    private volatile ServerWire wire;
    /** Set once the upgrade is done and the wire reads the bytes after it ({@link #openWire}). */
    private volatile boolean wireOpen;

    /**
     * A connection as the library would make it; the hand-over comes after its handshake.
     *
     * @param listener the library's server, told of the connection's events
     * @param drafts the drafts the handshake may use
     */
    public OwnedSocket(WebSocketAdapter listener, List<Draft> drafts) {
        super(listener, drafts);
    }

    /**
     * Gives the connection its WebSocket, when the library accepts it.
     *
     * @param to the wire
     */
    public void wire(ServerWire to) {
        wire = to;
    }

    /**
     * The upgrade is done: from now on, every byte the client sends goes to the wire. Called in
     * the library's open callback, before it decodes the bytes that came behind the upgrade.
     */
    public void openWire() {
        if (getDraft() instanceof WireDraft draft) {
            draft.bind(wire);
            wireOpen = true;
        }
    }

    /**
     * The connection's WebSocket.
     *
     * @return the wire, or null before the library accepted the connection
     */
    public ServerWire wire() {
        return wire;
    }

    /** On the library's selector thread: one more read is handed to its decoder thread. */
    void readQueued() {
        readsQueued++;
    }

    /**
     * On the library's selector thread: takes the socket over, unless the connection is already
     * closing (the library then finishes its close as it would). Under the connection's lock,
     * which the library's close takes too: a close is either wholly before (no hand-over) or
     * its close frame and flush-and-close both reach our writer.
     *
     * @param ioLoop the loop that reads the socket from now on
     * @return true when the socket is now ours
     */
    public synchronized boolean handOver(IoLoop ioLoop) {
        SelectionKey key = getSelectionKey();
        if (!isOpen() || isFlushAndClose() || key == null || !key.isValid()) {
            return false;
        }
        loop = ioLoop;
        if (getChannel() instanceof TlsChannel tls) {
            tls.leaveLibrary();
        }
        writer.adopt(key, getChannel(), outQueue);
        handOverAt = readsQueued;
        startReadingWhenDecoded();
        return true;
    }

    private void startReadingWhenDecoded() {
        long at = handOverAt;
        if (at >= 0 && readsDecoded.get() >= at && reading.compareAndSet(false, true)) {
            loop.adopt(this);
        }
    }

    /** The socket: the library's key is cancelled after the hand-over, its channel is not. */
    SocketChannel socket() {
        return (SocketChannel) getSelectionKey().channel();
    }

    /** What bytes are read from and written to: the socket, or the TLS channel around it. */
    ByteChannel channel() {
        return getChannel();
    }

    /**
     * Decodes bytes read from the socket, on the library's decoder thread before the hand-over
     * and on the {@link IoLoop} after it; counts the library's reads to know when the loop may
     * start reading. An {@link OutOfMemoryError} while decoding cuts this connection only.
     *
     * @param socketBuffer the bytes read
     */
    @Override
    public void decode(ByteBuffer socketBuffer) {
        try {
            super.decode(socketBuffer);
        } catch (OutOfMemoryError e) {
            // This connection's bytes (its handshake, or what the wire handed on): cut it, and the
            // thread decoding it serves the others.
            socketBuffer.position(socketBuffer.limit());
            ServerWire w = wire;
            if (w != null) {
                w.outOfMemory(e);
            } else {
                closeConnection(CloseFrame.TRY_AGAIN_LATER, "out of memory while decoding this connection's bytes");
            }
        } finally {
            if (!reading.get()) {
                readsDecoded.incrementAndGet();
                startReadingWhenDecoded();
            }
        }
    }

    /**
     * Bytes sent and not yet written, counted up to just past {@code enough}.
     *
     * @param enough the count past which counting stops: all the caller needs to know is whether it is exceeded
     * @return the bytes counted, in this writer and the library's queue
     */
    public long pendingBytes(long enough) {
        long total = writer.queuedBytes();
        for (ByteBuffer frame : outQueue) {
            total += frame.remaining();
            if (total > enough) {
                break;
            }
        }
        return total;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return getRemoteSocketAddress();
    }

    @Override
    public boolean handshaking() {
        return getReadyState() == ReadyState.NOT_YET_CONNECTED;
    }

    @Override
    public void write(List<ByteBuffer> frames) {
        if (!isOpen()) {
            throw new IllegalStateException("the connection is closed");
        }
        writeEncoded(frames);
    }

    @Override
    public void closeWhenFlushed(int code, String reason, boolean remote) {
        flushAndClose(code, reason, remote);
    }

    @Override
    public void cut(int code, String reason) {
        closeConnection(code, reason);
    }

    @Override
    public void alive() {
        updateLastPong();
    }

    /**
     * The library closes connections itself while the server stops (and the I/O loop on a bug in
     * decoding): once the connection is open, its wire sends the close frame and closes the socket.
     */
    @Override
    public void close(int code, String message, boolean remote) {
        ServerWire w = wire;
        if (w != null && wireOpen && !remote && getReadyState() == ReadyState.OPEN) {
            w.close(code, message == null ? "" : message);
            return;
        }
        super.close(code, message, remote);
    }

    /**
     * Before the hand-over the library writes on its selector thread and can lose a write queued
     * from another thread: when its selector finds the queue empty just before we queue a frame
     * and asks for write readiness, it then withdraws that request, and the frame waits for the
     * next event on the connection (up to a ping interval). Fuzzing caught a reply stuck this way.
     * After every send the selector thread itself asks again for write readiness where frames
     * wait ({@link WriteWake}), which no withdrawal can race; only without the wake-up pipe, a
     * timer looks again 1 ms later. After the hand-over none of this is needed: the
     * {@link FrameWriter} cannot lose a write.
     */
    @Override
    public void flushSoon() {
        if (!writer.owned() && getWebSocketListener() instanceof ServerEndpoint endpoint) {
            endpoint.flushSoon(this);
        }
    }

    /**
     * Asks the library's selector to write this connection when frames wait in its queue and it
     * is not watching for write readiness: the re-check after {@link #flushSoon} and the sweep's.
     */
    void flushIfStuck() {
        SelectionKey key = getSelectionKey();
        try {
            if (!writer.owned() && !outQueue.isEmpty() && key != null && key.isValid()
                    && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                getWebSocketListener().onWriteDemand(this);
            }
        } catch (CancelledKeyException e) {
            // closed meanwhile
        }
    }

    @Override
    public void send(String text) {
        if (text == null) {
            throw new IllegalArgumentException("Cannot send null text");
        }
        sendFrames(getDraft().createFrames(text, false));
    }

    @Override
    public void send(ByteBuffer bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("Cannot send null bytes");
        }
        sendFrames(getDraft().createFrames(bytes, false));
    }

    @Override
    public void send(byte[] bytes) {
        send(ByteBuffer.wrap(bytes));
    }

    @Override
    public void sendFragmentedFrame(Opcode op, ByteBuffer buffer, boolean fin) {
        sendFrames(getDraft().continuousFrame(op, buffer, fin));
    }

    @Override
    public void sendFrame(Collection<Framedata> frames) {
        sendFrames(frames);
    }

    @Override
    public void sendFrame(Framedata framedata) {
        sendFrames(Collections.singletonList(framedata));
    }

    private void sendFrames(Collection<Framedata> frames) {
        if (!isOpen()) {
            throw new WebsocketNotConnectedException();
        }
        if (frames == null) {
            throw new IllegalArgumentException("frames must not be null");
        }
        List<ByteBuffer> encoded = new ArrayList<>(frames.size());
        for (Framedata f : frames) {
            encoded.add(getDraft().createBinaryFrame(f));
        }
        writeEncoded(encoded);
    }

    private void writeEncoded(List<ByteBuffer> encoded) {
        after(writer.writeOr(encoded, () -> {
            outQueue.addAll(encoded);
            getWebSocketListener().onWriteDemand(this);
        }));
    }

    /**
     * Starts the library's closing as it would; once the close frame is written (by whichever
     * thread writes it), the socket is closed as the library's own writer does.
     */
    @Override
    public synchronized void flushAndClose(int code, String message, boolean remote) {
        boolean first = !isFlushAndClose();
        super.flushAndClose(code, message, remote);
        if (first && writer.owned()) {
            after(writer.closeWhenFlushed());
        }
    }

    @Override
    public synchronized void closeConnection(int code, String message, boolean remote) {
        super.closeConnection(code, message, remote);
        writer.discard();
        IoLoop l = loop;
        if (l != null) {
            l.wakeup(); // the loop's next select lets go of the closed socket's descriptor
        }
    }

    /** Acts on what the writer said, outside its lock: a close runs on the loop, later. */
    void after(FrameWriter.After next) {
        switch (next) {
            case CLOSE_FLUSHED -> loop.closeSoon(this::closeConnection);
            case CLOSE_FAILED -> loop.closeSoon(() -> closeConnection(CloseFrame.ABNORMAL_CLOSE,
                    String.valueOf(writer.failure()), false));
            default -> {
            }
        }
    }
}
