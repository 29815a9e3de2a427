package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.java_websocket.framing.CloseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.server.RequestRunner;

/**
 * Reads and writes the sockets of owned connections ({@link OwnedSocket}) on a thread of its own,
 * one {@link Selector} per loop. Each read lands in one direct scratch buffer (the socket read
 * fills it without a temporary copy) and is decoded at once, on this thread: the frame decoder
 * copies and unmasks the bytes into the message's own buffer, within the inbound budget, so the
 * scratch buffer is free again when {@code decode} returns. No decoder thread, no buffer pool.
 * A {@code wss://} connection is read through its {@link TlsChannel}, which decrypts straight into
 * the scratch buffer: the same path, the same bounds.
 *
 * <p>The loop never runs a policy: a complete request goes to the worker pool
 * ({@link RequestRunner}), so a slow policy stalls no socket. A connection gets a bounded number
 * of reads per turn, so one that sends without pause does not starve the others. Decoding a
 * connection's bytes is charged to the inbound budget before it allocates, and an
 * {@link OutOfMemoryError} while decoding them anyway cuts that connection only
 * ({@link org.webpolicy.transport.server.ServerWire#outOfMemory}); any other Error here takes the
 * server down, as one on the library's threads does.
 */
public final class IoLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);
    /** The scratch buffer: a camera observation arrives in a few reads. */
    static final int SCRATCH_BYTES = 1 << 20;
    /** Reads of one connection per turn of the loop, at most. */
    static final int READS_PER_TURN = 4;

    private final Selector selector;
    private final Thread thread;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(SCRATCH_BYTES);
    private final Queue<OwnedSocket> arriving = new ConcurrentLinkedQueue<>();
    private final Queue<Runnable> closes = new ConcurrentLinkedQueue<>();
    /**
     * TLS connections holding bytes read and not yet given out (their turn's reads ran out, or the
     * hand-over left some): read again next turn, without waiting for the socket, which may have
     * nothing more to say. Only the loop's thread touches it.
     */
    private List<SelectionKey> again = new ArrayList<>();
    private List<SelectionKey> againNext = new ArrayList<>();
    private final Consumer<Throwable> onFatal;
    private volatile boolean closed;

    /** The loop's thread: the writer asks for write interest without a wake-up from it. */
    private static final class LoopThread extends Thread {
        LoopThread(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    /**
     * Opens the selector and starts the thread.
     *
     * @param name the thread's name
     * @param onFatal told of an Error on the loop; the server goes down
     * @throws IOException when no selector can be opened
     */
    public IoLoop(String name, Consumer<Throwable> onFatal) throws IOException {
        this.selector = Selector.open();
        this.onFatal = onFatal;
        this.thread = new LoopThread(this::run, name);
        thread.start();
    }

    /** True on any I/O loop's thread. */
    static boolean onLoopThread() {
        return Thread.currentThread() instanceof LoopThread;
    }

    /** Takes a connection whose earlier reads are all decoded: the loop reads it from now on. */
    void adopt(OwnedSocket conn) {
        arriving.add(conn);
        selector.wakeup();
        if (closed) {
            conn.closeConnection(CloseFrame.GOING_AWAY, "server stopped");
        }
    }

    /**
     * Closes a connection on the loop, soon: the library's close may be under way on the calling
     * thread (it marks the connection closing after it flushed), and closing inside it would
     * have the library close the connection twice. The library's own writer closes on its
     * selector thread for the same reason.
     */
    void closeSoon(Runnable close) {
        closes.add(close);
        selector.wakeup();
        if (closed) {
            runCloses();
        }
    }

    private void runCloses() {
        Runnable close;
        while ((close = closes.poll()) != null) {
            close.run();
        }
    }

    /** Wakes the loop (e.g. to let go of a closed socket). */
    void wakeup() {
        if (!onLoopThread()) {
            selector.wakeup();
        }
    }

    private void run() {
        try {
            while (!closed) {
                if (again.isEmpty()) {
                    selector.select();
                } else {
                    selector.selectNow();
                }
                register();
                runCloses();
                List<SelectionKey> buffered = again;
                again = againNext;
                againNext = buffered;
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    buffered.remove(key); // served now
                    serve(key, true);
                }
                for (SelectionKey key : buffered) {
                    serve(key, false);
                }
                buffered.clear();
            }
        } catch (ClosedSelectorException e) {
            // closed with the server
        } catch (IOException | RuntimeException e) {
            fatal(e);
        } catch (VirtualMachineError | LinkageError e) {
            fatal(e);
        } finally {
            closeAll();
        }
    }

    private void fatal(Throwable e) {
        if (closed) {
            return;
        }
        log.error("I/O loop {} failed: {}", thread.getName(), e.toString());
        onFatal.accept(e);
    }

    private void register() {
        OwnedSocket conn;
        while ((conn = arriving.poll()) != null) {
            try {
                SelectionKey key = conn.socket().register(selector, SelectionKey.OP_READ, conn);
                conn.writer.attach(key);
                afterTurn(key, conn);
            } catch (ClosedChannelException e) {
                // closed while it was handed over: the close has run already
            }
        }
    }

    /**
     * Serves one connection's turn.
     *
     * @param selected true when the selector reported it ready now; false for a TLS connection
     *     that holds bytes read before (its key's ready set is from an earlier turn)
     */
    private void serve(SelectionKey key, boolean selected) {
        OwnedSocket conn = (OwnedSocket) key.attachment();
        try {
            if (selected && key.isValid() && key.isWritable()) {
                conn.after(conn.writer.onWritable());
            }
            if (key.isValid() && ((selected && key.isReadable()) || buffered(conn))) {
                read(key, conn);
            }
            afterTurn(key, conn);
        } catch (CancelledKeyException e) {
            // closed by another thread meanwhile
        } catch (IOException e) {
            key.cancel();
            conn.closeConnection(CloseFrame.ABNORMAL_CLOSE, e.getMessage());
        } catch (RuntimeException e) {
            // A bug in decoding one connection's bytes: that connection closes, as the library's
            // decoder thread does; the loop serves the others.
            log.error("Error while decoding from {}: {}", conn.getRemoteSocketAddress(), e.toString());
            conn.close(CloseFrame.UNEXPECTED_CONDITION, "internal error");
        }
    }

    private static boolean buffered(OwnedSocket conn) {
        return conn.channel() instanceof TlsChannel tls && tls.hasBufferedInput();
    }

    /**
     * A TLS connection may hold what the socket no longer signals: bytes read and not yet given
     * out (read again next turn) and records of the TLS engine's own that the socket did not take
     * (its writer asks for write interest).
     */
    private void afterTurn(SelectionKey key, OwnedSocket conn) {
        if (!(conn.channel() instanceof TlsChannel tls) || !key.isValid()) {
            return;
        }
        if (tls.hasBufferedInput() && !again.contains(key)) {
            again.add(key);
        }
        if (tls.hasPendingOutput()) {
            conn.writer.channelOutputWaits();
        }
    }

    private void read(SelectionKey key, OwnedSocket conn) throws IOException {
        for (int i = 0; i < READS_PER_TURN && key.isValid(); i++) {
            scratch.clear();
            int n = conn.channel().read(scratch);
            if (n < 0) {
                conn.eot();
                return;
            }
            if (n == 0) {
                return;
            }
            scratch.flip();
            conn.decode(scratch);
            if (n < SCRATCH_BYTES) {
                return; // the socket had no more
            }
        }
    }

    /** Closes every connection the loop still serves, and the selector. */
    private void closeAll() {
        closed = true;
        try {
            for (SelectionKey key : selector.keys()) {
                if (key.attachment() instanceof OwnedSocket conn) {
                    conn.closeConnection(CloseFrame.GOING_AWAY, "server stopped");
                }
            }
        } catch (ClosedSelectorException e) {
            // closed already
        }
        OwnedSocket conn;
        while ((conn = arriving.poll()) != null) {
            conn.closeConnection(CloseFrame.GOING_AWAY, "server stopped");
        }
        runCloses();
        try {
            selector.close();
        } catch (IOException e) {
            // going anyway
        }
    }

    /** Stops the loop; every connection it served is closed. Waits up to a second for the thread. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        selector.wakeup();
        if (!onLoopThread()) {
            thread.join(1000);
        }
    }
}
