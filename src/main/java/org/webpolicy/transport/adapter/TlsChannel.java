package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.java_websocket.WrappedByteChannel;

/**
 * A server's TLS connection as a non-blocking byte channel: the JDK's {@link SSLEngine} over a
 * {@link SocketChannel}. The WebSocket library reads and writes it for the HTTP upgrade (the
 * library's {@link WrappedByteChannel} contract), and after the hand-over the {@link IoLoop} reads
 * it and the connection's {@link FrameWriter} writes it exactly as they do a plain socket.
 *
 * <p>What it holds is bounded and held only while needed: ciphertext read and not yet unwrapped
 * (at most {@link #RECORDS} records), plaintext unwrapped that did not fit the reader's buffer (one
 * record), ciphertext wrapped and not yet written ({@link #RECORDS} records). Buffers are let go
 * once empty, so an idle connection holds none.
 *
 * <p>A write counts plaintext as written only once its ciphertext is on the wire: when the socket
 * takes part of a batch of records, the batch's plaintext is handed back (the buffer's position is
 * reset) and counted on the next write of the same buffer, after the rest went out. The writer then
 * keeps the frame queued and its write interest set, and no ciphertext waits unseen. The TLS
 * handshake's own records (and post-handshake messages, the peer's key updates) are written by the
 * reading thread; when the socket cannot take them, {@link #hasPendingOutput} says so and the
 * owner of the socket's write interest asks for it ({@link #needWrite}).
 *
 * <p>Threads: one reader at a time (the library's selector thread, then the I/O loop), writers
 * serialized by the caller (the library's selector thread, then the {@link FrameWriter}'s lock);
 * wrapping and writing happen under one lock here, shared with the reader's handshake writes and
 * with {@link #close}. Delegated handshake tasks run on the reading thread.
 */
final class TlsChannel implements WrappedByteChannel {

    /** TLS records buffered at most in each direction. */
    static final int RECORDS = 4;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel socket;
    private final SSLEngine engine;
    private final Object inLock = new Object();
    private final Object outLock = new Object();

    /** Ciphertext read, not yet unwrapped (write mode); null when empty. */
    private ByteBuffer netIn;
    /** True when what {@link #netIn} holds is less than a record. */
    private boolean partial;
    /** True while the engine waits for its own records to be written before it unwraps more. */
    private volatile boolean stalled;
    /** Plaintext unwrapped that did not fit the reader's buffer (read mode); null when empty. */
    private ByteBuffer appIn;
    private boolean inboundDone;

    /** Ciphertext wrapped, not yet written (read mode); null when empty. */
    private ByteBuffer netOut;
    /** The buffer whose plaintext {@link #netOut} carries, and how much of it. */
    private ByteBuffer heldSrc;
    private int heldBytes;
    private boolean closed;

    /** The library's key while the library reads; null after the hand-over. */
    private volatile SelectionKey libraryKey;

    /**
     * Wraps an accepted, non-blocking socket.
     *
     * @param socket the accepted socket
     * @param engine a server-mode engine, its handshake not begun
     * @param libraryKey the WebSocket library's key for the socket, for write interest during the
     *     handshake (null when nobody else asks for it)
     */
    TlsChannel(SocketChannel socket, SSLEngine engine, SelectionKey libraryKey) {
        if (engine.getUseClientMode()) {
            throw new IllegalArgumentException("a server's TLS channel needs a server-mode SSLEngine");
        }
        this.socket = socket;
        this.engine = engine;
        this.libraryKey = libraryKey;
    }

    /** The socket under the TLS. */
    SocketChannel socket() {
        return socket;
    }

    /**
     * On the library's selector thread, at the hand-over: the library reads no more plaintext
     * from here (its extra reads find nothing), and write interest is the new owner's business.
     */
    void leaveLibrary() {
        libraryKey = null;
    }

