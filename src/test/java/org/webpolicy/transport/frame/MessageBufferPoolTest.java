package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** The server's message buffers: size classes, one holder per array, the idle bound. */
class MessageBufferPoolTest {

    @Test
    void classesHoldTheBytesWithAtMostAQuarterToSpare() {
        assertEquals(100, MessageBufferPool.classBytes(100), "small sizes are not rounded (not pooled)");
        assertEquals(MessageBufferPool.MIN_POOLED_BYTES, MessageBufferPool.classBytes(MessageBufferPool.MIN_POOLED_BYTES));
        assertEquals(5120, MessageBufferPool.classBytes(4097));
        assertEquals(8192, MessageBufferPool.classBytes(8192));
        assertEquals(4 << 20, MessageBufferPool.classBytes(3_700_000));
        for (int i = 0; i < 10_000; i++) {
            int n = ThreadLocalRandom.current().nextInt(MessageBufferPool.MIN_POOLED_BYTES, 256 << 20);
            int c = MessageBufferPool.classBytes(n);
            assertTrue(c >= n && c <= n + n / 4 + 1, () -> n + " -> " + c);
            assertEquals(c, MessageBufferPool.classBytes(c), "a class is its own class");
        }
        assertEquals(Integer.MAX_VALUE - 20, MessageBufferPool.classBytes(Integer.MAX_VALUE - 20), "no overflow near the top");
    }

    @Test
    void anArrayIsLentToOneHolderUntilItIsGivenBack() {
        MessageBufferPool pool = new MessageBufferPool(1 << 20);
        byte[] a = pool.take(10_000);
        byte[] b = pool.take(10_000);
        assertNotSame(a, b, "a lent array is not lent again");
        assertEquals(MessageBufferPool.classBytes(10_000), a.length);
        assertTrue(pool.give(a));
        assertSame(a, pool.take(9_000), "a given-back array of the class is reused");
        assertTrue(pool.give(ByteBuffer.wrap(b, 0, 10).slice()), "given back through a view of it");
        assertFalse(pool.give(b), "twice does nothing");
        byte[] again = pool.take(10_000);
        assertSame(b, again);
        assertNotSame(b, pool.take(10_000), "so the array has one holder, not two");
        assertFalse(pool.give(new byte[10_240]), "an array the pool never lent is not taken in");
        assertFalse(pool.give(ByteBuffer.wrap(a).asReadOnlyBuffer()), "nor one it cannot see");
    }

    @Test
    void smallArraysAreNotPooled() {
        MessageBufferPool pool = new MessageBufferPool(1 << 20);
        byte[] small = pool.take(100);
        assertEquals(100, small.length);
        assertFalse(pool.give(small));
        assertEquals(0, pool.idleBytes());
    }

    @Test
    void idleArraysStayWithinTheBound() {
        MessageBufferPool pool = new MessageBufferPool(3 * 8192);
        List<byte[]> lent = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            lent.add(pool.take(8192));
        }
        for (byte[] a : lent) {
            assertTrue(pool.give(a));
        }
        assertEquals(3 * 8192, pool.idleBytes(), "three kept, seven left to the collector");
        Set<byte[]> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < 4; i++) {
            kept.add(pool.take(8192));
        }
        assertEquals(4, kept.size());
        assertEquals(0, pool.idleBytes());
        assertThrows(IllegalArgumentException.class, () -> new MessageBufferPool(-1));
    }

    /**
     * Many threads take, stamp, check and give back arrays of a few classes: an array handed to a
     * second holder while the first still has it would show the other's stamp.
     */
    @Test
    void concurrentHoldersNeverShareAnArray() throws Exception {
        MessageBufferPool pool = new MessageBufferPool(64L << 20);
        int threads = 8;
        ExecutorService exec = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte stamp = (byte) (t + 1);
                results.add(exec.submit(() -> {
                    int clashes = 0;
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    for (int i = 0; i < 20_000; i++) {
                        byte[] a = pool.take(5_000 + r.nextInt(3) * 5_000);
                        a[0] = stamp;
                        a[a.length - 1] = stamp;
                        Thread.onSpinWait();
                        if (a[0] != stamp || a[a.length - 1] != stamp || !pool.isLent(a)) {
                            clashes++;
                        }
                        pool.give(a);
                    }
                    return clashes;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(0, f.get());
            }
        } finally {
            exec.shutdownNow();
        }
        assertTrue(pool.idleBytes() <= 64L << 20);
    }
}
