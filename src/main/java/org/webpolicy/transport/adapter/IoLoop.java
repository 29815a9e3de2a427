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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.java_websocket.framing.CloseFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.server.ReadTurn;
import org.webpolicy.transport.server.RequestRunner;

/**
 * Reads and writes the sockets of owned connections ({@link OwnedSocket}), one {@link Selector}
 * per loop. Each read lands in the reading thread's direct scratch buffer (the socket read fills
 * it without a temporary copy) and is decoded at once, on that thread: the frame decoder copies
 * and unmasks the bytes into the message's own buffer, within the inbound budget, so the scratch
 * buffer is free again when {@code decode} returns. No decoder thread, no buffer pool.
 *
 * <p>The scratch buffer is small ({@link #SCRATCH_BYTES}) and each thread of the loop has its own,
 * so that it stays in the reading core's cache: the kernel's copy of a socket's bytes into a cold
 * buffer costs a cache miss per line written. An ALOHA observation (600 KB) read whole into one
 * shared 1 MiB buffer cost the kernel's copy about 155 us per read on the development machine
 * (counted in profiles; 512 KiB of L2 per core), and the same copy into a 64 KiB buffer of the
 * thread's own about 12 us: the buffer and the part of the message it is copied into fit the
 * core's cache together. Shared between the leader and the follower that takes over, a small
 * buffer gained nothing: it moved from core to core with the lead.
 * A {@code wss://} connection is read through its {@link TlsChannel}, which decrypts straight into
 * the scratch buffer: the same path, the same bounds.
 *
 * <h2>Leader and followers</h2>
 * The loop has one thread plus {@code followers} more (0: one thread, as a plain loop). One thread
 * at a time leads: it alone selects, reads, decodes and touches the loop's state (the scratch
 * buffer, the selected keys, the TLS channels' reading side); the others are parked or answering a
 * request. When a turn's reads complete exactly one request ({@link ReadTurn}), a follower is
 * parked and no other request is being answered, the leader hands the selector to that follower
 * and answers it itself (decode, policy, encode, write), so the follower's wake-up overlaps the
 * policy call instead of preceding it and the reply leaves without a thread hand-off. A slow
 * policy holds only that thread: the new leader goes on reading, writing, answering pings and
 * closing every socket of the loop. Otherwise (a turn that completed several requests, no
 * follower parked, or other requests being answered already: the server is busy, a worker is
 * likely awake, and a hand-over per request would cost a wake-up and move the loop to another
 * core for no shorter wait) the requests go to the worker pool ({@link RequestRunner}) and the
 * leader keeps the selector, so it never goes unled. The hand-over happens between turns, under
 * one lock: everything a leader wrote is seen by the next. Threads: {@code 1 + followers}, all
 * started with the loop and kept until it closes.
 *
 * <p>A connection gets a bounded number of reads per turn, so one that sends without pause does
 * not starve the others. Decoding a connection's bytes is charged to the inbound budget before it
 * allocates, and an {@link OutOfMemoryError} while decoding them anyway cuts that connection only
 * ({@link org.webpolicy.transport.server.ServerWire#outOfMemory}); any other Error here takes the
 * server down, as one on the library's threads does.
 */
