package org.webpolicy.transport.client;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * A {@code wss://} connection's TLS: the JDK's {@link SSLEngine} in client mode over the
 * connection's blocking {@link SocketChannel}, the server's host name verified as a browser
 * does ({@code HTTPS} endpoint identification).
 *
 * <p>Why an engine and not the JDK's {@code SSLSocket} layered on the channel: the socket writes
 * each 16 KB record with a system call of its own, each copied once more through a temporary
 * direct buffer, and reads each record with two calls (its header, then its body); a camera
 * observation of 600 KB was some 40 writes, each waking the server's reader. Here a request's
 * records are wrapped side by side into one direct buffer of up to {@link #WRITE_RECORDS} records
 * and written with one call, and a read takes whatever the socket holds, several records at once.
 *
 * <p>Why not the server's {@code adapter.TlsChannel}: it is non-blocking (a write may take part of
 * a frame, the caller then waits for write interest), answers to the WebSocket library's channel
 * contract, and is server-mode only; the client writes on the caller's thread with a blocking
 * channel, and its reads need the socket's timeout, which drives the pings
 * ({@link ClientEndpoint}).
 *
 * <p>Threads: one reader (the connection's reader thread: the handshake, then {@link #read});
 * writers serialized by {@link ClientFrameWriter}'s lock, and here by {@link #outLock}, which the
 * reader takes too when the engine has records of its own to send (a post-handshake message).
 * The engine allows one wrap and one unwrap at the same time.
 *
 * <p>Memory per connection: {@link #IN_RECORDS} records of ciphertext read ahead, one record of
 * plaintext that did not fit the reader's buffer, and {@link #WRITE_RECORDS} records of ciphertext
 * being written (allocated on the first write).
 *
 * <p>No close_notify is sent when the connection ends: the WebSocket close handshake has said
 * what there was to say, and a close_notify written to a server that stopped reading could block.
 */
final class ClientTls {

    /** TLS records wrapped into one write at most: a 600 KB request is 5 writes, not 40. */
    static final int WRITE_RECORDS = 8;
    /** TLS records of ciphertext read ahead at most. */
    static final int IN_RECORDS = 4;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    /** The channel's socket stream: its timeout bounds each wait for bytes. */
    private final InputStream socketIn;
    private final SSLEngine engine;
    private final Object outLock = new Object();
    /** Ciphertext being written; guarded by {@link #outLock}; null until the first write. */
    private ByteBuffer netOut;
    /** Ciphertext read and not yet unwrapped, from 0 to its position; reader only. */
    private ByteBuffer netIn;
    /** Plaintext unwrapped that did not fit the reader's buffer (read mode), or null; reader only. */
    private ByteBuffer appIn;
    /** True once the server closed TLS or TCP; reader only. */
    private boolean inboundDone;

    /**
     * TLS for the connected {@code channel} to {@code host}:{@code port}, its handshake not begun.
     *
     * @param channel a connected, blocking channel whose socket has the read timeout wanted
     * @param context the client's TLS context
     * @param host the host name (or address) the server's certificate must name
     * @param port the server's port
     */
    ClientTls(SocketChannel channel, SSLContext context, String host, int port) throws IOException {
        this.channel = channel;
        this.socketIn = channel.socket().getInputStream();
        this.engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(parameters);
        this.netIn = ByteBuffer.allocate(IN_RECORDS * engine.getSession().getPacketBufferSize());
    }

    /**
     * Runs the TLS handshake on the calling thread (the reader), bounded by the socket's timeout.
     *
     * @throws SSLException when the server's certificate or TLS is refused
     * @throws EOFException when the server closed the connection during the handshake
     * @throws IOException when the socket failed or timed out
     */
    void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> {
                    synchronized (outLock) {
                        wrapAndWrite(EMPTY);
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    ByteBuffer early = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
                    int held = netIn.position();
                    unwrapBuffered(early);
                    if (early.position() > 0) {
                        appIn = early.flip(); // data behind the handshake's end: the reader's first bytes
                    }
                    HandshakeStatus now = engine.getHandshakeStatus();
                    boolean stuck = netIn.position() == held
                            && (now == HandshakeStatus.NEED_UNWRAP || now == HandshakeStatus.NEED_UNWRAP_AGAIN);
                    // Only when the engine waits for bytes not yet read: after the server's last
                    // handshake record nothing more comes until the upgrade request.
                    if (inboundDone || (stuck && !fill())) {
                        inboundDone = true;
                        throw new EOFException("the server closed the connection during the TLS handshake");
                    }
                }
                case NEED_TASK -> runTasks();
                default -> {
                    return; // FINISHED or NOT_HANDSHAKING
                }
            }
        }
    }

    /**
     * Reads plaintext into {@code b}, waiting (up to the socket's timeout) when none is ready.
     *
     * @return the bytes read, or -1 when the server closed the connection
     * @throws java.net.SocketTimeoutException when nothing came within the socket's timeout (the
     *     state is kept: the next call goes on)
     */
    int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        ByteBuffer dst = ByteBuffer.wrap(b, off, len);
        while (true) {
            if (appIn != null) {
                return drainApp(dst);
            }
            int n = unwrapBuffered(dst);
            if (n > 0) {
                return n;
            }
            if (appIn != null) {
                continue;
            }
            if (inboundDone || !fill()) {
                inboundDone = true;
                return -1;
            }
        }
    }

    /**
     * Wraps and writes all of {@code src} (plaintext), its records batched into as few writes as
     * the buffer allows.
     */
    void write(ByteBuffer src) throws IOException {
        synchronized (outLock) {
            while (src.hasRemaining()) {
                wrapAndWrite(src);
            }
        }
    }

    /** Plaintext in: what the upgrade's answer and the frames are read from. */
    InputStream input() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n;
                do {
                    n = ClientTls.this.read(one, 0, 1);
                } while (n == 0);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return ClientTls.this.read(b, off, len);
            }
        };
    }

    /** Plaintext out: what the upgrade request is written to. */
    OutputStream output() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                ClientTls.this.write(ByteBuffer.wrap(new byte[] {(byte) b}));
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ClientTls.this.write(ByteBuffer.wrap(b, off, len));
            }
        };
    }

    // ---- writing, under outLock ----

    /** Wraps as much of {@code src} as one buffer of records takes (one record when empty) and writes it. */
    private void wrapAndWrite(ByteBuffer src) throws IOException {
        int packet = engine.getSession().getPacketBufferSize();
        if (netOut == null || netOut.capacity() < packet) {
            netOut = ByteBuffer.allocateDirect(WRITE_RECORDS * packet);
        }
        ByteBuffer out = netOut.clear();
        do {
            SSLEngineResult res = engine.wrap(src, out);
            switch (res.getStatus()) {
                case CLOSED -> throw new SSLException("the TLS connection is closed");
                case BUFFER_OVERFLOW -> throw new SSLException("a TLS record did not fit " + out.remaining() + " bytes");
                default -> {
                }
            }
            if (res.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                runTasks();
            }
            if (res.bytesConsumed() == 0 && res.bytesProduced() == 0) {
                break; // nothing more to wrap now (mid-handshake, or only empty src)
            }
        } while (src.hasRemaining() && out.remaining() >= packet);
        out.flip();
        while (out.hasRemaining()) {
            channel.write(out);
        }
    }

    // ---- reading, on the reader thread ----

    /**
     * Unwraps the whole records {@link #netIn} holds into {@code dst}, or into {@link #appIn} when
     * {@code dst} has too little room for one; stops once {@code dst} got bytes and has no room for
     * another record.
     *
     * @return the bytes put into {@code dst}
     */
    private int unwrapBuffered(ByteBuffer dst) throws IOException {
        int start = dst.position();
        netIn.flip();
        try {
            while (netIn.hasRemaining() && appIn == null && !inboundDone) {
                int appSize = engine.getSession().getApplicationBufferSize();
                boolean direct = dst.remaining() >= appSize;
                if (!direct && dst.position() > start) {
                    break;
                }
                ByteBuffer target = direct ? dst : ByteBuffer.allocate(appSize);
                SSLEngineResult res = engine.unwrap(netIn, target);
                if (!direct && target.position() > 0) {
                    appIn = target.flip();
                }
                switch (res.getStatus()) {
                    case BUFFER_UNDERFLOW -> {
                        return dst.position() - start; // less than a record: the socket has the rest
                    }
                    case BUFFER_OVERFLOW -> {
                        // The session's sizes grew with the handshake: the next turn uses the new one.
                        if (!direct) {
                            throw new SSLException("a TLS record did not fit " + appSize + " bytes");
                        }
                    }
                    case CLOSED -> inboundDone = true; // close_notify: nothing follows it
                    default -> {
                    }
                }
                afterUnwrap(res.getHandshakeStatus());
                if (res.bytesConsumed() == 0 && res.getStatus() == SSLEngineResult.Status.OK) {
                    break;
                }
            }
            return dst.position() - start;
        } finally {
            netIn.compact();
        }
    }

    /** What the engine asks for after an unwrap: its tasks run, its own records (a key update's answer) sent. */
    private void afterUnwrap(HandshakeStatus status) throws IOException {
        HandshakeStatus hs = status;
        while (true) {
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
            } else if (hs == HandshakeStatus.NEED_WRAP && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
                synchronized (outLock) {
                    wrapAndWrite(EMPTY);
                }
            } else {
                return;
            }
            hs = engine.getHandshakeStatus();
        }
    }

    /**
     * Reads ciphertext from the socket into {@link #netIn}, waiting up to the socket's timeout.
     *
     * @return false at the end of the stream
     */
    private boolean fill() throws IOException {
        if (!netIn.hasRemaining()) {
            throw new SSLException("a TLS record longer than " + netIn.capacity() + " bytes");
        }
        int n = socketIn.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
        if (n < 0) {
            try {
                engine.closeInbound();
            } catch (SSLException e) {
                // TCP closed without close_notify: the connection ends all the same.
            }
            return false;
        }
        netIn.position(netIn.position() + n);
        return true;
    }

    private int drainApp(ByteBuffer dst) {
        int n = Math.min(appIn.remaining(), dst.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        if (!appIn.hasRemaining()) {
            appIn = null;
        }
        return n;
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
