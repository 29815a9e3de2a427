package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

/**
 * A request message a {@link ClientCapture} caught: the frame the client wrote, handed over whole.
 * Its payload is still masked as it went on the wire; {@link #payload()} unmasks it in place, on
 * the thread that calls it (a recorder's writer thread, not the robot's). {@link #release()} gives
 * the buffer back to the client's pool; after it the bytes are the client's again.
 *
 * <p>Owned by one thread at a time: the one that took it, then whichever it hands it to.
 */
public final class CapturedRequest {

    private final ByteBuffer frame;
    private final int payloadStart;
    private final int key;
    private final Consumer<ByteBuffer> pool;
    private final List<ByteBuffer> segments;
    private boolean unmasked;
    private boolean released;

    /** A masked frame, from its first byte to its limit, returned to {@code pool} on release (null: not pooled). */
    CapturedRequest(ByteBuffer frame, Consumer<ByteBuffer> pool) {
        this.frame = frame;
        this.pool = pool;
        int second = frame.get(1) & 0x7f;
        int lengthBytes = second == 127 ? 8 : second == 126 ? 2 : 0;
        boolean masked = (frame.get(1) & 0x80) != 0;
        this.payloadStart = 2 + lengthBytes + (masked ? 4 : 0);
        int k = 2 + lengthBytes;
        // The key's bytes in the order FrameCodec wrote them (low byte first).
        this.key = masked ? (frame.get(k) & 0xff) | (frame.get(k + 1) & 0xff) << 8 | (frame.get(k + 2) & 0xff) << 16
                | (frame.get(k + 3) & 0xff) << 24 : 0;
        this.segments = null;
    }

    /**
     * A message not framed by us (the library's path, {@code wss://}): its segments by reference,
     * nothing to release.
     *
     * @param message the message
     * @return the request
     */
    public static CapturedRequest of(EncodedMessage message) {
        return new CapturedRequest(message.segments());
    }

    private CapturedRequest(List<ByteBuffer> segments) {
        this.frame = null;
        this.pool = null;
        this.payloadStart = 0;
        this.key = 0;
        this.segments = List.copyOf(segments);
    }

    /**
     * The message's bytes, unmasked (the first call unmasks the frame in place).
     *
     * @return the message as segments, read-only views, in order
     * @throws IllegalStateException after {@link #release()}
     */
    public List<ByteBuffer> payload() {
        if (released) {
            throw new IllegalStateException("the captured request was released");
        }
        if (segments != null) {
            return segments;
        }
        ByteBuffer payload = frame.duplicate().position(payloadStart).limit(frame.limit());
        if (!unmasked) {
            FrameMasking.unmask(payload.duplicate(), payload.remaining(), key, 0);
            unmasked = true;
        }
        return List.of(payload.slice().asReadOnlyBuffer());
    }

    /**
     * The message's length in bytes.
     *
     * @return a count
     */
    public long size() {
        if (segments == null) {
            return frame.limit() - payloadStart;
        }
        long n = 0;
        for (ByteBuffer s : segments) {
            n += s.remaining();
        }
        return n;
    }

    /** Gives the buffer back to the client; idempotent. */
    public void release() {
        if (released) {
            return;
        }
        released = true;
        if (pool != null) {
            pool.accept(frame);
        }
    }
}