public final class IoLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);
    /**
     * Each loop thread's scratch buffer: small enough to stay in a core's cache with the part of a
     * message it is copied into (see the class comment).
     */
    static final int SCRATCH_BYTES = 64 << 10;
    /**
     * Reads of one connection per turn of the loop, at most: 4 MiB, so that a connection sending
     * without pause does not hold the loop from the others for longer.
     */
    static final int READS_PER_TURN = 64;

    private final Selector selector;
    private final LoopThread[] threads;
    private final Queue<OwnedSocket> arriving = new ConcurrentLinkedQueue<>();
    private final Queue<Runnable> closes = new ConcurrentLinkedQueue<>();
    /**
     * TLS connections holding bytes read and not yet given out (their turn's reads ran out, or the
     * hand-over left some): read again next turn, without waiting for the socket, which may have
     * nothing more to say. Only the leading thread touches it.
     */
    private List<SelectionKey> again = new ArrayList<>();
    private List<SelectionKey> againNext = new ArrayList<>();
    private final Consumer<Throwable> onFatal;
    private volatile boolean closed;
    /** The requests completed in the current turn; the leader's, like the scratch buffer. */
    private final ReadTurn turn = new ReadTurn();

    /** Guards the lead and the counts below; the hand-over of the lead passes through it. */
    private final ReentrantLock lead = new ReentrantLock();
    /**
     * Signalled when the lead is free and when the loop closes: the parked followers wait on it,
     * and nothing else wakes them.
     */
    private final Condition changed = lead.newCondition();
    /** Signalled when the last answer on a loop thread ends, for {@link #awaitAnswers}. */
    private final Condition answered = lead.newCondition();
    /** Whether a thread leads (or is about to: the lead was taken and not yet given back). */
    private boolean led;
    /**
     * Threads waiting for the lead. Written under {@link #lead}; the leader reads it without the
     * lock ({@link #followerParked}).
     */
    private volatile int parked;
    /** Threads of this loop answering a request now. */
    private int answering;
    /** Whether {@link #closeAll} ran. */
    private boolean finished;

    /** A thread of a loop: the writer asks the selector for write interest without a wake-up from its leader. */
    private static final class LoopThread extends Thread {
        /** Whether this thread leads its loop now; read and written by this thread only. */
        boolean leading;
        /** Where this thread reads sockets when it leads; made when it first reads. */
        ByteBuffer scratch;

        LoopThread(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    /**
     * Opens the selector and starts one thread, which leads alone.
     *
     * @param name the thread's name
     * @param onFatal told of an Error on the loop; the server goes down
     * @throws IOException when no selector can be opened
     */
    public IoLoop(String name, Consumer<Throwable> onFatal) throws IOException {
        this(name, 0, onFatal);
    }

    /**
     * Opens the selector and starts {@code 1 + followers} threads.
     *
     * @param name the first thread's name; followers are named after it ({@code name-2}, ...)
     * @param followers threads that take the selector over while the leader answers a request
     * @param onFatal told of an Error on the loop; the server goes down
     * @throws IOException when no selector can be opened
     */
    public IoLoop(String name, int followers, Consumer<Throwable> onFatal) throws IOException {
        if (followers < 0) {
            throw new IllegalArgumentException("followers must be at least 0, got " + followers);
        }
        this.selector = Selector.open();
        this.onFatal = onFatal;
        this.threads = new LoopThread[1 + followers];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = new LoopThread(this::run, i == 0 ? name : name + "-" + (i + 1));
        }
        for (LoopThread t : threads) {
            t.start();
        }
    }

    /** True on any I/O loop's thread. */
    static boolean onLoopThread() {
        return Thread.currentThread() instanceof LoopThread;
    }

    /**
     * True on the thread leading a loop now: it selects again before it sleeps, so a new interest
     * or a close it makes needs no wake-up. A loop thread answering a request is not leading.
     */
    static boolean leading() {
        return Thread.currentThread() instanceof LoopThread t && t.leading;
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
        if (!leading()) {
            selector.wakeup();
        }
    }

    /** A thread of the loop: leads when the lead is free, answers what it kept, and again. */
    private void run() {
        LoopThread me = (LoopThread) Thread.currentThread();
        boolean answeredOne = false;
        while (takeLead(answeredOne)) {
            Runnable answer;
            me.leading = true;
            turn.open();
            try {
                answer = leadTurns();
            } finally {
                turn.close();
                me.leading = false;
            }
            if (answer == null) {
                return; // closed
            }
            answer(answer);
            answeredOne = true;
        }
    }

    /**
     * Waits until the lead is free and takes it; false when the loop is closed and its connections
     * are closed (or being closed by the thread that leads). One pass through the lock also counts
     * the answer this thread just ended, if it did.
     *
     * @param answerEnded whether this thread comes from answering a request
     */
    private boolean takeLead(boolean answerEnded) {
        lead.lock();
        try {
            if (answerEnded && --answering == 0) {
                answered.signalAll(); // no futex call when nobody awaits the answers
            }
            while (led && !closed) {
                parked++;
                try {
                    changed.awaitUninterruptibly();
                } finally {
                    parked--;
                }
            }
            if (led || finished) {
                return false;
            }
            led = true; // closed but nobody closed the connections yet: this thread does
            return true;
        } finally {
            lead.unlock();
        }
    }

    /**
     * Leads turn after turn; returns the connection's turn to answer once the selector is handed
     * to a follower, or null once the loop is closed (its connections closed, the lead let go).
     */
    private Runnable leadTurns() {
        try {
            while (!closed) {
                turn();
                if (!turn.isEmpty()) {
                    Runnable mine = turn.dispatch(turn.size() == 1 && followerParked());
                    if (mine != null) {
                        handOver();
                        return mine;
                    }
                }
            }
        } catch (ClosedSelectorException e) {
            // closed with the server
        } catch (IOException | RuntimeException e) {
            fatal(e);
        } catch (VirtualMachineError | LinkageError e) {
            fatal(e);
        }
        turn.dispatch(false); // requests of a turn cut short: refused by the stopped pool, or run
        closeAll();
        lead.lock();
        try {
            led = false;
            changed.signalAll();
        } finally {
            lead.unlock();
        }
        return null;
    }

    private void turn() throws IOException {
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

    /**
     * Whether a follower waits for the lead, read without the lock: only the leader takes
     * followers out of the park (and {@link #close}, after which nothing is handed over), so one
     * seen here is still there at {@link #handOver}; one that parks just after is missed once,
     * and the request goes to a worker.
     */
    private boolean followerParked() {
        return parked > 0 && !closed;
    }

    /**
     * Gives the lead to a parked follower: this thread answers a request now. Only the leader
     * takes followers out of the park, so the one counted by {@link #followerParked} is still
     * there (or another thread takes the lead first, which is as good).
     */
    private void handOver() {
        lead.lock();
        try {
            led = false;
            answering++;
            changed.signal();
        } finally {
            lead.unlock();
        }
    }

    private void answer(Runnable answer) {
        try {
            answer.run();
        } catch (RuntimeException e) {
            // The request's own failures are reported to its client where it runs; this is a bug
            // around it: logged, and the thread goes back to the loop.
            log.error("Answering a request on {} failed: {}", Thread.currentThread().getName(), e.toString());
        } catch (Error e) {
            fatal(e);
        } finally {
            // An interrupt the call left set would make every select of this thread return at
            // once; a pool's worker has it cleared between tasks the same way. The answer is
            // counted as ended by the next takeLead.
            Thread.interrupted();
        }
    }

    /**
     * Waits until no thread of the loop answers a request, or {@code nanos} have passed.
     *
     * @param nanos the most to wait
     * @return true when none answers
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitAnswers(long nanos) throws InterruptedException {
        lead.lock();
        try {
            while (answering > 0) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = answered.awaitNanos(nanos);
            }
            return true;
        } finally {
            lead.unlock();
        }
    }

    /**
     * Threads of this loop answering a request now (for tests).
     *
     * @return the count
     */
    public int answering() {
        lead.lock();
        try {
            return answering;
        } finally {
            lead.unlock();
        }
    }

    private void fatal(Throwable e) {
        if (closed) {
            return;
        }
        log.error("I/O loop {} failed: {}", Thread.currentThread().getName(), e.toString());
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

    private static ByteBuffer scratch() {
        LoopThread me = (LoopThread) Thread.currentThread();
        if (me.scratch == null) {
            me.scratch = ByteBuffer.allocateDirect(SCRATCH_BYTES);
        }
        return me.scratch;
    }

    private void read(SelectionKey key, OwnedSocket conn) throws IOException {
        ByteBuffer scratch = scratch();
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

    /** Closes every connection the loop still serves, and the selector; on the leading thread. */
    private void closeAll() {
        closed = true;
        lead.lock();
        try {
            if (finished) {
                return;
            }
            finished = true;
        } finally {
            lead.unlock();
        }
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

    /**
     * Stops the loop; every connection it served is closed. Waits up to a second for its threads
     * that do not answer a request (one that does leaves once its answer is written).
     */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        selector.wakeup();
        lead.lock();
        try {
            changed.signalAll();
        } finally {
            lead.unlock();
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (LoopThread t : threads) {
            long left = until - System.nanoTime();
            if (t != Thread.currentThread() && left > 0) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }
}
