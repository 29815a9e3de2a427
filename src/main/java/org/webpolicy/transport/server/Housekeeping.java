package org.webpolicy.transport.server;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The server's one timer thread: handshake timeouts, re-checks of stranded writes, closing
 * refused connections, resuming accepts. Tasks scheduled after shutdown are dropped.
 */
public final class Housekeeping {

    private final ScheduledThreadPoolExecutor timer;

    /** Starts the timer thread, a daemon. */
    public Housekeeping() {
        timer = new ScheduledThreadPoolExecutor(1, ServerThreads.daemon("webpolicy-housekeeping-"));
        timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * Runs {@code task} after {@code millis}; false when shutting down (the task will not run).
     *
     * @param millis the delay
     * @param task what to run; a failure is logged
     * @return whether it was scheduled
     */
    public boolean later(long millis, Runnable task) {
        try {
            timer.schedule(guarded(task), millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /**
     * Runs {@code task} every {@code millis} until shutdown.
     *
     * @param millis the period, from the end of one run to the start of the next
     * @param task what to run; a failure is logged and the task runs again
     */
    public void every(long millis, Runnable task) {
        try {
            timer.scheduleWithFixedDelay(guarded(task), millis, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // shutting down
        }
    }

    /** Stops the timer: tasks waiting never run, and later ones are dropped. */
    public void shutdownNow() {
        timer.shutdownNow();
    }

    boolean awaitTermination(long millis) throws InterruptedException {
        return timer.awaitTermination(millis, TimeUnit.MILLISECONDS);
    }

    /** A periodic task that throws is never run again: keep the timer alive whatever one task does. */
    private static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Housekeeping.class).warn("Housekeeping task failed: {}", e.toString());
            }
        };
    }
}
