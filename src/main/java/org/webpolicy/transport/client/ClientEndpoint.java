package org.webpolicy.transport.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.Opcode;
import org.webpolicy.transport.frame.ProtocolException;
import org.webpolicy.transport.protocol.ClientText;

/**
 * One client connection's bytes, {@code ws://} and {@code wss://} alike: the upgrade
 * ({@link ClientUpgrade}), then our frame reader on a thread of the connection's own and our
 * writer for requests, pongs, pings and the close frame, all masked as a client's must be.
 *
 * <p>The socket is a blocking {@link SocketChannel}; for {@code wss://} the JDK's {@code SSLSocket}
 * is layered on it, from the client's {@code SSLContext}, with host name verification on (as the
 * library's client had it). Requests are written on the caller's thread ({@link ClientFrameWriter}:
 * no hand-over to a writer thread, one wake-up less per step); a request not written within the
 * request timeout has the socket cut, and a caller interrupted in its write fails at once (the
 * channel closes on an interrupt, under TLS too).
 *
 * <p>Reading: one thread at a time holds the read role ({@link ReplySlot}), and the decoder's state
 * goes with it. A caller of {@code step} reads its own reply while it waits
 * ({@link #readAsCaller}); the connection's reader thread reads only while no caller does: the
 * upgrade and the metadata, pipelined replies, what arrives between calls (it looks every
 * {@link #IDLE_CHECK_MILLIS} ms at most, or at once when told: a pipelined request went out, the
 * connection closes), and the close handshake.
 *
 * <p>Liveness, whoever reads: a connection silent for {@code pingInterval} is pinged; one silent
 * for another interval after its ping is cut (1006), between calls and during a long one alike.
 *
 * <p>The {@link Listener} is called by the holder of the read role, one call at a time, in the
 * order frames arrived; {@link Listener#opened} on the reader thread; {@link Listener#closed}
 * exactly once, last, possibly on the thread that called {@link #cut}.
 */
final class ClientEndpoint {

    /** What the connection is told, on the reader thread. */
    interface Listener {
        /** The upgrade succeeded; {@code response} holds the server's response headers. */
        void opened(ClientUpgrade.Response response);

        /** A whole data message arrived. */
        void frame(ReplySlot.Frame frame);

        /** The connection ended (or never opened), with the close code and why. */
        void closed(int code, String reason);

        /** Connecting failed with {@code e}; {@link #closed} follows. */
        void error(Exception e);
    }

    /** How long the reader waits for the server to close its side after the close handshake. */
    static final int CLOSE_LINGER_MILLIS = 1000;

    /**
     * How often, at most, the idle reader thread looks for bytes that arrived between calls (a
     * ping, the server's close) and at the liveness clock: a look costs a wake-up and a
     * {@code FIONREAD}, while a read parked in the socket would take the next caller's reply.
     */
    static final int IDLE_CHECK_MILLIS = 20;

    private static final int CONNECTING = 0;
    private static final int OPEN = 1;
    private static final int CLOSING = 2;
    private static final int CLOSED = 3;

    private final URI uri;
    private final ClientOptions options;
    private final Map<String, String> headers;
    private final int connectTimeoutMillis;
    private final Listener listener;
    private final boolean tls;
    private final Thread reader;
    private final AtomicBoolean reported = new AtomicBoolean();
    private final ClientFrameWriter writer;
    /** Pairs requests with frames, and says who holds the read role. */
    private final ReplySlot slot;
    private final long pingNanos;
    private volatile int state = CONNECTING;
    private volatile SocketChannel channel;
    /** Why the connection was cut before its channel was open, or null. */
    private volatile String cutBeforeOpen;

    // The read side: used by the holder of the read role only (the role's lock orders the holders).
    private InputStream in;
    /** Over TLS, the socket's own stream, whose {@code available()} counts the bytes the kernel holds. */
    private InputStream rawIn;
    private ByteBuffer buffer;
    private FrameCodec codec;
    private Message message;
    private long lastInbound;
    private boolean pinged;
    private long pingedAt;
    private int soTimeoutMillis;
    /** Set once nothing more is read: the close frame came, or reading failed. */
    private volatile boolean readDone;
    /** Set when the server's close frame came: the reader thread waits for the server's side to close. */
    private volatile boolean closeReceived;
    /** Data frames completed by callers reading their own replies, and by the reader thread. */
    private volatile long framesByCallers;
    private volatile long framesByReader;

