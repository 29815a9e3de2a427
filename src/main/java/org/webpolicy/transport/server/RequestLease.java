package org.webpolicy.transport.server;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.webpolicy.transport.frame.MessageBufferPool;

/**
 * A request's pooled buffer lent to an {@link org.webpolicy.transport.ExchangeTap}: running it gives
 * the buffer back to the pool, once; later runs do nothing. Any thread.
 */
final class RequestLease implements Runnable {

    private final MessageBufferPool pool;
    private final AtomicBoolean given = new AtomicBoolean();
    private volatile ByteBuffer request;

    RequestLease(MessageBufferPool pool, ByteBuffer request) {
        this.pool = pool;
        this.request = request;
    }

    @Override
    public void run() {
        if (given.compareAndSet(false, true)) {
            pool.give(request);
            request = null;
        }
    }
}
