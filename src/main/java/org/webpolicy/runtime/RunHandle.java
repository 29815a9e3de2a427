package org.webpolicy.runtime;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A {@link ControlLoop} running on its own thread ({@link ControlLoop#runInNewThread()}). */
public final class RunHandle {

    private final ControlLoop loop;
    private final Thread thread;
    private final CompletableFuture<Void> done;

    RunHandle(ControlLoop loop, Thread thread, CompletableFuture<Void> done) {
        this.loop = loop;
        this.thread = thread;
        this.done = done;
    }

    /**
     * The thread running the loop.
     *
     * @return the thread, for names and stack traces
     */
    public Thread thread() {
        return thread;
    }

    /**
     * True once the run has ended, normally or not.
     *
     * @return whether the run has ended
     */
    public boolean isDone() {
        return done.isDone();
    }

    /** Asks the loop to stop ({@link ControlLoop#stop()}); does not wait. */
    public void stop() {
        loop.stop();
    }

    /**
     * Waits for the run to end; rethrows its failure, the very exception thrown on the loop's
     * thread (so its stack trace is that thread's).
     *
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public void await() throws InterruptedException {
        try {
            done.get();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /**
     * Waits up to {@code timeout}; true when the run ended in time. Rethrows its failure as
     * {@link #await()} does.
     *
     * @param timeout how long to wait at most
     * @return true when the run ended within the timeout
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public boolean await(Duration timeout) throws InterruptedException {
        try {
            done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            throw r;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        return new IllegalStateException("The control loop failed", cause);
    }
}
