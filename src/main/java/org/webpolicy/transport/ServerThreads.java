package org.webpolicy.transport;

import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The server's own threads: daemons with names that say what they do, in bounded pools. */
final class ServerThreads {

    private ServerThreads() {
    }

    static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * At most {@code threads} workers, idle ones let go after 30 s. The queue holds at most one
     * task per connection (a connection's requests run one after another through a
     * {@link SerialExecutor}), so it is bounded by the connection limit. A transfer queue hands a
     * task straight to an idle worker that is still spinning, as the cached pool did before: with
     * a linked blocking queue every request paid a park and wake-up (measured: the tiny round
     * trip 10-20 us slower).
     */
    static ThreadPoolExecutor workers(int threads) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedTransferQueue<>(), daemon("webpolicy-worker-"));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
