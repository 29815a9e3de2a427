package org.webpolicy.transport.frame;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget for inbound message bytes: frame buffers being filled and requests
 * waiting to be answered, over all connections. A connection asks before its buffer grows and
 * gives back when the bytes are no longer held; when the budget cannot meet a claim, that
 * connection is refused (close 1013), never the server.
 *
 * <p>Small messages (at most {@link #SMALL_MESSAGE_BYTES}, the size of a typical step) may also use
 * a reserve beyond the limit that large ones cannot reach: clients that hold the budget with large
 * frames they pay for byte by byte do not starve the honest clients' small requests.
 */
public final class InboundBudget {

    /** Messages this small may use the reserve. */
    public static final int SMALL_MESSAGE_BYTES = 64 << 10;

    private final long limit;
    private final long reserve;
    private final AtomicLong used = new AtomicLong();
    private final MessageBufferPool buffers;

    /**
     * A budget of {@code limit} bytes, with a reserve for small messages of 1 MiB or a sixteenth of the limit,
     * whichever is larger.
     *
     * @param limit the bytes large messages may hold at once, over all connections
     * @throws IllegalArgumentException when {@code limit} is not positive
     */
    public InboundBudget(long limit) {
        this(limit, null);
    }

    /**
     * A budget as {@link #InboundBudget(long)} whose message buffers come from {@code buffers} and
     * go back to it once answered: the bytes a buffer holds are charged here while it is in use,
     * and the pool keeps idle ones beside the limit, up to its own bound.
     *
     * @param limit the bytes large messages may hold at once, over all connections
     * @param buffers where message buffers come from, or null for a fresh array per message
     * @throws IllegalArgumentException when {@code limit} is not positive
     */
    public InboundBudget(long limit, MessageBufferPool buffers) {
        this.buffers = buffers;
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        this.limit = limit;
        this.reserve = Math.max(1 << 20, limit / 16);
    }

    /**
     * Takes {@code bytes} for a message of {@code messageBytes}; false (and nothing taken) when
     * they are not there.
     *
     * @param bytes the bytes to take
     * @param messageBytes the size of the message they are for, which decides whether the reserve may be used
     * @return whether they were taken
     */
    public boolean tryReserve(long bytes, long messageBytes) {
        long allowed = messageBytes <= SMALL_MESSAGE_BYTES ? limit + reserve : limit;
        while (true) {
            long now = used.get();
            if (now + bytes > allowed) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /**
     * Gives back {@code bytes} taken earlier.
     *
     * @param bytes the bytes, as taken with {@link #tryReserve}
     */
    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /**
     * Bytes taken and not given back yet, the reserve's included.
     *
     * @return the bytes
     */
    public long used() {
        return used.get();
    }

    /**
     * The limit for large messages, as given; named in the error a refused connection gets.
     *
     * @return the bytes
     */
    public long limit() {
        return limit;
    }

    /**
     * Where this server's message buffers come from and go back to.
     *
     * @return the pool, or null when each message gets a fresh array
     */
    public MessageBufferPool buffers() {
        return buffers;
    }
}
