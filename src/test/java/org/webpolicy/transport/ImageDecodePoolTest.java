package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.server.ImageDecodePool;

/**
 * The decode pool's bounds, with decodes that wait on latches (no timing): slots refuse the
 * observation past them, a client that leaves has its queued decode dropped and its running one
 * stopped, and memory is let go only once a decode has really ended.
 */
class ImageDecodePoolTest {

    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final ImageDecodePool pool = new ImageDecodePool(1, 2);

    @AfterEach
    void stop() {
        workers.shutdownNow();
        pool.shutdownNow();
    }

    private static final long FAR = Long.MAX_VALUE / 4;

    /** A decode that says it began, then waits until it is told to stop (or released), polling as decoders do. */
    private static Function<BooleanSupplier, String> blocking(CountDownLatch began, CountDownLatch release) {
        return stop -> {
            began.countDown();
            while (release.getCount() > 0) {
                if (stop.getAsBoolean()) {
                    throw new CancellationException("stopped");
                }
                Thread.onSpinWait();
            }
            return "decoded";
        };
    }

    @Test
    void pastItsSlotsAnObservationIsRefusedAtOnceAndHoldsNothing() throws Exception {
        CountDownLatch began = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ended = new AtomicInteger();
        long deadline = System.nanoTime() + FAR;
        Future<String> first = workers.submit(() -> pool.run(blocking(began, release), deadline, () -> false, ended::incrementAndGet));
        assertTrue(began.await(10, TimeUnit.SECONDS));
        Future<String> second = workers.submit(() -> pool.run(stop -> "queued", deadline, () -> false, ended::incrementAndGet));
        assertTrue(Probes.await(() -> pool.busySlots() == 2, java.time.Duration.ofSeconds(10)));
        AtomicBoolean third = new AtomicBoolean();
        ImageDecodePool.Stopped e = assertThrows(ImageDecodePool.Stopped.class,
                () -> pool.run(stop -> { third.set(true); return "never"; }, deadline, () -> false, ended::incrementAndGet));
        assertEquals(ImageDecodePool.Stop.BUSY, e.why);
        assertEquals(1, pool.refused.get());
        assertEquals(1, ended.get(), "the refused one let go of its memory at once");
        release.countDown();
        assertEquals("decoded", first.get(10, TimeUnit.SECONDS));
        assertEquals("queued", second.get(10, TimeUnit.SECONDS));
        assertEquals(false, third.get());
        assertEquals(3, ended.get());
        assertEquals(0, pool.busySlots());
    }

    @Test
    void aClientThatLeavesHasItsQueuedDecodeDroppedAndItsRunningOneStopped() throws Exception {
        CountDownLatch began = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AtomicBoolean goneA = new AtomicBoolean();
        AtomicBoolean goneB = new AtomicBoolean();
        AtomicInteger endedA = new AtomicInteger();
        AtomicInteger endedB = new AtomicInteger();
        AtomicBoolean bRan = new AtomicBoolean();
        long deadline = System.nanoTime() + FAR;
        Future<String> a = workers.submit(() -> pool.run(blocking(began, never), deadline, goneA::get, endedA::incrementAndGet));
        assertTrue(began.await(10, TimeUnit.SECONDS));
        Future<String> b = workers.submit(() -> pool.run(stop -> { bRan.set(true); return "b"; }, deadline, goneB::get,
                endedB::incrementAndGet));
        assertTrue(Probes.await(() -> pool.busySlots() == 2, java.time.Duration.ofSeconds(10)));
        // B's client leaves while B waits behind A: B is dropped, never decoded.
        goneB.set(true);
        ImageDecodePool.Stopped stoppedB = assertStopped(b);
        assertEquals(ImageDecodePool.Stop.GONE, stoppedB.why);
        assertEquals(1, pool.dropped.get());
        assertEquals(1, endedB.get());
        // A's client leaves while A decodes: A is told to stop, and does.
        goneA.set(true);
        assertEquals(ImageDecodePool.Stop.GONE, assertStopped(a).why);
        assertTrue(Probes.await(() -> pool.stopped.get() == 1, java.time.Duration.ofSeconds(10)));
        assertTrue(Probes.await(() -> endedA.get() == 1, java.time.Duration.ofSeconds(10)));
        assertEquals(false, bRan.get());
        assertEquals(1, pool.started.get(), "only A ever began");
        assertEquals(0, pool.finished.get());
    }

    @Test
    void aDecodePastItsDeadlineIsAbandonedAndItsMemoryLetGoOnlyWhenItEnds() throws Exception {
        CountDownLatch began = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ended = new AtomicInteger();
        // A decoder that ignores the stop signal until released: the worker leaves at the
        // deadline, the memory stays charged until the decoder has really ended.
        Function<BooleanSupplier, String> deaf = stop -> {
            began.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "late";
        };
        ImageDecodePool.Stopped e = assertThrows(ImageDecodePool.Stopped.class,
                () -> pool.run(deaf, System.nanoTime() + 200_000_000L, () -> false, ended::incrementAndGet));
        assertEquals(ImageDecodePool.Stop.DEADLINE, e.why);
        assertTrue(began.await(10, TimeUnit.SECONDS));
        assertEquals(0, ended.get(), "still decoding: its memory is still held");
        release.countDown();
        assertTrue(Probes.await(() -> ended.get() == 1, java.time.Duration.ofSeconds(10)));
        assertEquals(0, pool.busySlots(), "the worker's slot was given back when it left");
    }

    @Test
    void anObservationsImagesAreDecodedOnThePoolsThreadsAndComeBackInTheirPlaces() {
        ImageDecodePool two = new ImageDecodePool(2, 2);
        try {
            java.util.Random rng = new java.util.Random(3);
            java.util.Map<String, Object> step = new java.util.LinkedHashMap<>();
            for (int i = 0; i < 4; i++) {
                byte[] px = new byte[160 * 160 * 3];
                rng.nextBytes(px);
                java.util.Arrays.fill(px, 0, px.length / 2, (byte) (40 * i)); // half of each camera its own flat colour
                step.put("cam" + i, org.webpolicy.array.NdArray.ofUint8(px, 160, 160, 3));
            }
            java.util.Map<String, Object> packed = org.webpolicy.image.compression.ImageCompression.compress(step,
                    org.webpolicy.image.compression.ImageCodec.PNG);
            org.webpolicy.image.compression.ImageDecodePlan plan = org.webpolicy.image.compression.ImageDecodePlan.of(
                    packed, org.webpolicy.image.compression.ImageCompression.Limits.DEFAULT);
            AtomicInteger ended = new AtomicInteger();
            java.util.Map<String, Object> back = two.run(stop -> plan.decode(stop, two.helpers()),
                    System.nanoTime() + FAR, () -> false, ended::incrementAndGet);
            assertEquals(step, back, "PNG is lossless: every camera back in its own place");
            assertEquals(1, ended.get());
            assertEquals(1, two.started.get(), "one observation, however many images");
        } finally {
            two.shutdownNow();
        }
    }

    private static ImageDecodePool.Stopped assertStopped(Future<String> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof ImageDecodePool.Stopped, String.valueOf(e.getCause()));
            return (ImageDecodePool.Stopped) e.getCause();
        }
        throw new AssertionError("the decode was not stopped");
    }
}
