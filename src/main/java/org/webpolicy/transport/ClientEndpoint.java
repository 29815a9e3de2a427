package org.webpolicy.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ServerHandshake;

/**
 * The Java-WebSocket adapter of one client connection: it turns the library's callbacks into
 * calls on a {@link Listener} and writes requests. Callbacks run on the library's read thread,
 * one at a time, in the order frames arrived.
 */
final class ClientEndpoint extends WebSocketClient {

    /** What the connection is told, on the library's read thread. */
    interface Listener {
        /** The handshake succeeded; {@code handshake} holds the server's response headers. */
        void opened(ServerHandshake handshake);

        /** A whole data frame (message) arrived. */
        void frame(ReplySlot.Frame frame);

        /** The connection ended (or never opened), with the close code and why. */
        void closed(int code, String reason);

        /** The library reported an error; {@link #closed} follows when it ends the connection. */
        void error(Exception e);
    }

    /** Request frames up to this size are built in one buffer kept for the connection's next one. */
    static final int KEPT_FRAME_BYTES = 8 << 20;

    private final Listener listener;
    private final boolean tls;
    /** Serialises request writes: the kept frame buffer is in use until its write returns. */
    private final Object writeLock = new Object();
    /** The last request frame's buffer, reused for the next (plain TCP only); null until one is kept. */
    private ByteBuffer keptFrame;
    /** The library's read thread, once it called us: what {@link #awaitReader} waits for. */
    private volatile Thread reader;

    ClientEndpoint(URI uri, ClientOptions options, Map<String, String> headers, int connectTimeoutMillis, Listener listener) {
        super(uri, new WireDraft(options.maxMessageBytes()), headers, connectTimeoutMillis);
        this.listener = listener;
        this.tls = options.sslContext() != null;
        setTcpNoDelay(true);
        setReceiveBufferSize(ClientOptions.READ_BUFFER_BYTES);
        setConnectionLostTimeout((int) Math.max(1, options.pingInterval().toSeconds()));
        if (tls) {
            setSocketFactory(options.sslContext().getSocketFactory());
        }
    }

    /**
     * Writes one request frame, failing when it is not written within {@code timeoutNanos} (a
     * server that stops reading would otherwise block the caller for good).
     */
    void write(EncodedMessage message, long timeoutNanos) {
        Socket tcp = getSocket();
        if (tls || tcp == null) {
            sendFrame(message); // queued for the library's writer thread: never blocks the caller
            return;
        }
        // Written on the caller's thread, not handed to the library's writer thread: one thread
        // wake-up less per request (0.1 ms on a camera observation). The socket's stream writes
        // each call whole under its lock, so the writer thread's frames (pongs, the close frame)
        // land before or after this one, never inside it. TLS streams may split a write into
        // records without that guarantee: wss:// keeps the library's path.
        // The frame is built in the buffer of the previous request when it fits: a camera
        // observation no longer costs a fresh array, zeroed and then overwritten, per step.
        synchronized (writeLock) {
            ByteBuffer frame = FrameCodec.encode(message, true, keptFrame);
            if (frame.capacity() <= KEPT_FRAME_BYTES) {
                keptFrame = frame;
            }
            try (WriteWatchdog.Watch watch = WriteWatchdog.SHARED.watch(timeoutNanos,
                    () -> cut(tcp, "request not written within the request timeout"))) {
                tcp.getOutputStream().write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Ends the connection at once, without a close handshake: what unblocks a stuck read or write. */
    void cut(String why) {
        closeConnection(CloseFrame.ABNORMAL_CLOSE, why);
        Socket tcp = getSocket();
        if (tcp != null) {
            cut(tcp, why);
        }
    }

    private void cut(Socket tcp, String why) {
        closeConnection(CloseFrame.ABNORMAL_CLOSE, why);
        try {
            tcp.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /**
     * Waits up to {@code millis} for the library's read thread to end, the last of the threads a
     * connection starts that could still call us.
     *
     * @return true when it ended (or never started)
     */
    boolean awaitReader(long millis) throws InterruptedException {
        Thread t = reader;
        if (t == null || t == Thread.currentThread()) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
        reader = Thread.currentThread();
        listener.opened(handshake);
    }

    @Override
    public void onMessage(ByteBuffer bytes) {
        byte[] copy;
        if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.position() == 0 && bytes.remaining() == bytes.array().length) {
            copy = bytes.array(); // the library's own fresh buffer: take it as it is
        } else {
            copy = new byte[bytes.remaining()];
            bytes.get(copy);
        }
        listener.frame(new ReplySlot.Frame(copy, null));
    }

    @Override
    public void onMessage(String text) {
        listener.frame(new ReplySlot.Frame(null, text));
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
        listener.closed(code, reason);
    }

    @Override
    public void onError(Exception e) {
        // A failed connect reports here, on the read thread, before onClose.
        if (reader == null) {
            reader = Thread.currentThread();
        }
        listener.error(e);
    }
}
