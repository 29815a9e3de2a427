package org.webpolicy.transport.server;

import java.util.concurrent.Semaphore;

/**
 * The server's request slots: {@code maxConcurrentRequests} requests answered at once, by workers
 * and the I/O loop's threads together ({@link SerialExecutor}).
 */
public final class RequestSlots extends Semaphore {

    /** Serialization version (a {@link Semaphore} is serializable). */
    private static final long serialVersionUID = 1L;

    /** The slots in all, free or held. */
    private final int capacity;

    /**
     * Slots for {@code capacity} requests at once.
     *
     * @param capacity the server's {@code maxConcurrentRequests}
     */
    public RequestSlots(int capacity) {
        super(capacity);
        this.capacity = capacity;
    }

    /** Whether no request holds a slot now. */
    boolean idle() {
        return availablePermits() == capacity;
    }
}
