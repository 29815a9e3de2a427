package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.handshake.ServerHandshake;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.frame.CapturedRequest;
import org.webpolicy.transport.frame.ClientCapture;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.client.ReplySlot;
import org.webpolicy.transport.frame.RequestFrameBuffer;
import org.webpolicy.transport.client.WriteWatchdog;

/**
 * The Java-WebSocket adapter of one client connection: it turns the library's callbacks into
 * calls on a {@link Listener} and writes requests. Callbacks run on the library's read thread,
 * one at a time, in the order frames arrived.
 */
public final class ClientEndpoint extends WebSocketClient {

    /** What the connection is told, on the library's read thread. */
    public interface Listener {
        /**
         * The handshake succeeded; {@code handshake} holds the server's response headers.
         *
         * @param handshake the server's handshake response
         */
        void opened(ServerHandshake handshake);

        /**
         * A whole data frame (message) arrived.
         *
         * @param frame the message
         */
        void frame(ReplySlot.Frame frame);

        /**
         * The connection ended (or never opened), with the close code and why.
         *
         * @param code the close code (RFC 6455 7.4), or the library's own (1006, -1) when no close frame came
         * @param reason the close reason, or why the library ended it
         */
        void closed(int code, String reason);

        /**
         * The library reported an error; {@link #closed} follows when it ends the connection.
         *
         * @param e the error
         */
        void error(Exception e);
    }

    private final Listener listener;
    private final boolean tls;
    /** Serialises request writes: the frame buffer is in use until its write returns. */
    private final Object writeLock = new Object();
    /** Where request frames are built (plain TCP only); guarded by {@link #writeLock}. */
    private final RequestFrameBuffer frames = new RequestFrameBuffer();
    /** The library's read thread, once it called us: what {@link #awaitReader} waits for. */
    private volatile Thread reader;

    /**
     * An endpoint not yet connected; {@code connect} starts the library's threads, all daemons.
     *
     * @param uri the server
     * @param options the client's options (message limit, TLS context, ping interval)
     * @param headers the handshake's extra request headers
     * @param connectTimeoutMillis how long connecting may take
     * @param listener what the connection is told
     */
    public ClientEndpoint(URI uri, ClientOptions options, Map<String, String> headers, int connectTimeoutMillis, Listener listener) {
        super(uri, new WireDraft(options.maxMessageBytes()), headers, connectTimeoutMillis);
        this.listener = listener;
        this.tls = options.sslContext() != null;
        // The library's connect/read, write and lost-connection-timer threads: daemons, so a
        // client nobody closed (a robot's main that died on an exception path) never keeps the
        // JVM alive and its supervisor can restart it.
        setDaemon(true);
        setTcpNoDelay(true);
        setReceiveBufferSize(ClientOptions.READ_BUFFER_BYTES);
        setConnectionLostTimeout((int) Math.max(1, options.pingInterval().toSeconds()));
        setSocketFactory(tls ? options.sslContext().getSocketFactory() : ChannelSockets.INSTANCE);
    }

    /**
     * Writes one request frame, failing when it is not written within {@code timeoutNanos} (a
     * server that stops reading would otherwise block the caller for good).
     *
     * @param message the request
     * @param timeoutNanos how long the write may block
     * @throws UncheckedIOException when the write fails, saying so when it passed its time
     */
    public void write(EncodedMessage message, long timeoutNanos) {
        ClientCapture capture = ClientCapture.armed();
        if (tls || !(getSocket() instanceof ChannelSocket tcp)) {
            sendFrame(message); // queued for the library's writer thread: never blocks the caller
            if (capture != null) {
                capture.sent(CapturedRequest.of(message));
            }
            return;
        }
        // Written on the caller's thread, not handed to the library's writer thread: one thread
        // wake-up less per request (0.1 ms on a camera observation). The frame is built, masked
        // while copied, in a direct buffer the socket's channel writes as it is: each payload
        // byte is touched once before the kernel copies it. The library's own frames (pongs,
        // pings, the close frame) land before or after it, never inside (ChannelSocket). wss://
        // keeps the library's path: its socket is not ours.
        synchronized (writeLock) {
            ByteBuffer frame = frames.frame(message);
            WriteWatchdog.Watch watch = WriteWatchdog.SHARED.watch(timeoutNanos,
                    () -> cut(tcp, "request not written within the request timeout"));
            try (watch) {
                tcp.writeFully(frame);
                if (capture != null) {
                    capture.sent(frames.handOff(frame));
                }
            } catch (IOException e) {
                if (watch.fired()) {
                    throw new UncheckedIOException(new IOException("the request was not written within the request timeout ("
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms): the server stopped reading", e));
                }
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Ends the connection at once, without a close handshake: what unblocks a stuck read or write.
     *
     * @param why the close reason, for the listener and the logs
     */
    public void cut(String why) {
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
     * @param millis how long to wait
     * @return true when it ended (or never started)
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitReader(long millis) throws InterruptedException {
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
