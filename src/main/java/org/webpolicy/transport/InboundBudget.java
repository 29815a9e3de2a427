package org.webpolicy.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget for inbound message bytes: frame buffers being filled and requests
 * waiting to be answered, over all connections. A connection asks before its buffer grows and
 * gives back when the bytes are no longer held; when the budget cannot meet a claim, that
 * connection is refused (close 1013), never the server.
 */
final class InboundBudget {

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    InboundBudget(long limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        this.limit = limit;
    }

    /** Takes {@code bytes} from the budget; false (and nothing taken) when they are not there. */
    boolean tryReserve(long bytes) {
        while (true) {
            long now = used.get();
            if (now + bytes > limit) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Gives back {@code bytes} taken earlier. */
    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }

    long limit() {
        return limit;
    }
}
