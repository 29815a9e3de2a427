package org.webpolicy.transport.server;

import java.util.function.LongSupplier;

/**
 * At most {@code perSecond} log lines a second for one kind of event; the rest are counted and
 * the count is reported with the next line allowed. A client that fails requests in a loop must
 * not be able to fill the server's log at the rate it can open connections.
 */
public final class LogBudget {

    private static final long SECOND = 1_000_000_000L;

    private final int perSecond;
    private final LongSupplier nanoTime;
    private long windowStart;
    private int usedInWindow;
    private long suppressed;

    LogBudget(int perSecond, LongSupplier nanoTime) {
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond must be at least 1, got " + perSecond);
        }
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
        this.windowStart = nanoTime.getAsLong();
    }

    /**
     * Whether this event may be logged: -1 when not (it is counted), otherwise how many events
     * were suppressed since the last one logged.
     */
    synchronized long admit() {
        long now = nanoTime.getAsLong();
        if (now - windowStart >= SECOND) {
            windowStart = now;
            usedInWindow = 0;
        }
        if (usedInWindow >= perSecond) {
            suppressed++;
            return -1;
        }
        usedInWindow++;
        long reported = suppressed;
        suppressed = 0;
        return reported;
    }
}
