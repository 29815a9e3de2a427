package org.webpolicy.transport.client;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Bounds blocking socket writes: a write that outlives its deadline has its connection cut, which
 * makes the write fail. One daemon thread looks at the writes in progress once a second, so a
 * write costs a set insertion and removal, not a timer of its own (arming and cancelling a timer
 * per request wakes a thread each time). Deadlines are kept to within that second.
 */
public final class WriteWatchdog {

    /** The one watchdog of the JVM, so all clients share its thread. */
    public static final WriteWatchdog SHARED = new WriteWatchdog();

    private final Set<Watch> writing = ConcurrentHashMap.newKeySet();
    private volatile ScheduledExecutorService checker;

    /** One write being watched; {@link #close()} when it has returned. */
    public final class Watch implements AutoCloseable {
        private final long deadline;
        private final Runnable cut;
        private volatile boolean fired;

        private Watch(long deadline, Runnable cut) {
            this.deadline = deadline;
            this.cut = cut;
        }

        /**
         * True once the deadline passed and the connection was cut: why the write failed.
         *
         * @return whether the watch fired
         */
        public boolean fired() {
            return fired;
        }

        @Override
        public void close() {
            writing.remove(this);
        }
    }

    /**
     * Watches a write that must finish within {@code timeoutNanos}, or {@code cut} runs.
     *
     * @param timeoutNanos how long the write may take
     * @param cut what cuts the connection
     * @return the watch, to close when the write returns
     */
    public Watch watch(long timeoutNanos, Runnable cut) {
        startChecker();
        Watch watch = new Watch(System.nanoTime() + timeoutNanos, cut);
        writing.add(watch);
        return watch;
    }

    private void startChecker() {
        if (checker != null) {
            return;
        }
        synchronized (this) {
            if (checker == null) {
                ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "webpolicy-write-watchdog");
                    t.setDaemon(true);
                    return t;
                });
                s.scheduleWithFixedDelay(this::cutOverdue, 1, 1, TimeUnit.SECONDS);
                checker = s;
            }
        }
    }

    private void cutOverdue() {
        long now = System.nanoTime();
        for (Watch w : writing) {
            if (now - w.deadline > 0 && writing.remove(w)) {
                w.fired = true;
                try {
                    w.cut.run();
                } catch (RuntimeException e) {
                    // the connection is going anyway; keep watching the others
                }
            }
        }
    }
}
