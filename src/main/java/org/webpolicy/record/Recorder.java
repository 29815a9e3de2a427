package org.webpolicy.record;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.mcap.ChunkCompression;
import org.webpolicy.mcap.McapWriter;
import org.webpolicy.transport.frame.CapturedRequest;
import org.webpolicy.transport.frame.ClientCapture;

/**
 * Records exchanges between robots and a policy into an MCAP file (channels in {@link Topics}),
 * off the caller's thread: each call copies nothing, queues a reference and returns; one writer
 * thread encodes, compresses and writes. When the writer falls behind (a slow disk), the queue
 * fills and exchanges are dropped and counted ({@link #stats()}), so a control loop is never
 * slowed by its recording. Chunks are flushed at least every {@code flushInterval}: a process
 * killed mid-recording leaves a file readable up to its last chunk.
 *
 * <p>Callers hand over byte buffers and must not change them afterwards: large ones (16 KiB and
 * up) are written to the file from where they are, when their chunk is written, up to a flush
 * interval later (the codec's segments, a server's request buffers and a client's captured frames
 * are never changed). Thread-safe: any number of connections may record at once.
 * {@link #close()} writes what is queued and finishes the file.
 *
 * <p>Use it through {@link RecordingPolicy} (around any policy: a client, a broker, a model) or
 * {@link #serverTap()} (on a {@code PolicyServer}, the bytes exactly as they went on the wire).
 */
