package org.webpolicy.transport.client;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.frame.ClientCapture;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.RemotePolicyException;
import org.webpolicy.transport.RequestTimeoutException;
import org.webpolicy.transport.protocol.ClientProtocol;
import org.webpolicy.transport.protocol.Headers;
import org.webpolicy.transport.protocol.Reply;
import org.webpolicy.transport.protocol.ReplyMismatch;
import org.webpolicy.transport.protocol.Request;
import org.webpolicy.transport.protocol.SessionTerms;
import org.webpolicy.transport.protocol.WireForm;

/**
 * One WebSocket connection of a {@link org.webpolicy.transport.PolicyClient}: it opens, reads the metadata frame, then
 * exchanges one request for one reply at a time through its {@link ReplySlot} (or, where the
 * server echoes ids, several pipelined requests whose replies come back in order). Any failure of an
 * exchange (timeout, protocol violation, error text, undecodable reply, a reply carrying another
 * request's id) drops the connection: a late or stray frame must never meet a later request.
 *
 * <p>Threading: the owning client calls {@link #open}, {@link #exchange}
 * and the pipelined methods from one thread at a time (the one whose
 * turn it is); {@link PipelinedRequests#nudge} from any thread; {@link #shutDown} may be called from any
 * thread, any number of times; the thread holding the connection's read role (a caller of
 * {@link #exchange} reading its own reply, or the reader thread) calls the {@link ClientEndpoint.Listener}.
 */
public final class ClientConnection implements ClientEndpoint.Listener {

    /** How long closing waits for the server to answer the close frame before cutting the socket. */
    static final Duration CLOSE_HANDSHAKE_WAIT = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

    private final ClientOptions options;
    private final MsgpackCodec codec;
    private final ClientEndpoint endpoint;
    private final ReplySlot slot;
    /** Told why, when the connection ends after its handshake without this side closing it. */
    private final Consumer<String> lost;
    /** Counts down when the handshake succeeded or the connection ended, whichever is first. */
    private final CountDownLatch settled = new CountDownLatch(1);
    /** Counts down when the connection ended. */
    private final CountDownLatch ended = new CountDownLatch(1);
    private final AtomicBoolean shutDownStarted = new AtomicBoolean();
    private final CountDownLatch shutDownDone = new CountDownLatch(1);
    private volatile boolean handshakeDone;
    /** Set by the handshake: what it settled, the requests' numbering and the replies' checks. */
    private volatile ClientProtocol protocol;
    private volatile Exception error;
    private volatile String endReason;
    private volatile Map<String, Object> metadata = Map.of();
    private final PipelinedRequests pipelined = new PipelinedRequests(this);

    /** The server this connection goes to. */
    java.net.URI uri() {
        return options.uri();
    }

    /**
     * A connection not yet opened; {@code connectTimeoutMillis} bounds the TCP connect, and
     * {@code lost} hears of an end this side did not ask for (the server went away).
     */
    ClientConnection(ClientOptions options, MsgpackCodec codec, int connectTimeoutMillis, Consumer<String> lost) {
        this.options = options;
        this.codec = codec;
        this.lost = lost;
        this.slot = new ReplySlot(options.uri().toString());
        Map<String, String> headers = SessionTerms.offer(options.apiKey(), options.imageCodec());
        this.endpoint = new ClientEndpoint(options.uri(), options, headers, connectTimeoutMillis, this, slot);
    }

    /**
     * Connects, completes the handshake and reads the metadata frame, all within {@code timeoutNanos}.
     *
     * @return null on success, otherwise why not (the connection is then shut down)
     * @throws InterruptedException when the calling thread is interrupted
     */
    ConnectFailure open(long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        endpoint.connect();
        if (!settled.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
            shutDown("handshake not completed in time");
            return new ConnectFailure("no handshake within " + millis(timeoutNanos) + " ms", true, true);
        }
        if (!handshakeDone) {
            ConnectFailure failure = ConnectFailure.of(error, endReason, options, timeoutNanos);
            shutDown("connecting failed");
            return failure;
        }
        ReplySlot.Frame first;
        try {
            first = slot.take(Math.max(0, deadline - System.nanoTime()));
        } catch (PolicyConnectionException e) {
            // Ended before the metadata (a server going away, 1001: one restarting is worth another
            // attempt) or broke the protocol (not).
            boolean ended = slot.violation() == null;
            shutDown("no metadata");
            return new ConnectFailure("connected, but no metadata frame: " + e.getMessage(), ended);
        }
        if (first == null) {
            // A server that accepted but went quiet (one shutting down, or a frame lost under load):
            // another attempt, with more time, is worth it.
            shutDown("no metadata");
            return new ConnectFailure("connected, but no metadata frame came within " + millis(timeoutNanos) + " ms", true, true);
        }
        if (first.binary() == null) {
            shutDown("no metadata");
            return new ConnectFailure("connected, but the server sent " + first.describe() + " instead of the metadata frame", false);
        }
        try {
            Object meta = codec.unpack(first.binary());
            @SuppressWarnings("unchecked")
            Map<String, Object> map = meta instanceof Map<?, ?> m ? Collections.unmodifiableMap((Map<String, Object>) m) : Map.of();
            metadata = map;
        } catch (DecodeException e) {
            shutDown("undecodable metadata");
            return new ConnectFailure("the metadata frame could not be decoded: " + e.getMessage(), false);
        }
        if (!usable()) {
            // Ended (e.g. a server shutting down: worth another attempt) or broke the protocol (not).
            String violation = slot.violation();
            shutDown("unusable after the metadata");
            return new ConnectFailure(violation != null ? violation : "the connection ended right after the metadata frame: " + endReason,
                    violation == null);
        }
        return null;
    }

