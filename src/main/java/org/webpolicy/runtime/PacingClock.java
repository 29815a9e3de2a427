package org.webpolicy.runtime;

import java.util.concurrent.locks.LockSupport;

/**
 * The time source and sleep of a {@link ControlLoop}: {@link #system()} for real robots, a fake in
 * tests so that pacing is checked without waiting or depending on the machine's load. Internal:
 * the tests' seam, not an option of the loop.
 */
interface PacingClock {

    /**
     * A monotonic time in nanoseconds, as {@link System#nanoTime()}.
     *
     * @return the time; only differences mean something
     */
    long nanoTime();

    /**
     * Returns once {@link #nanoTime()} has reached {@code deadlineNanos}; at once if it has.
     *
     * @param deadlineNanos a time of {@link #nanoTime()}
     * @throws InterruptedException when the thread is interrupted while it waits
     */
    void sleepUntil(long deadlineNanos) throws InterruptedException;

    /**
     * Sleeps for {@code nanos}.
     *
     * @param nanos how long; 0 or less returns at once
     * @throws InterruptedException when the thread is interrupted while it waits
     */
    default void sleepNanos(long nanos) throws InterruptedException {
        sleepUntil(nanoTime() + nanos);
    }

    /**
     * {@link System#nanoTime()} and parking the thread (wakes within about 0.1 ms on Linux).
     *
     * @return the real clock
     */
    static PacingClock system() {
        return SystemClock.INSTANCE;
    }

    /** The real clock. */
    enum SystemClock implements PacingClock {
        /** The one instance. */
        INSTANCE;

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleepUntil(long deadlineNanos) throws InterruptedException {
            long remaining;
            // parkNanos may return early (spuriously or on unpark): loop until the deadline.
            while ((remaining = deadlineNanos - System.nanoTime()) > 0) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                LockSupport.parkNanos(remaining);
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }
}
