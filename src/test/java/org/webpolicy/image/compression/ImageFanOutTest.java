package org.webpolicy.image.compression;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Coding an observation's images side by side, with work that waits on latches instead of
 * timing: results in the images' order, each image coded once, helpers that never start or are
 * refused, the failure of the right image, a stop that ends every thread before the call returns.
 */
class ImageFanOutTest {

    private final ExecutorService threads = Executors.newFixedThreadPool(3);

    @AfterEach
    void close() {
        threads.shutdownNow();
    }

    private static final long MANY = ImageFanOut.MIN_PIXELS;

    @Test
    void resultsComeBackInTheImagesOrderEachCodedOnceOnMoreThanOneThread() throws Exception {
        CountDownLatch secondStarted = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        Set<String> workers = ConcurrentHashMap.newKeySet();
        List<String> out = ImageFanOut.run(8, MANY, (i, stop) -> {
            calls.incrementAndGet();
            workers.add(Thread.currentThread().getName());
            if (i == 1) {
                secondStarted.countDown();
            }
            if (i == 0) {
                // Image 0 (the caller's first) waits until another thread took image 1: the images
                // are coded side by side, or this never ends.
                await(secondStarted);
            }
            return "image " + i;
        }, () -> false, threads);
        assertEquals(IntStream.range(0, 8).mapToObj(i -> "image " + i).toList(), out);
        assertEquals(8, calls.get(), "each image coded once");
        assertTrue(workers.size() >= 2, "threads: " + workers);
    }

    @Test
    void helpersThatNeverStartOrAreRefusedLeaveTheWorkToTheCaller() {
        List<Runnable> parked = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        Set<Thread> workers = ConcurrentHashMap.newKeySet();
        ImageFanOut.Work<Integer> work = (i, stop) -> {
            calls.incrementAndGet();
            workers.add(Thread.currentThread());
            return i * i;
        };
        assertEquals(List.of(0, 1, 4, 9), ImageFanOut.run(4, MANY, work, () -> false, parked::add));
        assertEquals(3, parked.size(), "a helper asked for every image but the caller's first");
        parked.forEach(Runnable::run); // late: they find the caller finished and do nothing
        assertEquals(4, calls.get());
        assertEquals(Set.of(Thread.currentThread()), workers);
        assertEquals(List.of(0, 1, 4, 9), ImageFanOut.run(4, MANY, work, () -> false, r -> {
            throw new RejectedExecutionException("closing");
        }));
        // Small images are not worth a hand-over: nothing is asked of the executor.
        assertEquals(List.of(0, 1), ImageFanOut.run(2, MANY - 1, work, () -> false, r -> {
            throw new AssertionError("asked for a helper for " + (MANY - 1) + " pixels");
        }));
    }

    @Test
    void theFailingImagesOwnErrorIsThrownAndTheOthersStop() {
        for (int round = 0; round < 20; round++) {
            IllegalArgumentException bad = new IllegalArgumentException("image 2 is corrupt");
            AtomicInteger stoppedByIt = new AtomicInteger();
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> ImageFanOut.run(4, MANY, (i, stop) -> {
                if (i == 2) {
                    throw bad;
                }
                // The others run until the failure stops them: they end only through their stop signal.
                while (!stop.getAsBoolean()) {
                    Thread.onSpinWait();
                }
                stoppedByIt.incrementAndGet();
                throw new CancellationException("stopped");
            }, () -> false, threads));
            assertSame(bad, thrown, "round " + round);
            assertTrue(stoppedByIt.get() >= 1, "the caller's image was stopped by the failure");
        }
    }

    @Test
    void aStopEndsEveryThreadBeforeTheCallReturns() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        CountDownLatch allRunning = new CountDownLatch(4);
        assertThrows(CancellationException.class, () -> ImageFanOut.run(4, MANY, (i, stop) -> {
            allRunning.countDown();
            while (!stop.getAsBoolean()) {
                Thread.onSpinWait();
            }
            throw new CancellationException("stopped");
        }, () -> polls.incrementAndGet() > 1000 && allRunning.getCount() == 0, threads));
        int atReturn = polls.get();
        threads.shutdown();
        assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(atReturn, polls.get(), "a thread still asked the stop signal after the call returned");
    }

    @Test
    void noImagesNoWork() {
        assertEquals(List.of(), ImageFanOut.run(0, 0, (i, stop) -> {
            throw new AssertionError("called");
        }, () -> false, threads));
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(60, TimeUnit.SECONDS), "no other thread took image 1");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