    /** The metadata the server sent. */
    Map<String, Object> metadata() {
        return metadata;
    }

    /**
     * True when requests go as envelopes on this connection.
     *
     * @return false for openpi's raw form
     */
    public boolean envelope() {
        return terms().form() == WireForm.ENVELOPE;
    }

    /** True when the server announced that it echoes request ids (and so envelope requests carry one). */
    boolean echoesIds() {
        return terms().requestIds();
    }

    /** What the handshake settled; {@link SessionTerms#PLAIN} before it. */
    SessionTerms terms() {
        ClientProtocol p = protocol;
        return p == null ? SessionTerms.PLAIN : p.terms();
    }

    /** The protocol's half of this connection: builds the requests its terms allow. */
    ClientProtocol protocol() {
        return protocol;
    }

    /**
     * True when steps on this connection may carry a continuation: an envelope connection whose
     * server announced {@link Headers#CONTINUATION} (real-time chunking).
     */
    boolean takesContinuation() {
        return terms().continuation();
    }

    /**
     * True when the server accepted the offered image codec: observations go with their images
     * compressed. False for {@code raw}, and against servers that did not answer the offer.
     *
     * @return whether images are compressed
     */
    public boolean compressesImages() {
        return terms().compressesImages();
    }

    /** True while open and not broken: the next request may use it. */
    boolean usable() {
        return endpoint.isOpen() && slot.violation() == null && !shutDownStarted.get();
    }

    /** What broke the protocol on this connection while no request was outstanding, or null. */
    String violation() {
        return slot.violation();
    }

