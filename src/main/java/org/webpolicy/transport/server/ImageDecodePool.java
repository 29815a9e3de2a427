package org.webpolicy.transport.server;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Where the server decodes compressed images: a few threads of their own, never the workers.
 * A worker hands an observation's decoding over and waits for it, so two bounds hold:
 * <ul>
 *   <li>at most {@code slots} observations are being decoded or wait to be, over all
 *       connections (half the workers): one more is refused at once, so images can never hold
 *       every worker, and other robots keep stepping;</li>
 *   <li>at most {@code threads} decode at once (half the cores, at least one): the
 *       rest of the machine stays with the policy and the network.</li>
 * </ul>
 * An observation's images are decoded side by side on the same threads ({@link #helpers()}): a
 * decode that finds a thread idle hands it the next image, one that finds none decodes every
 * image itself, so a step of four cameras takes the time of two on two decode threads, and the bounds
 * above hold whatever the number of images.
 * A decode ends at its deadline or as soon as its client has left: the worker stops waiting at
 * once (within {@link #POLL}), a decode that has not started is dropped, and one running is told
 * to stop and does so within a row of pixels or a read of its data. Thread-safe.
 */
public final class ImageDecodePool {

    /** How often a waiting worker looks whether its client is still there. */
    static final Duration POLL = Duration.ofMillis(20);

    private final ThreadPoolExecutor threads;
    private final Semaphore slots;
    private final int slotCount;

    /** Decodes that began on a decode thread. */
    public final AtomicLong started = new AtomicLong();
    /** Decodes that ran to their end (decoded, or refused by the decoder). */
    public final AtomicLong finished = new AtomicLong();
    /** Decodes stopped while running: deadline passed, client gone or server closing. */
    public final AtomicLong stopped = new AtomicLong();
    /** Decodes dropped before they began, for the same reasons. */
    public final AtomicLong dropped = new AtomicLong();
    /** Observations refused because every slot was taken. */
    public final AtomicLong refused = new AtomicLong();

    /**
     * A pool whose threads start on demand and are let go after 30 s idle.
     *
     * @param threads the most decodes running at once
     * @param slots the most observations being decoded or waiting to be
     */
    public ImageDecodePool(int threads, int slots) {
        this.slotCount = slots;
        this.slots = new Semaphore(slots);
        this.threads = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                ServerThreads.daemon("webpolicy-image-"));
        this.threads.allowCoreThreadTimeOut(true);
    }

    /**
     * Half the cores (at least one) decode; half the workers (at least one) may wait on them. On
     * two cores that is one thread, so a step's cameras decode one after another there: the other
     * core stays with the policy and the network, as the bound promises every other robot.
     */
    static ImageDecodePool forServer(int workers) {
        return new ImageDecodePool(decodeThreads(Runtime.getRuntime().availableProcessors()), Math.max(1, workers / 2));
    }

    static int decodeThreads(int cores) {
        return Math.max(1, cores / 2);
    }

    /**
     * Where a running decode hands the other images of its observation: the decode threads. A
     * helper queued behind other work is not waited for (the decode does that image itself and
     * the helper then does nothing), and helpers count toward no slot: they are the same
     * observation's work, on the same threads.
     *
     * @return the executor; it refuses work once the pool is shut down
     */
    public Executor helpers() {
        return threads::execute; // the executor itself would let a caller shut the pool down
    }

    /** What ended a decode before its result (or kept it from starting): the worker is told which, to tell its client. */
    public enum Stop {
        /** Every slot was taken: the decode was refused before it began. */
        BUSY,
        /** The deadline passed. */
        DEADLINE,
        /** The client left. */
        GONE,
        /** The server is closing (or the waiting worker was interrupted). */
        SHUTDOWN
    }

    /** A decode that did not produce its result. */
    public static final class Stopped extends RuntimeException {
        /** What stopped it. */
        public final Stop why;

        Stopped(Stop why) {
            super(why.name(), null, false, false);
            this.why = why;
        }
    }

    /**
     * Runs {@code decode} on a decode thread and waits for its result.
     *
     * @param decode the work; it polls the stop signal it is given and ends when it says true
     * @param deadlineNanos the {@link System#nanoTime()} by which it must be done
     * @param gone true once the client has left
     * @param onEnd run once when the decode can hold no more memory: when it ended, or when it
     *     was dropped before it began (never while it still runs)
     * @param <T> what the decode produces
     * @return the result
     * @throws Stopped when every slot is taken ({@link Stop#BUSY}: nothing was started and
     *     {@code onEnd} ran), the deadline passed, the client left or the server is closing
     * @throws RuntimeException whatever {@code decode} threw
     */
    public <T> T run(Function<BooleanSupplier, T> decode, long deadlineNanos, BooleanSupplier gone, Runnable onEnd) {
        if (!slots.tryAcquire()) {
            refused.incrementAndGet();
            onEnd.run();
            throw new Stopped(Stop.BUSY);
        }
        try {
            AtomicBoolean claimed = new AtomicBoolean(); // by the decode thread when it begins, or by the worker to drop it
            AtomicBoolean stop = new AtomicBoolean();
            BooleanSupplier stopSignal = () -> stop.get() || gone.getAsBoolean() || System.nanoTime() - deadlineNanos > 0;
            Future<T> future;
            try {
                future = threads.submit(() -> {
                    if (!claimed.compareAndSet(false, true)) {
                        return null; // dropped: the worker gave up before it began
                    }
                    started.incrementAndGet();
                    try {
                        T result = decode.apply(stopSignal);
                        finished.incrementAndGet();
                        return result;
                    } catch (CancellationException e) {
                        stopped.incrementAndGet();
                        throw e;
                    } catch (RuntimeException | Error e) {
                        finished.incrementAndGet();
                        throw e;
                    } finally {
                        onEnd.run();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                onEnd.run();
                throw new Stopped(Stop.SHUTDOWN);
            }
            Stop why;
            while (true) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    why = Stop.DEADLINE;
                    break;
                }
                if (gone.getAsBoolean()) {
                    why = Stop.GONE;
                    break;
                }
                try {
                    return future.get(Math.min(left, POLL.toNanos()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    // look again
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    why = Stop.SHUTDOWN;
                    break;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof CancellationException) {
                        // It stopped itself at the deadline or because the client left; say which.
                        why = gone.getAsBoolean() ? Stop.GONE : Stop.DEADLINE;
                        break;
                    }
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(cause);
                }
            }
            stop.set(true);
            if (claimed.compareAndSet(false, true)) {
                dropped.incrementAndGet();
                future.cancel(false);
                threads.remove((Runnable) future);
                onEnd.run();
            }
            throw new Stopped(why);
        } finally {
            slots.release();
        }
    }

    /**
     * Observations being decoded or waiting to be, now.
     *
     * @return the count
     */
    public int busySlots() {
        return slotCount - slots.availablePermits();
    }

    int slotCount() {
        return slotCount;
    }

    int threadCount() {
        return threads.getMaximumPoolSize();
    }

    /**
     * Stops the decode threads, interrupting those running; a decode asked for afterwards ends with
     * {@link Stop#SHUTDOWN}.
     */
    public void shutdownNow() {
        threads.shutdownNow();
    }
}
