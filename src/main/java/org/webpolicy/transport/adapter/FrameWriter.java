package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Queue;

/**
 * The one writer of an owned connection's frames: replies, error texts, pongs, the library's
 * liveness pings and close frames all pass through {@link #write}, under one lock.
 *
 * <p>Why it cannot lose a wake-up: the thread that produces a frame writes it straight to the
 * non-blocking socket when nothing is queued before it; what does not fit is queued and write
 * interest is asked for on the {@link IoLoop}'s key, and the loop withdraws that interest only
 * after finding the queue empty. Both happen under this writer's lock, so "frames wait" and
 * "write interest is set" are always true together (the library's own writer withdraws its write
 * interest outside any lock a sender takes, which is the race {@link WriteWake} works around).
 *
 * <p>No method calls back into the connection (whose own lock the library holds while it sends a
 * close frame) while holding this lock: when a write fails or a close frame has gone out, the
 * caller is told to close the connection after the lock is released.
 */
public final class FrameWriter {

    /** What the caller does once the writer's lock is released. */
    enum After { NOTHING, CLOSE_FLUSHED, CLOSE_FAILED }

    private final Object lock = new Object();
    private final Queue<ByteBuffer> queue = new ArrayDeque<>();
    private long queuedBytes;
    /** The socket, or the {@link TlsChannel} around it; null until the hand-over. */
    private ByteChannel channel;
    private SelectionKey key;
    private boolean closeWhenFlushed;
    private boolean failed;
    private IOException failure;

    /**
     * Takes over from the library, on its selector thread: cancels its key (it reads and writes
     * the socket no more), then what waits in its queue (the handshake answer, the metadata,
     * frames sent before the hand-over) goes first, in order, then everything sent from now on.
     * Under the lock, a sender either queued its frame the library's way already (and it moves
     * with the queue) or finds the writer owned: no frame falls in between.
     *
     * @param libraryKey the library's key for the socket
     * @param out what frames are written to: the socket, or the TLS channel around it
     * @param libraryQueue the library's queue of frames not yet written, emptied here
     */
    void adopt(SelectionKey libraryKey, ByteChannel out, Queue<ByteBuffer> libraryQueue) {
        synchronized (lock) {
            libraryKey.cancel();
            channel = out;
            ByteBuffer b;
            while ((b = libraryQueue.poll()) != null) {
                if (b.hasRemaining()) {
                    queue.add(b);
                    queuedBytes += b.remaining();
                }
            }
        }
    }

    /**
     * Whether {@link #adopt} ran: frames go through this writer, not the library's queue.
     *
     * @return true once adopted
     */
    public boolean owned() {
        synchronized (lock) {
            return channel != null;
        }
    }

    /**
     * Runs {@code libraryPath} under the writer's lock when the connection is not owned yet;
     * otherwise writes {@code frames} as {@link #write} does.
     *
     * @param frames the encoded frames, in order
     * @param libraryPath queues the frames the library's way (before the hand-over)
     * @return what the caller must do next
     */
    After writeOr(Collection<ByteBuffer> frames, Runnable libraryPath) {
        synchronized (lock) {
            if (channel == null) {
                libraryPath.run();
                return After.NOTHING;
            }
            return write(frames);
        }
    }

    /** Under the lock: write now what fits, queue the rest behind what already waits. */
    private After write(Collection<ByteBuffer> frames) {
        if (failed) {
            return After.NOTHING; // the connection is being closed; its frames go nowhere
        }
        boolean direct = queue.isEmpty();
        for (ByteBuffer frame : frames) {
            if (direct) {
                if (!writeOut(frame)) {
                    return After.CLOSE_FAILED;
                }
                if (!frame.hasRemaining()) {
                    continue;
                }
                direct = false;
            }
            queue.add(frame);
            queuedBytes += frame.remaining();
        }
        if (!queue.isEmpty()) {
            wantWrite(true);
            return After.NOTHING;
        }
        return closeWhenFlushed ? After.CLOSE_FLUSHED : After.NOTHING;
    }

    /** Writes what the socket takes now; false (and the writer failed) on an I/O error. */
    private boolean writeOut(ByteBuffer frame) {
        try {
            while (frame.hasRemaining()) {
                if (channel.write(frame) == 0) {
                    break;
                }
            }
            return true;
        } catch (IOException e) {
            fail(e);
            return false;
        }
    }

    private void fail(IOException e) {
        failed = true;
        failure = e;
        queue.clear();
        queuedBytes = 0;
    }

    /**
     * On the I/O loop, when the socket takes bytes again: writes what waits.
     *
     * @return what the loop must do next
     */
    After onWritable() {
        synchronized (lock) {
            if (channel instanceof TlsChannel tls && !failed) {
                // The TLS channel's own records (handshake, key update) first: write interest stays.
                try {
                    if (!tls.flush()) {
                        return After.NOTHING;
                    }
                } catch (IOException e) {
                    fail(e);
                    return After.CLOSE_FAILED;
                }
            }
            ByteBuffer head;
            while ((head = queue.peek()) != null) {
                int before = head.remaining();
                if (!writeOut(head)) {
                    return After.CLOSE_FAILED;
                }
                queuedBytes -= before - head.remaining();
                if (head.hasRemaining()) {
                    return After.NOTHING; // still full: write interest stays
                }
                queue.poll();
            }
            wantWrite(false);
            return closeWhenFlushed ? After.CLOSE_FLUSHED : After.NOTHING;
        }
    }

    /**
     * The library has sent the close frame and waits for it to be written before it closes the
     * socket (its {@code flushAndClose}): from now on, an empty queue means "close".
     *
     * @return {@link After#CLOSE_FLUSHED} when everything is written already
     */
    After closeWhenFlushed() {
        synchronized (lock) {
            closeWhenFlushed = true;
            return queue.isEmpty() && !failed ? After.CLOSE_FLUSHED : After.NOTHING;
        }
    }

    /**
     * On the I/O loop, once it registered the socket: asks for write interest if frames wait.
     *
     * @param loopKey the loop's key for this socket
     */
    void attach(SelectionKey loopKey) {
        synchronized (lock) {
            key = loopKey;
            wantWrite(!queue.isEmpty());
        }
    }

    /**
     * On the I/O loop: the TLS channel holds records of its own (handshake, key update) the socket
     * did not take; write interest until they are written.
     */
    void channelOutputWaits() {
        synchronized (lock) {
            if (!failed) {
                wantWrite(true);
            }
        }
    }

    /** Drops what waits: the connection is closed. */
    void discard() {
        synchronized (lock) {
            failed = true;
            queue.clear();
            queuedBytes = 0;
        }
    }

    /** Bytes queued and not yet written. */
    long queuedBytes() {
        synchronized (lock) {
            return queuedBytes;
        }
    }

    /** The error that failed a write, or null. */
    IOException failure() {
        synchronized (lock) {
            return failure;
        }
    }

    private void wantWrite(boolean on) {
        SelectionKey k = key;
        if (k == null) {
            return; // not registered yet: attach() asks once it is
        }
        try {
            int ops = on ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (k.interestOps() != ops) {
                k.interestOps(ops);
                if (on && !IoLoop.leading()) {
                    // A sleeping selector sees a new interest only when woken; a loop thread
                    // answering a request is not the one that selects next.
                    k.selector().wakeup();
                }
            }
        } catch (CancelledKeyException e) {
            // closed meanwhile: whoever closed it drops the queue
        }
    }
}
