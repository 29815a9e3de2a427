package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;

/**
 * Catches the bytes of the next request a {@link org.webpolicy.transport.PolicyClient} sends from one thread, and of its
 * reply, exactly as they went on the wire, without copying them: a recorder on the robot's
 * control thread ({@code RecordingPolicy}) takes the request frame the client already built
 * instead of encoding the observation again. Armed on the thread that calls the client
 * ({@link #arm()}), disarmed after the call; calls from other threads (pipelined
 * {@code stepAsync} sends) are not caught.
 *
 * <p>The request is the frame buffer itself: the client swaps in a fresh buffer from a small
 * pool and hands this one over ({@link CapturedRequest}); whoever takes it releases it when done,
 * which returns it to the pool. When every pooled buffer is still out (a writer that fell
 * behind), nothing is caught and {@link #missed()} says so: the client never waits and never
 * allocates beyond the pool for a capture.
 *
 * <p>Not thread-safe: one capture belongs to one calling thread at a time.
 */
public final class ClientCapture {

    private static final ThreadLocal<ClientCapture> ARMED = new ThreadLocal<>();

    private CapturedRequest request;
    private ByteBuffer reply;
    private boolean missed;

    /** A capture, not armed. */
    public ClientCapture() {
    }

    /** Arms this capture on the calling thread, empty: the next request sent from it lands here. */
    public void arm() {
        discard();
        ARMED.set(this);
    }

    /** Stops catching on the calling thread. What was caught stays until taken or discarded. */
    public void disarm() {
        // Not remove(): the thread's entry stays, and the next arm() allocates nothing.
        ARMED.set(null);
    }

    /**
     * The request caught since {@link #arm()}, now the caller's to release; null when none was.
     *
     * @return the request, or null
     */
    public CapturedRequest takeRequest() {
        CapturedRequest r = request;
        request = null;
        return r;
    }

    /**
     * The reply to the caught request as it arrived (a message of its own, never reused), or null.
     *
     * @return a read-only view of the reply, or null
     */
    public ByteBuffer reply() {
        return reply;
    }

    /**
     * True when a request was sent since {@link #arm()} but not caught, since every pooled buffer
     * was still out.
     *
     * @return whether one was missed
     */
    public boolean missed() {
        return missed;
    }

    /** Releases a request not taken and forgets the reply. */
    public void discard() {
        if (request != null) {
            request.release();
            request = null;
        }
        reply = null;
        missed = false;
    }

    /**
     * The capture armed on the calling thread (the client's connection asks, once per request).
     *
     * @return the capture, or null
     */
    public static ClientCapture armed() {
        return ARMED.get();
    }

    /**
     * A request went out (called by the client's connection).
     *
     * @param sent the request, or null when no buffer could be handed over
     */
    public void sent(CapturedRequest sent) {
        if (request != null) {
            request.release();
        }
        request = sent;
        missed = sent == null;
        reply = null;
    }

    /**
     * Its reply arrived (called by the client's connection).
     *
     * @param message the reply message, never reused by the client
     */
    public void received(byte[] message) {
        reply = ByteBuffer.wrap(message).asReadOnlyBuffer();
    }
}