    /**
     * Sends {@code request} (numbered where the server echoes ids) and returns its reply, checked
     * against it.
     *
     * @throws PolicyConnectionException when no reply came, or not a usable one (the connection is
     *     then dropped when the reply may be another request's: undecodable, not a map, another id
     *     or continuation)
     * @throws RemotePolicyException when the server answered with an error text
     * @throws org.webpolicy.codec.EncodeException when {@code request} holds a value the wire
     *     cannot carry (nothing was sent; the connection stays usable)
     */
    Reply exchange(Request request) {
        // Encoded before anything else: a value the wire cannot carry fails the call with the
        // codec's own error, nothing is sent, and the connection stays as it was.
        ClientProtocol.Outgoing outgoing = protocol.encode(request);
        ReplySlot.Frame frame;
        try {
            frame = sendAndRead(new EncodedMessage(outgoing.bytes()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutDown("interrupted");
            throw new PolicyConnectionException("Interrupted while waiting for the reply from " + options.uri(), e);
        } catch (PolicyConnectionException e) {
            if (Thread.currentThread().isInterrupted()) {
                // Interrupted in its read: the channel closed under it (as for a write), which ended the connection.
                shutDown("interrupted");
                throw new PolicyConnectionException("Interrupted while waiting for the reply from " + options.uri(), e);
            }
            shutDown(e.getMessage());
            throw e;
        }
        if (frame == null) {
            // A reply that comes later must never be taken for the next request's.
            shutDown("request timed out");
            throw new RequestTimeoutException("No reply from " + options.uri() + " within "
                    + options.requestTimeout().toMillis() + " ms; the connection was closed and the next call reconnects",
                    options.requestTimeout());
        }
        return read(decode(frame), outgoing.request());
    }

    /**
     * Sends {@code encoded} and waits for its frame, reading the socket itself whenever no other
     * thread does (the reply then reaches this thread without a hand-off). The read role is given
     * back before this returns or throws, so the close that may follow is read by whoever is free.
     *
     * @return the frame, or null when none came within the request timeout
     */
    private ReplySlot.Frame sendAndRead(EncodedMessage encoded) throws InterruptedException {
        // Announced before the request goes out: the reader thread must not start reading for it.
        slot.callerComes();
        try {
            send(encoded);
            return slot.takeReading(options.requestTimeout().toNanos(), endpoint::readAsCaller);
        } finally {
            slot.callerLeaves();
        }
    }

    /**
     * Handles what the server sent since the last call (a ping, its close) when no thread is
     * reading it already: a connection closed between calls is then seen as such by
     * {@link #usable()} before a request goes out on it.
     */
    void catchUp() {
        if (handshakeDone && !shutDownStarted.get()) {
            endpoint.catchUp();
        }
    }

    /**
     * Data frames (replies, the metadata) read and decoded by callers waiting for them.
     *
     * @return the count so far
     */
    public long framesReadByCallers() {
        return endpoint.framesReadByCallers();
    }

    /**
     * Data frames read and decoded by the connection's reader thread and handed over to whoever
     * waited for them: the metadata frame, pipelined replies, a reply whose caller found the
     * reader already reading.
     *
     * @return the count so far
     */
    public long framesReadByReaderThread() {
        return endpoint.framesReadByReader();
    }

    /** Queues {@code encoded} as the next request; drops the connection when it cannot. */
    void send(EncodedMessage encoded) {
        try {
            slot.expect();
        } catch (PolicyConnectionException e) {
            shutDown(e.getMessage());
            throw e;
        }
        try {
            endpoint.write(encoded, options.requestTimeout().toNanos());
        } catch (RuntimeException e) {
            shutDown("sending failed: " + ClientText.reason(e));
            throw new PolicyConnectionException("Could not send the request to " + options.uri() + ": " + ClientText.reason(e), e);
        }
    }

    /** The value of a reply frame; drops the connection on an error text or bytes that do not decode. */
    Object decode(ReplySlot.Frame frame) {
        if (frame.text() != null) {
            shutDown("server reported an error");
            throw new RemotePolicyException(frame.text());
        }
        ClientCapture capture = ClientCapture.armed();
        if (capture != null) {
            capture.received(frame.binary());
        }
        try {
            return codec.unpack(frame.binary());
        } catch (DecodeException e) {
            shutDown("undecodable reply");
            throw new PolicyConnectionException("The reply from " + options.uri() + " could not be decoded: " + e.getMessage(), e);
        }
    }

    /** The reply to {@code sent}, checked; drops the connection when it may be another request's. */
    Reply read(Object decoded, Request sent) {
        try {
            return protocol.read(decoded, sent);
        } catch (ReplyMismatch e) {
            if (e.dropsConnection) {
                shutDown(e.reason);
            }
            throw new PolicyConnectionException(e.getMessage());
        }
    }

    /** Pipelined requests on this connection, where the server echoes ids. */
    PipelinedRequests pipelined() {
        return pipelined;
    }

    ReplySlot slot() {
        return slot;
    }

    /**
     * Closes the connection, waiting briefly for the server's close frame and then for the
     * connection's reader thread to end. Idempotent; every caller returns once it is done. A request
     * waiting for its reply fails at once with {@code why}.
     */
    void shutDown(String why) {
        if (!shutDownStarted.compareAndSet(false, true)) {
            ClientSession.awaitUninterruptibly(shutDownDone);
            return;
        }
        boolean interrupted = false;
        try {
            log.debug("Closing the connection to {}: {}", options.uri(), ReplySlot.excerpt(why));
            slot.end(why);
            // A server that vanished, or never answers the close frame, must not hold the caller
            // until the lost-connection timer fires: wait briefly, then cut the socket. A
            // connection still connecting has no close handshake to wait for.
            try {
                if (!handshakeDone) {
                    endpoint.cut("closed while connecting");
                } else {
                    endpoint.close();
                    if (!ended.await(CLOSE_HANDSHAKE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                        endpoint.cut("no close handshake from the server");
                    }
                }
                endpoint.awaitReader(CLOSE_HANDSHAKE_WAIT.toMillis());
            } catch (InterruptedException e) {
                interrupted = true;
                endpoint.cut("interrupted while closing");
            }
        } catch (RuntimeException e) {
            log.debug("Closing {}: {}", options.uri(), e.toString());
            endpoint.cut("closing failed");
        } finally {
            shutDownDone.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- ClientEndpoint.Listener, on the thread holding the read role ----

    @Override
    public void opened(ClientUpgrade.Response handshake) {
        WireForm forced = switch (options.protocolMode()) {
            case RAW -> WireForm.RAW;
            case ENVELOPE -> WireForm.ENVELOPE;
            case AUTO -> null;
        };
        SessionTerms terms = SessionTerms.read(forced, options.imageCodec(), handshake::header);
        protocol = new ClientProtocol(terms, options.imageCodec(), codec, options.uri().toString());
        handshakeDone = true;
        settled.countDown();
    }

    @Override
    public void frame(ReplySlot.Frame frame) {
        if (!slot.offer(frame)) {
            String violation = slot.violation();
            log.warn("Dropping the connection: {}", violation);
            // Close 1002 tells the server why; whatever it sends until the close goes nowhere.
            endpoint.close(CloseCodes.PROTOCOL_ERROR, "unexpected frame");
        }
    }

    @Override
    public void closed(int code, String reason) {
        endReason = "closed with " + code + (reason == null || reason.isEmpty() ? "" : " (" + ReplySlot.excerpt(reason) + ")");
        if (handshakeDone && !shutDownStarted.get()) {
            lost.accept(endReason);
        }
        slot.end(endReason);
        ended.countDown();
        settled.countDown();
    }

    @Override
    public void error(Exception e) {
        error = e;
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