    // ---- reading ----

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return read(dst, true);
    }

    private int read(ByteBuffer dst, boolean fromSocket) throws IOException {
        synchronized (inLock) {
            if (!socket.isOpen()) {
                throw new ClosedChannelException();
            }
            int n = drainApp(dst);
            boolean socketEmpty = !fromSocket;
            while (appIn == null && dst.hasRemaining() && !inboundDone) {
                if (stalled) {
                    synchronized (outLock) {
                        pump();
                    }
                }
                n += unwrap(dst);
                if (appIn != null || !dst.hasRemaining() || inboundDone || socketEmpty) {
                    break;
                }
                if (stalled && netIn != null && !netIn.hasRemaining()) {
                    throw new SSLException("the peer goes on sending while it leaves our TLS handshake records unread");
                }
                int r = readSocket();
                if (r < 0) {
                    endOfStream();
                    break;
                }
                if (r == 0) {
                    break;
                }
                // Less than the room there was: the socket has no more now, so unwrap and stop.
                socketEmpty = netIn.hasRemaining();
            }
            return n == 0 && inboundDone && appIn == null ? -1 : n;
        }
    }

    private int readSocket() throws IOException {
        int packet = engine.getSession().getPacketBufferSize();
        if (netIn == null) {
            netIn = ByteBuffer.allocate(RECORDS * packet);
        } else if (!netIn.hasRemaining()) {
            if (netIn.capacity() >= RECORDS * packet) {
                throw new SSLException("a TLS record longer than " + netIn.capacity() + " bytes");
            }
            netIn = ByteBuffer.allocate(RECORDS * packet).put(netIn.flip());
        }
        int r = socket.read(netIn);
        if (r > 0) {
            partial = false;
        } else if (netIn.position() == 0) {
            netIn = null; // nothing came: an idle connection holds no buffer
        }
        return r;
    }

    /** The peer closed TCP: with close_notify before it that is a close; without, a truncation. */
    private void endOfStream() {
        inboundDone = true;
        try {
            engine.closeInbound();
        } catch (SSLException e) {
            // No close_notify: the connection ends all the same; nothing after it can be trusted.
        }
    }

    /** Unwraps what {@link #netIn} holds into {@code dst} (or {@link #appIn} when it does not fit). */
    private int unwrap(ByteBuffer dst) throws IOException {
        if (netIn == null || partial || stalled) {
            return 0;
        }
        int n = 0;
        netIn.flip();
        try {
            while (netIn.hasRemaining() && appIn == null && dst.hasRemaining()) {
                int appSize = engine.getSession().getApplicationBufferSize();
                boolean direct = dst.remaining() >= appSize;
                ByteBuffer target = direct ? dst : ByteBuffer.allocate(appSize);
                SSLEngineResult res = engine.unwrap(netIn, target);
                if (direct) {
                    n += res.bytesProduced();
                } else if (res.bytesProduced() > 0) {
                    appIn = target.flip();
                    n += drainApp(dst);
                }
                switch (res.getStatus()) {
                    case BUFFER_UNDERFLOW -> {
                        partial = true;
                        return n;
                    }
                    case BUFFER_OVERFLOW -> {
                        // The session's sizes grew with the handshake: the next turn uses the new one.
                        if (!direct && target.capacity() >= engine.getSession().getApplicationBufferSize()) {
                            throw new SSLException("unwrap overflowed " + target.capacity() + " bytes");
                        }
                    }
                    case CLOSED -> {
                        inboundDone = true; // close_notify: the reply to it goes with close()
                        return n;
                    }
                    default -> {
                    }
                }
                handshake(res.getHandshakeStatus());
                if (res.bytesConsumed() == 0 && res.getStatus() == SSLEngineResult.Status.OK) {
                    stalled = true; // until the socket takes our handshake records (pump)
                    return n;
                }
            }
            return n;
        } finally {
            netIn.compact();
            if (netIn.position() == 0) {
                netIn = null;
            }
        }
    }

    private int drainApp(ByteBuffer dst) {
        if (appIn == null) {
            return 0;
        }
        int n = Math.min(appIn.remaining(), dst.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        if (!appIn.hasRemaining()) {
            appIn = null;
        }
        return n;
    }

    /** Bytes read and not yet given to a reader: read again before waiting for the socket. */
    boolean hasBufferedInput() {
        synchronized (inLock) {
            return appIn != null || (netIn != null && netIn.position() > 0 && !partial && !stalled);
        }
    }

    // ---- the handshake ----

    private void handshake(HandshakeStatus status) throws IOException {
        HandshakeStatus hs = status;
        while (true) {
            switch (hs) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case NEED_WRAP -> {
                    boolean written;
                    synchronized (outLock) {
                        written = pump();
                    }
                    if (!written) {
                        askLibraryToWrite();
                        return;
                    }
                }
                default -> {
                    return;
                }
            }
            hs = engine.getHandshakeStatus();
        }
    }

    /**
     * Under the out lock: writes what waits, then wraps and writes the engine's own records
     * (handshake, alerts) while it has any.
     *
     * @return true when nothing is left unwritten
     */
    private boolean pump() throws IOException {
        while (true) {
            if (!flushNet()) {
                return false;
            }
            if (closed || engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP) {
                stalled = false;
                return true;
            }
            SSLEngineResult res = wrapInto(EMPTY);
            if (res.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                Runnable task;
                while ((task = engine.getDelegatedTask()) != null) {
                    task.run();
                }
            }
            if (res.bytesProduced() == 0 && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                return flushNet(); // nothing came of it: do not spin
            }
        }
    }

    /** During the library's part only: its selector writes what waits when the socket allows. */
    private void askLibraryToWrite() {
        SelectionKey key = libraryKey;
        if (key == null) {
            return; // after the hand-over the I/O loop asks (hasPendingOutput)
        }
        try {
            key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
        } catch (CancelledKeyException e) {
            // closed meanwhile
        }
    }

    // ---- writing ----

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (outLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            if (!pump()) {
                return 0;
            }
            int done = 0;
            if (heldSrc != null) {
                // Its ciphertext is out now: its plaintext counts as written.
                if (heldSrc == src) {
                    src.position(src.position() + heldBytes);
                    done = heldBytes;
                }
                heldSrc = null;
                heldBytes = 0;
            }
            ByteBuffer batch = null;
            while (src.hasRemaining()) {
                int before = src.position();
                int packet = engine.getSession().getPacketBufferSize();
                if (batch == null || batch.capacity() < packet) {
                    // As many records as the data needs, up to RECORDS: a small reply costs one.
                    int appSize = engine.getSession().getApplicationBufferSize();
                    long records = Math.min(RECORDS, (src.remaining() + appSize - 1L) / appSize);
                    batch = ByteBuffer.allocate((int) Math.max(1, records) * packet);
                }
                netOut = batch.clear();
                while (src.hasRemaining() && netOut.remaining() >= packet) {
                    SSLEngineResult res = engine.wrap(src, netOut);
                    if (res.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new ClosedChannelException();
                    }
                    if (res.bytesConsumed() == 0) {
                        break; // mid-handshake: no application data yet
                    }
                }
                netOut.flip();
                int wrapped = src.position() - before;
                if (!flushNet()) {
                    src.position(before);
                    heldSrc = src;
                    heldBytes = wrapped;
                    return done;
                }
                done += wrapped;
                if (wrapped == 0) {
                    break;
                }
            }
            return done;
        }
    }

    /** Under the out lock: one record of the engine's own into an empty {@link #netOut}, unwritten. */
    private SSLEngineResult wrapInto(ByteBuffer src) throws IOException {
        netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult res = engine.wrap(src, netOut);
        netOut.flip();
        return res;
    }

    /** Under the out lock: writes what {@link #netOut} holds; true when all of it went. */
    private boolean flushNet() throws IOException {
        if (netOut == null) {
            return true;
        }
        while (netOut.hasRemaining()) {
            if (socket.write(netOut) == 0) {
                return false;
            }
        }
        netOut = null;
        return true;
    }

    /**
     * Ciphertext of the engine's own (handshake, key update) that the socket has not taken yet:
     * the owner of the socket's write interest asks for it and calls {@link #flush}.
     */
    boolean hasPendingOutput() {
        synchronized (outLock) {
            return !closed && heldSrc == null && (netOut != null || engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP);
        }
    }

    /**
     * Writes what waits of the engine's own records.
     *
     * @return true when nothing is left unwritten
     * @throws IOException when the socket fails
     */
    boolean flush() throws IOException {
        synchronized (outLock) {
            return closed || pump();
        }
    }

    /**
     * Sends close_notify if the socket takes it now, then closes the socket. Nothing waits for
     * the peer's answer: the connection is over either way.
     */
    @Override
    public void close() throws IOException {
        synchronized (outLock) {
            if (closed) {
                return;
            }
            try {
                engine.closeOutbound();
                if (heldSrc == null && flushNet()) {
                    wrapInto(EMPTY);
                    flushNet();
                }
            } catch (IOException | RuntimeException e) {
                // The close goes on without the close_notify.
            } finally {
                closed = true;
                netOut = null;
                socket.close();
            }
        }
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    // ---- the library's contract ----

    @Override
    public boolean isNeedWrite() {
        synchronized (outLock) {
            return !closed && (netOut != null || engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP);
        }
    }

    @Override
    public void writeMore() throws IOException {
        flush();
    }

    @Override
    public boolean isNeedRead() {
        return libraryKey != null && hasBufferedInput();
    }

    @Override
    public int readMore(ByteBuffer dst) throws IOException {
        if (libraryKey == null) {
            return 0; // handed over: the I/O loop reads what is buffered
        }
        return read(dst, false);
    }

    @Override
    public boolean isBlocking() {
        return socket.isBlocking();
    }
}
