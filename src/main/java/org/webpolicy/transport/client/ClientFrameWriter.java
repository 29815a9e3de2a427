package org.webpolicy.transport.client;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.frame.ClientCapture;
import org.webpolicy.transport.frame.RequestFrameBuffer;
import org.webpolicy.transport.protocol.ClientText;

/**
 * The writing half of a {@link ClientEndpoint}: request frames on the caller's thread, and the
 * control frames (pongs, pings, the close) from whichever thread has one to send. Every frame is
 * masked, as a client's must be.
 *
 * <p>Invariant: one frame is written whole before another starts ({@link #lock}). A control frame
 * is queued and written by whoever holds the lock next, after the frame in progress, so a pong
 * never waits for the lock behind a camera observation and never lands inside one. Each write is
 * bounded ({@link WriteWatchdog}): one not done in time has the connection cut, which makes it fail.
 */
final class ClientFrameWriter {

    private static final int PING = 0x9;
    private static final int PONG = 0xA;
    private static final int CLOSE = 0x8;

    private final boolean tls;
    /** Cuts the connection, saying why: what unblocks a write the server does not read. */
    private final Consumer<String> cut;
    private final ReentrantLock lock = new ReentrantLock();
    /** Control frames waiting for the lock, built and masked already. */
    private final ConcurrentLinkedQueue<ByteBuffer> control = new ConcurrentLinkedQueue<>();
    /** Where request frames are built; guarded by {@link #lock}. */
    private final RequestFrameBuffer frames;
    private volatile SocketChannel channel;
    /** What frames are written to over TLS; null for a plain channel. */
    private volatile OutputStream tlsOut;

    /** A writer for a plain channel, or a TLS stream when {@code tls}; {@code cut} ends the connection. */
    ClientFrameWriter(boolean tls, Consumer<String> cut) {
        this.tls = tls;
        this.cut = cut;
        // Direct for the channel, which then writes the frame as it is; heap for TLS, which takes arrays.
        this.frames = new RequestFrameBuffer(!tls);
    }

    /** Where frames go from now on: the channel, or for TLS the stream of the socket layered on it. */
    void attach(SocketChannel channel, OutputStream tlsOut) {
        this.channel = channel;
        this.tlsOut = tlsOut;
    }

    /** Writes one request frame, and the control frames queued meanwhile. */
    void request(EncodedMessage message, long timeoutNanos) throws IOException {
        lock.lock();
        try {
            // Built, masked while copied, in the buffer kept for the connection: each payload byte
            // is touched once before the kernel (or TLS) takes it.
            ByteBuffer frame = frames.frame(message);
            write(frame, timeoutNanos);
            ClientCapture capture = ClientCapture.armed();
            if (capture != null) {
                capture.sent(frames.handOff(frame)); // a swap of buffers, for a recorder: no copy
            }
            try {
                writeQueued(timeoutNanos);
            } catch (IOException e) {
                // The request went out whole. A control frame queued behind it (often the echo of
                // the server's close, queued by the reader, which then closed the socket) failing
                // must not fail the request: its reply, an error text perhaps, may be in already.
                cut.accept("writing a control frame failed: " + ClientText.reason(e));
            }
        } finally {
            lock.unlock();
        }
        flush(timeoutNanos);
    }

    /** Sends a ping with an empty payload. */
    void ping(long timeoutNanos) {
        send(control(PING, new byte[0]), timeoutNanos);
    }

    /** Answers a ping with its {@code payload} (RFC 6455 5.5.3). */
    void pong(byte[] payload, long timeoutNanos) {
        send(control(PONG, payload), timeoutNanos);
    }

    /**
     * Sends a close frame with {@code code} (none when negative) and {@code reason}, cut to fit a
     * control frame without splitting a character.
     */
    void close(int code, String reason, long timeoutNanos) {
        if (code < 0) {
            send(control(CLOSE, new byte[0]), timeoutNanos);
            return;
        }
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, 123);
        while (n > 0 && n < text.length && (text[n] & 0xc0) == 0x80) {
            n--;
        }
        ByteBuffer payload = ByteBuffer.allocate(2 + n).putShort((short) code).put(text, 0, n);
        send(control(CLOSE, payload.array()), timeoutNanos);
    }

    private void send(ByteBuffer frame, long timeoutNanos) {
        control.add(frame);
        flush(timeoutNanos);
    }

    /** Writes the queued control frames when the lock is free; a writer holding it writes them after its frame. */
    private void flush(long timeoutNanos) {
        while (!control.isEmpty() && lock.tryLock()) {
            try {
                writeQueued(timeoutNanos);
            } catch (IOException e) {
                cut.accept("writing a control frame failed: " + ClientText.reason(e));
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private void writeQueued(long timeoutNanos) throws IOException {
        for (ByteBuffer frame = control.poll(); frame != null; frame = control.poll()) {
            write(frame, timeoutNanos);
        }
    }

    /** Writes {@code frame} whole, with the lock held; cuts the connection when that takes over {@code timeoutNanos}. */
    private void write(ByteBuffer frame, long timeoutNanos) throws IOException {
        SocketChannel c = channel;
        if (c == null) {
            throw new IOException("the connection is not open");
        }
        WriteWatchdog.Watch watch = WriteWatchdog.SHARED.watch(timeoutNanos, () -> cut.accept("a write was not done within "
                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms: the server stopped reading"));
        try (watch) {
            if (tls) {
                tlsOut.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            } else {
                while (frame.hasRemaining()) {
                    c.write(frame);
                }
            }
        } catch (IOException e) {
            if (watch.fired()) {
                throw new IOException("the request was not written within the request timeout ("
                        + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms): the server stopped reading", e);
            }
            throw e;
        }
    }

    /**
     * A masked control frame of at most 125 payload bytes. Built here, not through the library's
     * frame classes: its close frame rewrites a payload it is given.
     */
    private ByteBuffer control(int opcode, byte[] payload) {
        int key = ThreadLocalRandom.current().nextInt();
        ByteBuffer frame = tls ? ByteBuffer.allocate(6 + payload.length) : ByteBuffer.allocateDirect(6 + payload.length);
        frame.put((byte) (0x80 | opcode)).put((byte) (0x80 | payload.length)).putInt(key);
        for (int i = 0; i < payload.length; i++) {
            frame.put((byte) (payload[i] ^ (key >>> (8 * (3 - (i & 3))))));
        }
        return frame.flip();
    }
}