public final class Recorder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Recorder.class);

    /**
     * Lock-free, and the writer is signalled only when {@link #WAKE_AT} entries wait: otherwise it
     * looks every {@link #IDLE_POLL_NANOS} when it has nothing to do. Waking a parked thread is a
     * system call on the caller's thread (tens of microseconds on a loaded machine), which a 50 Hz
     * control loop should not pay per step.
     */
    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /**
     * How long an idle writer parks. Each wake-up costs CPU whether or not there is work: polling
     * every 1 ms cost a 2-core VM 18 ms of CPU per second, 360 us per 50 Hz step, more than writing
     * a camera step; every 20 ms it costs next to nothing. An exchange then waits at most this long
     * for the writer, holding one of its client's pooled buffers.
     */
    private static final long IDLE_POLL_NANOS = 20_000_000;
    /** Entries waiting at which a caller wakes the writer: a burst does not wait out a poll, and a steady loop never signals. */
    static final int WAKE_AT = 4;
    private final int queueCapacity;
    private final long maxQueuedBytes;
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicLong nextConnection = new AtomicLong(1);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final RecordingWriter writer;
    private final Thread thread;
    private final long flushNanos;
    private volatile boolean closing;
    private volatile String failure;

    /** What the writer thread takes from the queue. */
    sealed interface Entry {
    }

    record Opened(long connection, String robot, Map<String, String> handshake, List<ByteBuffer> metadata, long nanos) implements Entry {
    }

    /**
     * An exchange; a captured request ({@code captured}, else {@code request}) is unmasked and released by the
     * writer, as is a lent one ({@code lease}: run once the request and the reply are written).
     */
    record Exchanged(long connection, List<ByteBuffer> request, CapturedRequest captured, List<ByteBuffer> reply, String failure,
            long requestNanos, long replyNanos, long bytes, Runnable lease, boolean sent) implements Entry {

        Exchanged(long connection, List<ByteBuffer> request, CapturedRequest captured, List<ByteBuffer> reply, String failure,
                long requestNanos, long replyNanos, long bytes) {
            this(connection, request, captured, reply, failure, requestNanos, replyNanos, bytes, null, true);
        }

        Exchanged(long connection, List<ByteBuffer> request, CapturedRequest captured, List<ByteBuffer> reply, String failure,
                long requestNanos, long replyNanos, long bytes, Runnable lease) {
            this(connection, request, captured, reply, failure, requestNanos, replyNanos, bytes, lease, true);
        }

        /** Gives a captured request's buffer back to its client, a lent one to its server; nothing for other requests. */
        void release() {
            if (captured != null) {
                captured.release();
            }
            if (lease != null) {
                lease.run();
            }
        }
    }

    record Closed(long connection, int code, String reason, long nanos) implements Entry {
    }

    private Recorder(Builder b, java.util.function.Function<McapWriter.Options, McapWriter> open) {
        this.queueCapacity = b.queueCapacity;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.flushNanos = b.flushInterval.toNanos();
        b.compression.requireAvailable();
        // Even the header is written on the writer thread: a stuck disk never blocks whoever builds the recorder.
        McapWriter.Options options = new McapWriter.Options(b.compression, b.chunkBytes, b.referenceBytes, b.chunkCrc, b.dataCrc);
        this.writer = new RecordingWriter(() -> open.apply(options), b.cameraImages, b.cameraPeriod.toNanos());
        this.thread = new Thread(this::run, "webpolicy-recorder");
        thread.setDaemon(true);
        thread.start();
    }

    private static String library() {
        String version = Recorder.class.getPackage().getImplementationVersion();
        return "webpolicy-java" + (version == null ? "" : " " + version);
    }

    /**
     * A recorder writing {@code file} (created or replaced).
     *
     * @param file the recording
     * @return a builder
     */
    public static Builder builder(Path file) {
        return new Builder(Objects.requireNonNull(file, "file"), null);
    }

    /**
     * A recorder writing to {@code out}, which it closes when it closes (tests, benchmarks, pipes).
     *
     * @param out where the file goes
     * @return a builder
     */
    public static Builder builder(OutputStream out) {
        return new Builder(null, Objects.requireNonNull(out, "out"));
    }

    /**
     * A new connection, without handshake headers.
     *
     * @param robot who is on the other side (an address, a name)
     * @param metadata the metadata message the server sent first on it
     * @return the connection's id for the calls below
     */
    public long connectionOpened(String robot, List<ByteBuffer> metadata) {
        return connectionOpened(robot, Map.of(), metadata);
    }

    /**
     * A new connection, with the server's handshake headers that change what a client does
     * ({@code X-Webpolicy-*}: the protocol form, request ids, image codecs), which replay sends again.
     *
     * @param robot who is on the other side (an address, a name)
     * @param handshake the server's {@code X-Webpolicy-*} headers
     * @param metadata the metadata message the server sent first on it
     * @return the connection's id for the calls below
     */
    public long connectionOpened(String robot, Map<String, String> handshake, List<ByteBuffer> metadata) {
        return connectionOpened(robot, handshake, metadata, System.nanoTime());
    }

    /**
     * A new connection recorded after the fact: {@link #connectionOpened(String, Map, List)} with
     * the time its metadata came, for a caller that records a connection only once it is sure
     * the robot's session began (the record proxy: at the robot's first request).
     *
     * @param robot who is on the other side (an address, a name)
     * @param handshake the server's {@code X-Webpolicy-*} headers
     * @param metadata the metadata message the server sent first on it
     * @param openedNanos when the metadata came ({@link System#nanoTime()})
     * @return the connection's id for the calls below
     */
    public long connectionOpened(String robot, Map<String, String> handshake, List<ByteBuffer> metadata, long openedNanos) {
        long id = nextConnection.getAndIncrement();
        offerControl(new Opened(id, robot, Map.copyOf(handshake), metadata, openedNanos));
        return id;
    }

    /**
     * One answered request, queued or (when the writer is behind) dropped and counted; never waits.
     *
     * @param connection the connection's id
     * @param request the request message as it went on the wire
     * @param reply the reply message as it went on the wire
     * @param requestNanos when the request was captured ({@link System#nanoTime()})
     * @param replyNanos when the reply came ({@link System#nanoTime()})
     */
    public void exchanged(long connection, List<ByteBuffer> request, List<ByteBuffer> reply, long requestNanos, long replyNanos) {
        offerExchange(new Exchanged(connection, request, null, reply, null, requestNanos, replyNanos, size(request) + size(reply)));
    }

    /**
     * One answered request whose request is lent by a server that reuses its buffers: the
     * recorder runs {@code requestDone} once it no longer refers to the request or the reply
     * (after writing them, or at once when the exchange is dropped).
     */
    void exchanged(long connection, List<ByteBuffer> request, Runnable requestDone, List<ByteBuffer> reply, long requestNanos,
            long replyNanos) {
        offerExchange(new Exchanged(connection, request, null, reply, null, requestNanos, replyNanos,
                size(request) + size(reply), requestDone));
    }

    /**
     * One answered request whose request a {@link ClientCapture} caught: the frame the client
     * wrote, handed over without a copy. The recorder releases it (the writer thread, after
     * writing it; at once when the exchange is dropped).
     *
     * @param connection the connection's id
     * @param request the request, now the recorder's
     * @param reply the reply message as it arrived (never reused by the client)
     * @param requestNanos when the request was captured ({@link System#nanoTime()})
     * @param replyNanos when the reply came ({@link System#nanoTime()})
     */
    void exchanged(long connection, CapturedRequest request, ByteBuffer reply, long requestNanos, long replyNanos) {
        offerExchange(new Exchanged(connection, null, request, List.of(reply), null, requestNanos, replyNanos,
                request.size() + reply.remaining()));
    }

    /**
     * A failed request whose request a {@link ClientCapture} caught; released as with
     * {@link #exchanged(long, CapturedRequest, ByteBuffer, long, long)}.
     *
     * @param connection the connection's id
     * @param request the request, now the recorder's
     * @param failure the error text the robot got (or the failure's description)
     * @param requestNanos when the request was captured ({@link System#nanoTime()})
     * @param failedNanos when it failed ({@link System#nanoTime()})
     */
    void failed(long connection, CapturedRequest request, String failure, long requestNanos, long failedNanos) {
        offerExchange(new Exchanged(connection, null, request, null, Objects.requireNonNull(failure, "failure"),
                requestNanos, failedNanos, request.size()));
    }

    /** An exchange that could not even be handed over (its client had no buffer free): counted as dropped. */
    void droppedBeforeHandOff() {
        dropped.incrementAndGet();
    }

    /**
     * One failed request, queued or dropped as {@link #exchanged} is.
     *
     * @param connection the connection's id
     * @param request the request message as it went on the wire
     * @param failure the error text the robot got (or the failure's description)
     * @param requestNanos when the request was captured ({@link System#nanoTime()})
     * @param failedNanos when it failed ({@link System#nanoTime()})
     */
    public void failed(long connection, List<ByteBuffer> request, String failure, long requestNanos, long failedNanos) {
        offerExchange(new Exchanged(connection, request, null, null, Objects.requireNonNull(failure, "failure"),
                requestNanos, failedNanos, size(request)));
    }

    /**
     * A request that failed before anything of it went on the wire (its observation could not be
     * encoded, the connection was gone): recorded with what is known of it, marked as not sent
     * ({@link RecordedExchange#sent()}), so a replay does not expect it. Queued or dropped as
     * {@link #exchanged} is.
     *
     * @param connection the connection's id
     * @param request what is known of the request: the observation as the codec encodes it, or
     *     nothing (an empty list) when it could not be encoded
     * @param failure what went wrong
     * @param requestNanos when the request was made ({@link System#nanoTime()})
     * @param failedNanos when it failed ({@link System#nanoTime()})
     */
    public void failedBeforeSending(long connection, List<ByteBuffer> request, String failure, long requestNanos,
            long failedNanos) {
        offerExchange(new Exchanged(connection, request, null, null, Objects.requireNonNull(failure, "failure"),
                requestNanos, failedNanos, size(request), null, false));
    }

    /**
     * A connection ended.
     *
     * @param connection the connection's id
     * @param code its WebSocket close code (0 when there was none)
     * @param reason the close reason, or a description
     */
    public void connectionClosed(long connection, int code, String reason) {
        offerControl(new Closed(connection, code, reason, System.nanoTime()));
    }

    /**
     * What has been recorded and dropped so far.
     *
     * @return the counts now
     */
    public RecorderStats stats() {
        return new RecorderStats(accepted.get(), dropped.get(), queued.get(), writer.bytesWritten(), failure);
    }

    /**
     * A tap for {@code PolicyServer.builder(policy).exchangeTap(...)}: records every request the
     * server answers (or fails), byte for byte, one recorded connection per robot connection.
     *
     * @return a tap recording into this recorder
     */
    public org.webpolicy.transport.ExchangeTap serverTap() {
        return new ServerTap(this);
    }

    private void offerExchange(Exchanged e) {
        if (closing || failure != null || queued.get() >= queueCapacity
                || queuedBytes.get() + e.bytes() > maxQueuedBytes) {
            dropped.incrementAndGet();
            e.release();
            return;
        }
        queuedBytes.addAndGet(e.bytes());
        accepted.incrementAndGet();
        int waiting = queued.incrementAndGet();
        queue.offer(e);
        if (waiting == WAKE_AT) {
            LockSupport.unpark(thread);
        }
    }

    /** Openings and closings are small and rare: always queued (unless closed), so exchanges keep their connection. */
    private void offerControl(Entry e) {
        if (!closing && failure == null) {
            queued.incrementAndGet();
            queue.offer(e);
        }
    }

    private static long size(List<ByteBuffer> segments) {
        long n = 0;
        for (ByteBuffer b : segments) {
            n += b.remaining();
        }
        return n;
    }

    private void run() {
        long lastFlush = System.nanoTime();
        long droppedNoted = 0;
        try {
            writer.start();
            while (true) {
                Entry e = queue.poll();
                if (e == null && !closing) {
                    LockSupport.parkNanos(IDLE_POLL_NANOS);
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                }
                if (e != null) {
                    queued.decrementAndGet();
                    if (e instanceof Exchanged x) {
                        queuedBytes.addAndGet(-x.bytes());
                    }
                    writer.write(e);
                }
                long drops = dropped.get();
                if (drops != droppedNoted) {
                    writer.dropped(drops, System.nanoTime());
                    droppedNoted = drops;
                }
                if (System.nanoTime() - lastFlush >= flushNanos) {
                    writer.flush();
                    lastFlush = System.nanoTime();
                }
                if (e == null && closing && queue.isEmpty()) {
                    break;
                }
            }
            writer.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAfterFailure("interrupted");
        } catch (RuntimeException e) {
            // An I/O error (a full disk): stop recording, keep what was flushed, never disturb the caller.
            log.warn("Recording stopped: {}", e.toString());
            closeAfterFailure(e.toString());
        }
    }

    private void closeAfterFailure(String why) {
        failure = why;
        long lost = 0;
        for (Entry e = queue.poll(); e != null; e = queue.poll()) {
            if (e instanceof Exchanged x) {
                x.release();
                lost++;
            }
        }
        queued.set(0);
        dropped.addAndGet(lost);
        try {
            writer.close();
        } catch (RuntimeException ignored) {
            // the file keeps its complete chunks; the failure is in stats()
        }
    }

    /** Writes what is queued, finishes the file and stops the writer thread. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How a recorder is built; every option has a default. */
    public static final class Builder {
        private final Path file;
        private final OutputStream out;
        private int queueCapacity = 1024;
        private long maxQueuedBytes = 256L << 20;
        private ChunkCompression compression = ChunkCompression.ZSTD;
        private int chunkBytes = McapWriter.DEFAULT_CHUNK_BYTES;
        private Duration flushInterval = Duration.ofSeconds(1);
        private int referenceBytes = McapWriter.DEFAULT_REFERENCE_BYTES;
        private boolean chunkCrc = true;
        private boolean dataCrc;
        private boolean cameraImages = true;
        private Duration cameraPeriod = Duration.ofSeconds(1);

        private Builder(Path file, OutputStream out) {
            this.file = file;
            this.out = out;
        }

        /**
         * Exchanges waiting for the writer at most (1024): more are dropped and counted.
         *
         * @param queueCapacity at least 1
         * @return this builder
         */
        public Builder queueCapacity(int queueCapacity) {
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
            }
            this.queueCapacity = queueCapacity;
            return this;
        }

        /**
         * Bytes of exchanges waiting for the writer at most (256 MiB): more are dropped and counted.
         *
         * @param maxQueuedBytes at least 1
         * @return this builder
         */
        public Builder maxQueuedBytes(long maxQueuedBytes) {
            if (maxQueuedBytes < 1) {
                throw new IllegalArgumentException("maxQueuedBytes must be at least 1, got " + maxQueuedBytes);
            }
            this.maxQueuedBytes = maxQueuedBytes;
            return this;
        }

        /**
         * How chunks are compressed (zstd; {@code NONE} needs no zstd-jni).
         *
         * @param compression the compression
         * @return this builder
         */
        public Builder compression(ChunkCompression compression) {
            this.compression = Objects.requireNonNull(compression, "compression");
            return this;
        }

        /**
         * Uncompressed bytes per chunk (4 MiB).
         *
         * @param chunkBytes at least 1
         * @return this builder
         */
        public Builder chunkBytes(int chunkBytes) {
            if (chunkBytes < 1) {
                throw new IllegalArgumentException("chunkBytes must be at least 1, got " + chunkBytes);
            }
            this.chunkBytes = chunkBytes;
            return this;
        }

        /**
         * Which CRCs the file carries (0, "not computed", where not): each chunk's (on by
         * default: a reader then tells a damaged chunk from a good one) and the whole data
         * section's (off by default: one more pass over every byte, which no reader needs to
         * read the file; the summary's CRC is always there).
         *
         * @param chunks CRCs of the chunks' records
         * @param dataSection the CRC of the data section
         * @return this builder
         */
        public Builder crcs(boolean chunks, boolean dataSection) {
            this.chunkCrc = chunks;
            this.dataCrc = dataSection;
            return this;
        }

        /**
         * Message data at least this large (16 KiB) is written to the file from the buffer it came
         * in, not copied into the chunk first; chunks made mostly of such data are stored, not
         * compressed.
         *
         * @param referenceBytes at least 1; {@link Integer#MAX_VALUE} copies everything
         * @return this builder
         */
        public Builder referenceBytes(int referenceBytes) {
            if (referenceBytes < 1) {
                throw new IllegalArgumentException("referenceBytes must be at least 1, got " + referenceBytes);
            }
            this.referenceBytes = referenceBytes;
            return this;
        }

        /**
         * A chunk is written at least this often (1 s): the most a kill can lose.
         *
         * @param flushInterval positive
         * @return this builder
         */
        public Builder flushInterval(Duration flushInterval) {
            if (flushInterval.isNegative() || flushInterval.isZero()) {
                throw new IllegalArgumentException("flushInterval must be positive, got " + flushInterval);
            }
            this.flushInterval = flushInterval;
            return this;
        }

        /**
         * Camera images also on {@code /camera/...} channels a viewer shows (on by default), at most
         * one per {@code period} per camera (1 s by default). Images that came compressed are
         * copied as they are; raw ones are JPEG-encoded on the writer thread (a few ms each: the
         * period is what bounds the recording's CPU; docs/RECORDING.md has the figures).
         *
         * @param enabled whether to add camera channels
         * @param period the least time between two JPEG-encoded frames of one camera
         * @return this builder
         */
        public Builder cameraImages(boolean enabled, Duration period) {
            this.cameraImages = enabled;
            this.cameraPeriod = Objects.requireNonNull(period, "period");
            return this;
        }

        /**
         * Opens the file and starts the writer thread.
         *
         * @return a running recorder
         * @throws java.io.UncheckedIOException when the file cannot be created
         * @throws IllegalStateException when the compression's library is missing
         */
        public Recorder build() {
            if (out != null) {
                return new Recorder(this, options -> new McapWriter(out, library(), options));
            }
            try {
                // A channel: chunks go out in one gathering write, captured frames straight from their buffers.
                FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
                return new Recorder(this, options -> new McapWriter(channel, library(), options));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the recording " + file, e);
            }
        }
    }
}