    ClientEndpoint(URI uri, ClientOptions options, Map<String, String> headers, int connectTimeoutMillis, Listener listener,
            ReplySlot slot) {
        this.uri = uri;
        this.slot = slot;
        this.pingNanos = options.pingInterval().toNanos();
        this.options = options;
        this.headers = headers;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.listener = listener;
        this.tls = "wss".equalsIgnoreCase(uri.getScheme());
        this.writer = new ClientFrameWriter(tls, this::cut);
        this.reader = new Thread(this::run, "webpolicy-client-" + uri.getHost() + ":" + port());
        // A daemon: a client nobody closed (a robot's main that died on an exception path) never
        // keeps the JVM alive, and its supervisor can restart it.
        reader.setDaemon(true);
    }

    /** Starts connecting on the reader thread; the listener hears how it went. */
    void connect() {
        reader.start();
    }

    /** True between a successful upgrade and the start of closing. */
    boolean isOpen() {
        return state == OPEN;
    }

    /**
     * Writes one request frame, failing when it is not written within {@code timeoutNanos} (a
     * server that stops reading would otherwise block the caller for good).
     */
    void write(EncodedMessage message, long timeoutNanos) {
        if (state != OPEN) {
            throw new UncheckedIOException(new IOException("the connection is " + (state == CONNECTING ? "not open yet" : "closed")));
        }
        try {
            writer.request(message, timeoutNanos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the close handshake with 1000: the reader ends the connection when the server answers. */
    void close() {
        close(CloseCodes.NORMAL, "");
    }

    /**
     * Starts the close handshake with {@code code}; the connection is no longer open. The caller
     * cuts it when the server does not answer in time.
     */
    void close(int code, String reason) {
        if (state == CONNECTING) {
            cut("closed while connecting");
            return;
        }
        if (state != OPEN) {
            return;
        }
        state = CLOSING;
        writer.close(code, reason, TimeUnit.MILLISECONDS.toNanos(CLOSE_LINGER_MILLIS));
        slot.wakeReader(); // the answer is read by the reader thread unless a caller reads now
    }

    /** Ends the connection at once, without a close handshake: what unblocks a stuck read or write. */
    void cut(String why) {
        synchronized (this) {
            state = CLOSED;
            cutBeforeOpen = why;
        }
        report(CloseCodes.ABNORMAL, why);
        SocketChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        slot.wakeReader();
    }

    /**
     * Waits up to {@code millis} for the reader thread to end, the last thread of the connection
     * that could still call the listener (a caller reading its reply has returned by then).
     *
     * @return true when it ended (or never started)
     */
    boolean awaitReader(long millis) throws InterruptedException {
        if (reader == Thread.currentThread() || reader.getState() == Thread.State.NEW) {
            return true;
        }
        reader.join(Math.max(1, millis));
        return !reader.isAlive();
    }

    // ---- The reader thread ----

    private void run() {
        slot.readerStarts();
        InputStream in;
        ByteBuffer buffer = ByteBuffer.allocate(Math.max(ClientOptions.READ_BUFFER_BYTES, ClientUpgrade.MAX_HEAD_BYTES + 4));
        ClientUpgrade.Response response;
        try {
            SocketChannel c = SocketChannel.open();
            channel = c;
            if (cutBeforeOpen != null) {
                c.close();
                return;
            }
            ClientOpening.Opened opened = ClientOpening.open(c, uri, port(), tls, options, headers, connectTimeoutMillis,
                    writer, buffer);
            in = opened.in();
            response = opened.response();
        } catch (IOException | RuntimeException e) {
            if (!reported.get()) {
                listener.error(e);
            }
            closeChannel();
            report(CloseCodes.ABNORMAL, ClientText.reason(e));
            return;
        }
        synchronized (this) {
            if (state != CONNECTING) {
                closeChannel();
                return; // cut while the upgrade was answered
            }
            state = OPEN;
        }
        try {
            this.in = in;
            this.rawIn = tls ? channel.socket().getInputStream() : in;
        } catch (IOException e) {
            report(CloseCodes.ABNORMAL, ClientText.reason(e));
            closeChannel();
            return;
        }
        this.buffer = buffer;
        this.codec = new FrameCodec(options.maxMessageBytes(), FrameCodec.Masking.FORBIDDEN, null);
        this.message = new Message();
        this.lastInbound = System.nanoTime();
        this.soTimeoutMillis = -1; // ClientOpening left the ping interval: set again before the first read
        listener.opened(response);
        serve();
    }

    /**
     * The reader thread once the connection is open, holding the read role at first (the metadata
     * frame may be in already, behind the upgrade's answer): it reads while nobody else does and
     * there is something to read, and otherwise waits, looking at the connection now and then,
     * until the connection ends.
     */
    private void serve() {
        long checkNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1),
                Math.min(TimeUnit.MILLISECONDS.toNanos(IDLE_CHECK_MILLIS), pingNanos / 4));
        try {
            while (!readDone) {
                if (!keepAlive()) {
                    break;
                }
                boolean closing = state != OPEN;
                if (slot.readerKeeps(closing || pendingInput(), closing)) {
                    readOnce(0, false);
                } else {
                    slot.readerAwaits(checkNanos, () -> state != OPEN || readDone);
                }
            }
            if (closeReceived) {
                linger();
            }
        } finally {
            closeChannel();
            state = CLOSED;
        }
    }

    /**
     * A caller holding the read role reads once, waiting for bytes until {@code deadline} at most
     * (pinging on the way when the connection is silent for an interval), and hands the frames
     * completed on: its own reply, a ping answered here, the server's close.
     */
    void readAsCaller(long deadline) {
        if (readDone || state == CLOSED) {
            // The slot learns of the end from the report (made once, by whoever ended it).
            report(CloseCodes.ABNORMAL, "the connection ended");
            return;
        }
        readOnce(deadline, true);
    }

    /**
     * Before a call, on the caller's thread: handles what arrived since the last one (a ping, the
     * server's close) when nobody is reading it already, so a connection the server closed between
     * calls is known to be closed before a request goes out on it.
     */
    void catchUp() {
        if (state != OPEN) {
            return;
        }
        slot.callerComes();
        try {
            if (slot.tryCallerRole()) {
                long deadline = System.nanoTime() + options.requestTimeout().toNanos();
                while (state == OPEN && !readDone && pendingInput()) {
                    readOnce(deadline, true);
                }
            }
        } finally {
            slot.callerLeaves();
        }
    }

    /** True when bytes wait to be read: in the kernel, or decrypted and kept by TLS. */
    private boolean pendingInput() {
        try {
            return buffer.hasRemaining() || in.available() > 0 || (rawIn != in && rawIn.available() > 0);
        } catch (IOException e) {
            return true; // the read says what went wrong
        }
    }

    /**
     * Pings a connection silent for an interval, and cuts one silent for another after its ping.
     *
     * @return false once cut
     */
    private boolean keepAlive() {
        long now = System.nanoTime();
        if (now - (pinged ? pingedAt : lastInbound) < pingNanos) {
            return true;
        }
        if (pinged) {
            cut("no answer from the server within the ping interval (" + options.pingInterval().toMillis() + " ms) after a ping");
            readDone = true;
            return false;
        }
        pinged = true;
        pingedAt = now;
        writer.ping(options.requestTimeout().toNanos());
        return true;
    }

    /**
     * One read by the holder of the read role, waiting until the liveness clock's next event or
     * {@code deadline} (when {@code bounded}), whichever is first, and the frames it completed.
     * Reading ends for good on the server's close frame, the end of the stream or an error.
     */
    private void readOnce(long deadline, boolean bounded) {
        try {
            if (buffer.hasRemaining()) {
                // What came behind the upgrade's answer, read with it.
                decode();
                return;
            }
            if (!keepAlive()) {
                return;
            }
            long now = System.nanoTime();
            long until = (pinged ? pingedAt : lastInbound) + pingNanos;
            if (bounded && deadline - until < 0) {
                until = deadline;
            }
            if (until - now <= 0) {
                return; // the caller's deadline: it looks at the slot and gives up
            }
            int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - now + 999_999)));
            if (millis != soTimeoutMillis) {
                channel.socket().setSoTimeout(millis);
                soTimeoutMillis = millis;
            }
            buffer.clear();
            int n;
            try {
                n = in.read(buffer.array(), 0, buffer.capacity());
            } catch (SocketTimeoutException e) {
                buffer.limit(0);
                return; // the next read pings, or the caller's deadline has come
            }
            if (n < 0) {
                report(CloseCodes.ABNORMAL, "the server closed the connection without a close frame");
                finish(false);
                return;
            }
            buffer.limit(n);
            decode();
        } catch (ProtocolException e) {
            // The server broke the protocol: tell it why (the RFC's code) and end the connection.
            int code = e.closeCode();
            String reason = ClientText.reason(e);
            if (state == OPEN) {
                state = CLOSING;
                writer.close(code, reason, TimeUnit.MILLISECONDS.toNanos(CLOSE_LINGER_MILLIS));
            }
            report(code, reason);
            finish(false);
        } catch (IOException | RuntimeException e) {
            report(CloseCodes.ABNORMAL, ClientText.reason(e));
            finish(false);
        }
    }

    /** Hands on the frames the bytes in the buffer completed; the bytes prove the server alive. */
    private void decode() throws ProtocolException {
        lastInbound = System.nanoTime();
        pinged = false;
        for (Frame frame : codec.decode(buffer)) {
            if (!handle(frame, message)) {
                finish(true);
                return;
            }
        }
    }

    /**
     * Nothing more is read. After the server's close frame the reader thread waits for the server
     * to close its side first; otherwise the socket closes now.
     */
    private void finish(boolean closeFrame) {
        if (closeFrame) {
            closeReceived = true;
        } else {
            closeChannel();
            state = CLOSED;
        }
        readDone = true;
        slot.wakeReader();
    }

    /** Whether the calling thread is the connection's reader thread. */
    boolean onReaderThread() {
        return Thread.currentThread() == reader;
    }

    /** Data frames completed by callers reading their own replies. */
    long framesReadByCallers() {
        return framesByCallers;
    }

    /** Data frames completed by the reader thread (the metadata frame among them). */
    long framesReadByReader() {
        return framesByReader;
    }

    /**
     * Acts on one frame.
     *
     * @return false once the server's close frame arrived: nothing more is read
     */
    private boolean handle(Frame frame, Message message) throws ProtocolException {
        switch (frame.opcode()) {
            case PING -> writer.pong(bytes(frame.payload()), options.requestTimeout().toNanos());
            case PONG -> {
                // any bytes prove the server alive; nothing else to do
            }
            case CLOSE -> {
                // FrameCodec checked the payload (CloseFrameCheck): code and reason are sound.
                int code = frame.closeCode();
                String reason = frame.closeReason();
                if (state == OPEN) {
                    // Our answer echoes the server's code (RFC 6455 5.5.1).
                    state = CLOSING;
                    writer.close(code == CloseCodes.NO_STATUS ? -1 : code, "", TimeUnit.MILLISECONDS.toNanos(CLOSE_LINGER_MILLIS));
                }
                state = CLOSED;
                report(code, reason);
                return false;
            }
            default -> message.add(frame);
        }
        return true;
    }

    /** Parts of one data message, fragmented or not, handed to the listener when whole. */
    private final class Message {
        private final List<ByteBuffer> parts = new ArrayList<>();
        private boolean text;

        void add(Frame frame) throws ProtocolException {
            if (frame.opcode() != Opcode.CONTINUATION) {
                text = frame.opcode() == Opcode.TEXT;
            }
            parts.add(frame.payload());
            if (!frame.fin()) {
                return; // FrameCodec bounds the fragments' number and total size
            }
            byte[] whole = whole(parts);
            parts.clear();
            if (state != OPEN) {
                return; // closing: a reply that arrives now is no one's
            }
            if (Thread.currentThread() == reader) {
                framesByReader++; // one writer at a time: the holder of the read role
            } else {
                framesByCallers++;
            }
            if (text) {
                try {
                    String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(whole)).toString();
                    listener.frame(new ReplySlot.Frame(null, s));
                } catch (CharacterCodingException e) {
                    throw new ProtocolException(CloseCodes.NOT_UTF8, "text message that is not UTF-8");
                }
            } else {
                listener.frame(new ReplySlot.Frame(whole, null));
            }
        }
    }

    private static byte[] whole(List<ByteBuffer> parts) {
        if (parts.size() == 1) {
            ByteBuffer only = parts.get(0);
            if (only.hasArray() && only.arrayOffset() == 0 && only.position() == 0 && only.remaining() == only.array().length) {
                return only.array(); // the decoder's own fresh buffer, sized to the frame: taken as it is
            }
        }
        int total = 0;
        for (ByteBuffer p : parts) {
            total += p.remaining();
        }
        byte[] whole = new byte[total];
        int at = 0;
        for (ByteBuffer p : parts) {
            int n = p.remaining();
            p.duplicate().get(whole, at, n);
            at += n;
        }
        return whole;
    }

    /** After the close handshake: waits briefly for the server to close its side first (RFC 6455 7.1.1). */
    private void linger() {
        try {
            channel.socket().setSoTimeout(CLOSE_LINGER_MILLIS);
            while (in.read(buffer.array(), 0, buffer.capacity()) >= 0) {
                // whatever comes after the close frame goes nowhere
            }
        } catch (IOException | RuntimeException e) {
            // closing anyway
        } finally {
            closeChannel();
        }
    }

    private static byte[] bytes(ByteBuffer payload) {
        byte[] out = new byte[payload.remaining()];
        payload.duplicate().get(out);
        return out;
    }

    /** Tells the listener the connection ended, once. */
    private void report(int code, String reason) {
        if (reported.compareAndSet(false, true)) {
            state = CLOSED;
            listener.closed(code, reason);
        }
    }

    private void closeChannel() {
        SocketChannel c = channel;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private int port() {
        return uri.getPort() != -1 ? uri.getPort() : tls ? 443 : 80;
    }
}
