package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketListener;
import org.java_websocket.drafts.Draft_6455;
import org.slf4j.LoggerFactory;

/**
 * Makes every frame queued from another thread reach the socket, by construction rather than by
 * a timer. The WebSocket library writes on its selector thread: after writing a connection's
 * queue it withdraws write interest, and a frame queued from a worker between its "queue empty"
 * and that withdrawal loses its write request (and waits for the next event on the connection).
 * Only the selector thread can ask for write interest without that race, so a sender queues its
 * connection here and wakes the selector through a pipe registered with the library's own
 * selector; on the selector thread, after any withdrawal, the pipe's handler asks again for every
 * connection whose frames wait. The pipe's key carries a placeholder connection, because the
 * library's loop treats every readable key as one; its reads give the library no bytes.
 *
 * <p>It also runs the hand-over of a connection to the {@link IoLoop} ({@link #onSelector}): that
 * must happen on the selector thread, between two of its reads of the socket, or a read could be
 * in flight while the key is cancelled and land after bytes the loop reads (reordered). Why it
 * stays: the library offers no public way to run a task on its selector thread or to ask it for
 * write interest without the race above, and frames sent before the hand-over (the metadata, an
 * early reply or error text) still go through the library's queue, which the library writes.
 *
 * <p>Before the first connection is accepted (when the selector becomes known) there is nothing
 * to send, and {@link #demand} reports false if the pipe could not be set up, so the caller can
 * fall back to a later re-check.
 */
public final class WriteWake implements AutoCloseable {

    private final Queue<WebSocketImpl> waiting = new ConcurrentLinkedQueue<>();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Set while a byte is in the pipe or about to be: one byte wakes the selector for all. */
    private final AtomicBoolean signalled = new AtomicBoolean();
    private final ByteBuffer drain = ByteBuffer.allocate(64);
    private volatile Pipe pipe;
    private volatile boolean failed;

    /**
     * Registers the pipe with the library's selector; called on the selector thread (where the
     * library accepts connections), once, before any frame of an accepted connection is sent.
     */
    void register(Selector selector, WebSocketListener listener) {
        if (pipe != null || failed) {
            return;
        }
        try {
            Pipe p = Pipe.open();
            p.source().configureBlocking(false);
            WebSocketImpl placeholder = new WebSocketImpl(listener, new Draft_6455());
            placeholder.setChannel(new Handler());
            placeholder.setSelectionKey(p.source().register(selector, SelectionKey.OP_READ, placeholder));
            pipe = p;
        } catch (IOException | RuntimeException e) {
            failed = true;
        }
    }

    /**
     * Asks the selector thread to make sure {@code conn}'s queued frames get written.
     *
     * @param conn a connection of this server
     * @return false when the wake-up pipe is not in place (the caller must re-check some other way)
     */
    public boolean demand(WebSocket conn) {
        Pipe p = pipe;
        if (p == null) {
            return false;
        }
        waiting.add((WebSocketImpl) conn);
        return signal(p);
    }

    /**
     * Runs {@code task} on the library's selector thread, soon.
     *
     * @return false when the wake-up pipe is not in place (the task will not run)
     */
    boolean onSelector(Runnable task) {
        Pipe p = pipe;
        if (p == null) {
            return false;
        }
        tasks.add(task);
        return signal(p);
    }

    private boolean signal(Pipe p) {
        if (signalled.compareAndSet(false, true)) {
            try {
                p.sink().write(ByteBuffer.wrap(new byte[] {1}));
            } catch (IOException e) {
                signalled.set(false);
                return false; // closed: the server is going down
            }
        }
        return true;
    }

    /** On the selector thread: empties the pipe, then asks for write interest where frames wait. */
    private void wake() throws IOException {
        Pipe p = pipe;
        while (true) {
            drain.clear();
            if (p.source().read(drain) <= 0) {
                break;
            }
        }
        // Cleared before the queue is read: a sender that finds the flag set has its connection
        // in the queue already, one that finds it clear writes a byte that wakes us again.
        signalled.set(false);
        WebSocketImpl conn;
        while ((conn = waiting.poll()) != null) {
            SelectionKey key = conn.getSelectionKey();
            try {
                if (key != null && key.isValid() && !conn.outQueue.isEmpty()
                        && (key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                }
            } catch (CancelledKeyException e) {
                // closed meanwhile
            }
        }
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                // One task's failure must not reach the library's loop, which would stop the server.
                LoggerFactory.getLogger(WriteWake.class).warn("Selector task failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        Pipe p = pipe;
        if (p != null) {
            try {
                p.sink().close();
                p.source().close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** The placeholder's channel: a read wakes the writers and gives the library no bytes. */
    private final class Handler implements ByteChannel {
        @Override
        public int read(ByteBuffer dst) {
            try {
                wake();
            } catch (IOException e) {
                // The pipe was closed: the server is going down. An exception here would make the
                // library close the placeholder as if it were a connection.
            }
            return 0;
        }

        @Override
        public int write(ByteBuffer src) {
            return 0;
        }

        @Override
        public boolean isOpen() {
            Pipe p = pipe;
            return p != null && p.source().isOpen();
        }

        @Override
        public void close() {
            // the pipe is closed with the server
        }
    }
}
