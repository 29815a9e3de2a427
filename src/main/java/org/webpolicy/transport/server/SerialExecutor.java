package org.webpolicy.transport.server;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: a connection's requests
 * are answered in order without the connection owning a thread.
 *
 * <p>A connection's turn runs either on a worker ({@link #execute}) or on the thread that read its
 * request ({@link #claimHere}, the I/O loop's thread that just handed the selector to a follower);
 * either way one task of the connection runs at a time, and each turn holds one of the server's
 * request slots (the {@code maxConcurrentRequests} bound), so the threads answering requests
 * never outnumber it, whoever they are.
 */
public final class SerialExecutor implements Executor {

    private final Executor pool;
    /** The server's request slots, shared by every connection; null: not bounded here. */
    private final Semaphore slots;
    private final Queue<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    SerialExecutor(Executor pool, Semaphore slots) {
        this.pool = pool;
        this.slots = slots;
    }

    @Override
    public synchronized void execute(Runnable task) {
        tasks.add(task);
        if (!running) {
            running = true;
            pool.execute(this::drainOnWorker);
        }
    }

    /**
     * Queues {@code task}; when no turn of this connection is under way and no request holds a
     * slot (the server is idle), the turn is the caller's: it must then run the returned drain itself. Otherwise the task
     * waits behind the turn under way, or goes to a worker as {@link #execute} sends it.
     *
     * @param task the task
     * @return the turn to run on the calling thread, or null when the task is taken care of
     * @throws java.util.concurrent.RejectedExecutionException when it went to a worker pool that is shut down
     */
    synchronized Runnable claimHere(Runnable task) {
        if (!running && slots != null && idle(slots) && slots.tryAcquire()) {
            tasks.add(task);
            running = true;
            return this::drainHolding;
        }
        execute(task);
        return null;
    }

    /**
     * Whether no request is answered anywhere now. A loop thread answers only then: when requests
     * already run, they keep cores busy and a worker is likely awake, and handing the selector
     * over on every request cost the loop's threads 10-20% more CPU per step with 8 clients
     * saturating 2 cores, for the same throughput; a lone robot's request always finds the
     * server idle.
     */
    private static boolean idle(Semaphore slots) {
        return slots instanceof RequestSlots bounded ? bounded.idle() : true;
    }

    private void drainOnWorker() {
        boolean held = false;
        if (slots != null) {
            try {
                slots.acquire();
                held = true;
            } catch (InterruptedException e) {
                // The pool is being shut down: what is queued fails fast (the server is closing)
                // without a slot, as it would have without the wait.
                Thread.currentThread().interrupt();
            }
        }
        try {
            drain();
        } finally {
            if (held) {
                slots.release();
            }
        }
    }

    /** The turn {@link #claimHere} gave out, its slot already taken. */
    private void drainHolding() {
        try {
            drain();
        } finally {
            slots.release();
        }
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (this) {
                next = tasks.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            next.run();
        }
    }
}
