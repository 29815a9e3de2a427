package org.webpolicy.transport;

import org.webpolicy.transport.metrics.ServerMetrics;

/** The cost of the server's metrics, measured from the benchmarks (the counters are package-private). */
public final class MetricsCost {

    private MetricsCost() {
    }

    /**
     * Nanoseconds per request of what the request path records: arrival, queue wait, decode,
     * policy call, encode and reply, with {@code threads} threads recording at once.
     *
     * @param requests requests recorded per thread
     * @param threads threads recording at once
     * @return nanoseconds of one thread's time per request
     * @throws InterruptedException when interrupted while waiting for the threads
     */
    public static double recordingNanosPerRequest(int requests, int threads) throws InterruptedException {
        ServerMetrics metrics = new ServerMetrics();
        long[] elapsed = new long[threads];
        Thread[] running = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int me = t;
            running[t] = new Thread(() -> {
                long t0 = System.nanoTime();
                for (int i = 0; i < requests; i++) {
                    long now = System.nanoTime();
                    metrics.received(200);
                    metrics.queueSeconds.recordNanos(now - t0 & 0xffff);
                    metrics.decodeSeconds.recordNanos(i & 0xfff);
                    metrics.batchRan(1 + (i & 15), 8_000_000);
                    metrics.encodeSeconds.recordNanos(i & 0x3fff);
                    metrics.answered(300, System.nanoTime() - now);
                }
                elapsed[me] = System.nanoTime() - t0;
            });
        }
        for (Thread t : running) {
            t.start();
        }
        long total = 0;
        for (int t = 0; t < threads; t++) {
            running[t].join();
            total += elapsed[t];
        }
        if (metrics.requests.sum() != (long) requests * threads) {
            throw new IllegalStateException("lost counts: " + metrics.requests.sum());
        }
        return (double) total / threads / requests;
    }

    /**
     * The mean number of observations per policy call a server has made so far.
     *
     * @param server the server
     * @return observations per call, or 0 before the first call
     */
    public static double meanBatchSize(PolicyServer server) {
        long calls = server.metrics().batchSizes.count();
        return calls == 0 ? 0 : (double) server.metrics().batchSizes.sum() / calls;
    }
}
