package org.webpolicy.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * A clock that moves only when told: sleeping jumps to the deadline (plus an optional overshoot,
 * as a real sleep wakes late), and work "takes time" by {@link #advance}.
 */
final class FakeClock implements PacingClock {
    private long now = 1_000_000_000L;
    private final long overshootNanos;
    final List<Long> sleepDeadlines = new ArrayList<>();

    FakeClock() {
        this(0);
    }

    FakeClock(long overshootNanos) {
        this.overshootNanos = overshootNanos;
    }

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public synchronized void sleepUntil(long deadlineNanos) {
        sleepDeadlines.add(deadlineNanos);
        if (deadlineNanos > now) {
            now = deadlineNanos + overshootNanos;
        }
    }

    synchronized void advance(long nanos) {
        now += nanos;
    }

    static long ms(double millis) {
        return Math.round(millis * 1e6);
    }
}
