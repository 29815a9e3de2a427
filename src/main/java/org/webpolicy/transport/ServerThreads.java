package org.webpolicy.transport;

import java.util.concurrent.LinkedBlockingQueue;
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
     * {@link SerialExecutor}), so it is bounded by the connection limit. A linked blocking queue:
     * an idle worker parks until a request comes. A transfer queue, whose idle workers spin before
     * they park, saved a wake-up when the library's threads stood between socket and worker; with
     * the server's own I/O loop handing requests over, it cost more than it saved: measured
     * alternately on the shared 2-core machine (tiny round trip, four runs each), the worker's CPU
     * per request 21-32 us against 29-56 us with the transfer queue; process CPU, medians and
     * throughput moved within the machine's noise.
     */
    static ThreadPoolExecutor workers(int threads) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), daemon("webpolicy-worker-"));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
