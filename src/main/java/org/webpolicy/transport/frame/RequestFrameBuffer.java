package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where a client connection builds its request frames: one direct buffer, kept from one request
 * to the next. Direct, because a socket channel writes a direct buffer as it is, where a heap
 * array is first copied into a temporary direct buffer by the JDK (a second copy of a camera
 * observation per step); kept, because allocating (and zeroing) a buffer as large as each
 * observation costs as much as the copy itself.
 *
 * <p>A frame larger than {@link #KEPT_FRAME_BYTES} gets a direct buffer of its own, dropped after
 * its write: a rare huge request does not pin its size in memory for the connection's life.
 *
 * <p>A written frame can be handed over whole to a {@link ClientCapture} ({@link #handOff}): the
 * next frame is built in a buffer the capture's owner gave back, or a new one while fewer than
 * {@link #MAX_LENT} are out. A swap, not a copy, so recording costs the caller no pass over the
 * message.
 *
 * <p>Not thread-safe: the frame returned is in use until it has been written, so the connection
 * builds and writes one frame at a time under its write lock. Buffers come back from any thread.
 */
public final class RequestFrameBuffer {

    /** Request frames up to this size are built in the buffer kept for the connection's next one. */
    static final int KEPT_FRAME_BYTES = 8 << 20;

    /** Frames handed over and not yet given back at most: bounds what a slow recorder holds. */
    static final int MAX_LENT = 16;

    /** Whether frames are built in direct buffers (for a channel) or on the heap (for TLS, which takes arrays). */
    private final boolean direct;
    /** The buffer kept for the next frame; null until the first one. */
    private ByteBuffer kept;
    /** Buffers given back by the capture's owner, for the next frames. */
    private final ConcurrentLinkedQueue<ByteBuffer> returned = new ConcurrentLinkedQueue<>();
    private final AtomicInteger lent = new AtomicInteger();

    /** Frames in direct buffers, for a socket channel. */
    public RequestFrameBuffer() {
        this(true);
    }

    /**
     * Frames in direct buffers when {@code direct}, else in heap buffers (a TLS socket's stream takes arrays).
     *
     * @param direct whether frames are built in direct buffers
     */
    public RequestFrameBuffer(boolean direct) {
        this.direct = direct;
    }

    /**
     * Builds {@code message} as a masked frame (a client's frames always are).
     *
     * @param message the request, as the codec encoded it
     * @return a buffer (direct unless made for TLS) holding exactly the frame, from position 0 to its limit; valid until
     *     the next call
     */
    public ByteBuffer frame(EncodedMessage message) {
        int bytes = FrameCodec.frameBytes(message, true);
        ByteBuffer into = kept;
        if (into == null) {
            into = returned.poll();
            kept = into;
        }
        if (into == null || into.capacity() < bytes) {
            if (bytes > KEPT_FRAME_BYTES) {
                into = allocate(bytes);
            } else {
                // Room for a little growth: observations whose size varies (compressed images)
                // do not allocate a new buffer each time one is a few bytes longer.
                into = allocate((int) Math.min(KEPT_FRAME_BYTES, bytes + (long) bytes / 8));
                kept = into;
            }
        }
        return FrameCodec.encode(message, true, into);
    }

    /**
     * Hands {@code written}, the frame {@link #frame} last returned, over to a capture; the next
     * frame goes into another buffer.
     *
     * @param written the frame just written
     * @return the frame as a captured request, or null when {@link #MAX_LENT} are already out
     */
    public CapturedRequest handOff(ByteBuffer written) {
        if (written != kept) {
            return new CapturedRequest(written, null); // a huge frame's own buffer: nothing to return
        }
        if (lent.get() >= MAX_LENT) {
            return null;
        }
        lent.incrementAndGet();
        kept = null;
        return new CapturedRequest(written, this::giveBack);
    }

    private void giveBack(ByteBuffer buffer) {
        returned.offer(buffer);
        lent.decrementAndGet();
    }

    /** Buffers handed over and not given back (for tests). */
    int lent() {
        return lent.get();
    }

    private ByteBuffer allocate(int bytes) {
        return direct ? ByteBuffer.allocateDirect(bytes) : ByteBuffer.allocate(bytes);
    }

    /** The capacity of the buffer kept for the next frame, 0 before the first (for tests). */
    int keptCapacity() {
        return kept == null ? 0 : kept.capacity();
    }
}
