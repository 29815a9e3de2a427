package org.webpolicy.image.compression;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Codes the images of one observation side by side: the calling thread and up to a few helpers
 * take the next image not yet taken until none is left, and the results come back in the images'
 * order. A step's cameras are independent, and one 224x224 JPEG takes a tenth of a millisecond or
 * more, far longer than waking a parked thread.
 *
 * <p>The caller always codes too, so a helper that is busy elsewhere or never starts costs nothing
 * but its share; a helper that has not started when the caller runs out of images is told not to
 * start. The call returns only once every helper that did start has stopped: nothing runs on for
 * the caller after it returns (a server charges an observation's decode until it has ended). When
 * one image fails, the others stop at their next check of the stop signal they are given, and the
 * failure of the first image in order that failed is thrown (not the stops it caused).
 */
final class ImageFanOut {

    /** One image's work: the result for image {@code index}, stopping when {@code stop} says so. */
    interface Work<T> {
        T code(int index, BooleanSupplier stop);
    }

    /**
     * Below this many pixels in all, an observation is coded on the calling thread: handing an
     * image over costs a thread's wake-up (tens of microseconds), as much as coding a 128x128 JPEG.
     */
    static final long MIN_PIXELS = 65536;

    /** Set to false, the library's own helpers are not used: every caller codes its images alone. */
    static final String PROPERTY = "webpolicy.image.parallel";

    /** The library's own helpers, for callers that bring none (a robot's compress, a plain decompress). */
    private static final class Shared {
        static final Executor HELPERS = create();

        private static Executor create() {
            int helpers = Math.min(3, Runtime.getRuntime().availableProcessors() - 1);
            if (helpers < 1) {
                return null;
            }
            // No queue: a helper starts now on an idle thread, or is not wanted (the caller codes
            // that image itself), never waits behind another observation's images.
            AtomicInteger made = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(0, helpers, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                    r -> {
                        Thread t = new Thread(r, "webpolicy-image-coder-" + made.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            return pool;
        }
    }

    private ImageFanOut() {
    }

    /**
     * The helpers of the library: up to three daemon threads (one fewer than the cores), made
     * when first needed and let go after 30 s idle; null on one core, or when {@value #PROPERTY}
     * is false (asked at every call).
     *
     * @return the executor, or null when the caller codes alone
     */
    static Executor sharedHelpers() {
        return "false".equalsIgnoreCase(System.getProperty(PROPERTY)) ? null : Shared.HELPERS;
    }

    /**
     * Runs {@code work} for images {@code 0 .. count-1} on the calling thread and, when
     * {@code helpers} is given and the images are worth it, on up to {@code count - 1} helpers.
     *
     * @param count the number of images
     * @param pixels the pixels of all of them, to judge whether helpers are worth waking
     * @param work the work of one image
     * @param stop asked by the work (through the signal it is given); true stops everything
     * @param helpers where helpers run, or null to code every image on the calling thread
     * @param <T> the result of one image
     * @return the results, in the images' order
     * @throws CancellationException when {@code stop} said so
     * @throws RuntimeException the failure of the first image in order that failed
     */
    static <T> List<T> run(int count, long pixels, Work<T> work, BooleanSupplier stop, Executor helpers) {
        if (count == 0) {
            return List.of();
        }
        Run<T> run = new Run<>(count, work, stop);
        if (helpers == null || count == 1 || pixels < MIN_PIXELS) {
            run.work();
            return run.results();
        }
        List<Helper> started = new ArrayList<>(count - 1);
        for (int i = 1; i < count; i++) {
            Helper helper = new Helper(run);
            try {
                helpers.execute(helper);
            } catch (RejectedExecutionException e) {
                break; // every helper busy, or the pool closing: the caller does the rest
            }
            started.add(helper);
        }
        run.work();
        boolean interrupted = false;
        for (Helper helper : started) {
            interrupted |= helper.finish(run);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return run.results();
    }

    /** What the caller and its helpers share. */
    private static final class Run<T> {
        private final int count;
        private final Work<T> work;
        private final BooleanSupplier stop;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicBoolean abort = new AtomicBoolean();
        private final AtomicInteger completed = new AtomicInteger();
        private final BooleanSupplier imageStop;
        private final Object[] results;
        /** The first failure by image index, and its index; guarded by this. */
        private RuntimeException failure;
        private int failedIndex = Integer.MAX_VALUE;
        private Error error;

        Run(int count, Work<T> work, BooleanSupplier stop) {
            this.count = count;
            this.work = work;
            this.stop = stop;
            this.results = new Object[count];
            this.imageStop = () -> abort.get() || stop.getAsBoolean();
        }

        /** Takes images until none is left or one failed. */
        void work() {
            while (!abort.get()) {
                int i = next.getAndIncrement();
                if (i >= count) {
                    return;
                }
                try {
                    results[i] = work.code(i, imageStop);
                    completed.incrementAndGet();
                } catch (CancellationException e) {
                    abort.set(true); // stopped from outside, or by another image's failure: which, is told at the end
                } catch (RuntimeException e) {
                    failed(i, e);
                } catch (Error e) {
                    synchronized (this) {
                        if (error == null) {
                            error = e;
                        }
                    }
                    abort.set(true);
                }
            }
        }

        private synchronized void failed(int index, RuntimeException e) {
            if (index < failedIndex) {
                failedIndex = index;
                failure = e;
            }
            abort.set(true);
        }

        /** Called once every helper that started has stopped. */
        @SuppressWarnings("unchecked")
        List<T> results() {
            synchronized (this) {
                if (error != null) {
                    throw error;
                }
                if (failure != null) {
                    throw failure;
                }
            }
            if (completed.get() < count) {
                throw new CancellationException("coding stopped");
            }
            return (List<T>) Arrays.asList(results);
        }

        void abort() {
            abort.set(true);
        }
    }

    /** A helper: runs the shared loop once it has claimed its start, unless the caller claimed it first. */
    private static final class Helper implements Runnable {
        private final Run<?> run;
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final CountDownLatch done = new CountDownLatch(1);

        Helper(Run<?> run) {
            this.run = run;
        }

        @Override
        public void run() {
            if (!claimed.compareAndSet(false, true)) {
                return; // the caller finished without it
            }
            try {
                run.work();
            } finally {
                done.countDown();
            }
        }

        /**
         * Keeps this helper from starting, or waits until it stopped. An interrupt cannot cut the
         * wait short (the helper may still be writing a result): it stops the images instead, and
         * is reported back.
         *
         * @return true when the caller was interrupted meanwhile
         */
        boolean finish(Run<?> shared) {
            if (claimed.compareAndSet(false, true)) {
                return false;
            }
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    return interrupted;
                } catch (InterruptedException e) {
                    interrupted = true;
                    shared.abort();
                }
            }
        }
    }
}
