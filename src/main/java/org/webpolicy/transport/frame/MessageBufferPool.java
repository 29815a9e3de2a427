package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's inbound message buffers, kept for the next messages instead of becoming garbage:
 * a 600 KB observation grown in a fresh array per message, and a 3.7 MB one allocated as a
 * humongous object each time, were nine tenths of the bytes a server allocated and the young
 * pauses behind its tail.
 *
 * <p>Arrays come in size classes, four per power of two from {@link #MIN_POOLED_BYTES} (a
 * message is held in at most a quarter more than its bytes); smaller messages are not pooled.
 * Only idle arrays are bounded here ({@link #maxIdleBytes()}): arrays in use are charged to the
 * {@link InboundBudget} by whoever holds them, as any message buffer is, and an array that is never
 * given back is simply collected. A connection holds an array only while a message is received
 * or answered; an idle one holds none.
 *
 * <p>An array is lent by {@link #take} and comes back with {@link #give}; until then it is never
 * lent again. Giving back an array that is not lent (one the pool never lent, or one already back)
 * does nothing; each holder gives back once, as a second give after the array was lent again would
 * give away the next holder's array. Thread-safe.
 */
public final class MessageBufferPool {

    /** Arrays smaller than this are not pooled: allocating one costs less than keeping it. */
    public static final int MIN_POOLED_BYTES = 4 << 10;

    private final long maxIdleBytes;
    private final ConcurrentHashMap<Integer, ConcurrentLinkedDeque<byte[]>> idle = new ConcurrentHashMap<>();
    private final AtomicLong idleBytes = new AtomicLong();
    /** Arrays lent and not given back; {@code byte[]} compares by identity. */
    private final Set<byte[]> lent = ConcurrentHashMap.newKeySet();

    /**
     * A pool that keeps at most {@code maxIdleBytes} in idle arrays.
     *
     * @param maxIdleBytes the bytes of arrays kept while nobody uses them
     * @throws IllegalArgumentException when {@code maxIdleBytes} is negative
     */
    public MessageBufferPool(long maxIdleBytes) {
        if (maxIdleBytes < 0) {
            throw new IllegalArgumentException("maxIdleBytes must not be negative, got " + maxIdleBytes);
        }
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * The bytes of the array {@link #take} lends for {@code bytes}: its size class, or {@code bytes}
     * itself when that is too small (or too large) to pool.
     *
     * @param bytes the bytes wanted
     * @return at least {@code bytes}, at most a quarter more (for pooled sizes)
     */
    public static int classBytes(int bytes) {
        if (bytes <= MIN_POOLED_BYTES) {
            return bytes < MIN_POOLED_BYTES ? bytes : MIN_POOLED_BYTES;
        }
        long step = Integer.highestOneBit(bytes - 1) >> 2;
        long rounded = (bytes + step - 1) / step * step;
        return rounded > Integer.MAX_VALUE - 16 ? bytes : (int) rounded;
    }

    /**
     * An array of {@link #classBytes(int) classBytes(bytes)}: an idle one of that class, else a new one.
     * Its contents are whatever its last user left: the caller writes before it reads.
     *
     * @param bytes the bytes wanted
     * @return the array, lent until {@link #give}
     * @throws OutOfMemoryError when a new array does not fit the heap
     */
    public byte[] take(int bytes) {
        int size = classBytes(bytes);
        if (size < MIN_POOLED_BYTES) {
            return new byte[size];
        }
        ConcurrentLinkedDeque<byte[]> free = idle.get(size);
        byte[] array = free == null ? null : free.pollFirst();
        if (array != null) {
            idleBytes.addAndGet(-size);
        } else {
            array = new byte[size];
        }
        lent.add(array);
        return array;
    }

    /**
     * Gives back an array {@link #take} lent, once nothing refers to it any more; kept for the next
     * message while the idle bound allows, else left to the collector.
     *
     * @param array the array; ignored when it is not lent now (given back already, or never the pool's)
     * @return whether the array was lent and is now back
     */
    public boolean give(byte[] array) {
        if (array == null || !lent.remove(array)) {
            return false;
        }
        int size = array.length;
        if (idleBytes.addAndGet(size) > maxIdleBytes) {
            idleBytes.addAndGet(-size);
            return true;
        }
        // Most recently used first: its pages are the ones still in cache.
        idle.computeIfAbsent(size, s -> new ConcurrentLinkedDeque<>()).offerFirst(array);
        return true;
    }

    /**
     * Gives back the array behind {@code buffer} (see {@link #give(byte[])}); a buffer with no
     * accessible array is ignored.
     *
     * @param buffer a heap buffer over an array the pool lent, or any other buffer
     * @return whether an array was given back
     */
    public boolean give(ByteBuffer buffer) {
        return buffer != null && buffer.hasArray() && give(buffer.array());
    }

    /**
     * Whether {@code array} is lent now (for tests and checks).
     *
     * @param array an array
     * @return true between its {@link #take} and its {@link #give}
     */
    public boolean isLent(byte[] array) {
        return lent.contains(array);
    }

    /**
     * Bytes in idle arrays now.
     *
     * @return the bytes
     */
    public long idleBytes() {
        return idleBytes.get();
    }

    /**
     * The bound on idle bytes, as given.
     *
     * @return the bytes
     */
    public long maxIdleBytes() {
        return maxIdleBytes;
    }
}
