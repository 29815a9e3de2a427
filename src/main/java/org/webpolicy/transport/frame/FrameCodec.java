package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * RFC 6455 frame parsing and building with word-at-a-time masking. The WebSocket library masks
 * and unmasks one byte at a time and copies a large frame twice while it arrives, which costs
 * milliseconds per camera observation; this touches each payload byte once, eight at a time.
 *
 * <p>One decoder per connection: it holds the frame being received. The protocol is enforced
 * where the bytes are parsed, with the close code the RFC names: a frame masked the wrong way for
 * the sender's role (1002), RSV bits (no extension is negotiated), unknown opcodes, oversized or
 * fragmented control frames, a bad close frame (1002, or 1007 for a reason that is not UTF-8), a
 * whole text frame that is not UTF-8 (1007), a frame or a fragmented message over the limit, or too many fragments (1009). Memory is taken
 * only as bytes arrive, and from the server's {@link InboundBudget} when there is one (1013 when
 * it is spent).
 */
public final class FrameCodec {

    /** Which way the peer's frames must be masked: a client's always, a server's never. */
    public enum Masking {
        /** Every frame must be masked: a server decoding a client. */
        REQUIRED,
        /** No frame may be masked: a client decoding a server. */
        FORBIDDEN,
        /** Either is accepted: tests and tools that read frames of both sides. */
        EITHER
    }

    private static final int MAX_CONTROL_PAYLOAD = 125;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** A payload buffer starts no larger than this, whatever its header claims. */
    static final int MIN_PAYLOAD_CAPACITY = 64 << 10;
    /**
     * A buffer grows to at most this many times the bytes received so far (and never past the
     * claim): memory follows the bytes on the wire, and a frame that arrives in large reads is
     * still copied once, not once per doubling.
     */
    public static final int GROWTH_FACTOR = 8;
    /** The most frames one fragmented message may have; empty continuation frames count too. */
    public static final int MAX_FRAGMENTS = 1024;

    private final int maxMessageBytes;
    private final Masking masking;
    private final InboundBudget budget;
    private final byte[] header = new byte[14];
    private int headerBytes;
    /** The payload received so far, or null between frames. */
    private ByteBuffer payload;
    private int payloadLength;
    private byte first;
    private int maskKey;
    /** Whether a fragmented message is under way, its opcode, bytes so far and frames so far. */
    private boolean fragmented;
    private long fragmentedBytes;
    private int fragments;
    /** Bytes taken from the budget for the frame being received and the fragments held. */
    private long charged;
    /**
     * The charge of a fragmented message's fragments, kept once it is whole until its receiver has
     * copied them into one buffer ({@link #assembled()}): both live at once while it does.
     */
    private long assembling;
    private boolean released;

    /**
     * A decoder that accepts frames masked or not, with no memory budget (tests and tools).
     *
     * @param maxMessageBytes the largest frame or fragmented message accepted
     */
    public FrameCodec(int maxMessageBytes) {
        this(maxMessageBytes, Masking.EITHER, null);
    }

    /**
     * A decoder for one connection.
     *
     * @param maxMessageBytes the largest frame or fragmented message accepted (larger ones close with 1009)
     * @param masking which way the peer's frames must be masked
     * @param budget the server's inbound memory budget that frame buffers are taken from, or null for none
     */
    public FrameCodec(int maxMessageBytes, Masking masking, InboundBudget budget) {
        this.maxMessageBytes = maxMessageBytes;
        this.masking = masking;
        this.budget = budget;
    }

    /**
     * Consumes all of {@code in} and returns the frames it completed (a partial one is kept).
     *
     * @param in bytes as read from the connection
     * @return the frames completed, in order; empty when none was, or after {@link #release()}
     * @throws ProtocolException when the bytes break the protocol or a bound; its close code is the one to
     *     close with
     */
    public synchronized List<Frame> decode(ByteBuffer in) throws ProtocolException {
        if (released) {
            in.position(in.limit());
            return List.of();
        }
        List<Frame> frames = new ArrayList<>(1);
        while (in.hasRemaining()) {
            if (payload == null && !readHeader(in)) {
                break;
            }
            int n = Math.min(in.remaining(), payloadLength - payload.position());
            ensureCapacity(payload.position() + n);
            FrameMasking.copy(in, payload, n, maskKey, payload.position());
            if (payload.position() == payloadLength) {
                frames.add(finish());
            }
        }
        return frames;
    }

    /** Forgets a partly received frame and message, and gives their memory back to the budget. */
    synchronized void reset() {
        headerBytes = 0;
        payload = null;
        fragmented = false;
        giveBack();
        assembled();
    }

    /** The receiver has copied the fragments of the messages completed so far: their charge goes back. */
    public synchronized void assembled() {
        if (budget != null && assembling > 0) {
            budget.release(assembling);
        }
        assembling = 0;
    }

    /** Resets for good: the connection is gone, and anything it still sends is ignored. */
    public synchronized void release() {
        reset();
        released = true;
    }

    /**
     * Bytes this decoder holds from the budget.
     *
     * @return the bytes, 0 with no budget
     */
    public synchronized long charged() {
        return charged;
    }

    private void giveBack() {
        if (budget != null && charged > 0) {
            budget.release(charged);
        }
        charged = 0;
    }

    private void ensureCapacity(int needed) throws ProtocolException {
        if (needed <= payload.capacity()) {
            return;
        }
        int capacity = (int) Math.min(payloadLength, Math.max(MIN_PAYLOAD_CAPACITY, (long) GROWTH_FACTOR * needed));
        int more = capacity - payload.capacity();
        if (budget != null && !budget.tryReserve(more, fragmented ? maxMessageBytes : payloadLength)) {
            throw new ProtocolException(CloseCodes.TRY_AGAIN_LATER, "the server's inbound memory budget ("
                    + budget.limit() + " bytes) is spent; try again later");
        }
        ByteBuffer bigger;
        try {
            bigger = ByteBuffer.allocate(capacity);
        } catch (OutOfMemoryError e) {
            // This connection asked for more than the heap has now: refuse it, not the server.
            if (budget != null) {
                budget.release(more);
            }
            throw new ProtocolException(CloseCodes.TRY_AGAIN_LATER, "out of memory for a frame of " + payloadLength + " bytes");
        }
        charged += budget != null ? more : 0;
        payload.flip();
        bigger.put(payload);
        payload = bigger;
    }

    /** Collects header bytes; true once the header is complete and checked. */
    private boolean readHeader(ByteBuffer in) throws ProtocolException {
        while (in.hasRemaining()) {
            header[headerBytes++] = in.get();
            if (headerBytes < 2) {
                continue;
            }
            int len7 = header[1] & 0x7f;
            boolean masked = (header[1] & 0x80) != 0;
            int sizeBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            if (headerBytes < 2 + sizeBytes + (masked ? 4 : 0)) {
                continue;
            }
            long length = len7;
            if (sizeBytes > 0) {
                length = 0;
                for (int i = 0; i < sizeBytes; i++) {
                    length = (length << 8) | (header[2 + i] & 0xff);
                }
            }
            if (sizeBytes == 2 && length < 126 || sizeBytes == 8 && length >= 0 && length <= 0xffff) {
                // RFC 6455 5.2 asks for the minimal encoding; a peer that pads its lengths is
                // not one of ours, and refusing it closes a door to parser differentials.
                throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "frame length " + length + " written in " + sizeBytes
                        + " bytes where " + (length < 126 ? "one" : "2") + " would do (RFC 6455 5.2 asks for the shortest form)");
            }
            first = header[0];
            check(masked, length);
            int at = 2 + sizeBytes;
            maskKey = masked
                    ? (header[at] & 0xff) | (header[at + 1] & 0xff) << 8 | (header[at + 2] & 0xff) << 16 | (header[at + 3] & 0xff) << 24
                    : 0;
            headerBytes = 0;
            payloadLength = (int) length;
            // Nothing is set aside for the claim: the buffer grows as the payload arrives.
            payload = EMPTY.duplicate();
            return true;
        }
        return false;
    }

    private void check(boolean masked, long length) throws ProtocolException {
        if (masked && masking == Masking.FORBIDDEN) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "masked frame from a server (RFC 6455 5.1)");
        }
        if (!masked && masking == Masking.REQUIRED) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "unmasked frame from a client (RFC 6455 5.1)");
        }
        if ((first & 0x70) != 0) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "RSV bits set, but no extension was negotiated");
        }
        Opcode opcode = Opcode.of(first & 0x0f);
        boolean fin = (first & 0x80) != 0;
        if (opcode.control()) {
            if (length > MAX_CONTROL_PAYLOAD) {
                throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "control frame with " + length + " bytes (at most 125 allowed)");
            }
            if (!fin) {
                throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "fragmented control frame");
            }
            return;
        }
        // A negative length is a 64-bit length with the top bit set: also over the limit.
        if (length < 0 || length > maxMessageBytes) {
            throw new ProtocolException(CloseCodes.TOO_BIG, "frame of " + Long.toUnsignedString(length)
                    + " bytes exceeds the limit of " + maxMessageBytes + " bytes");
        }
        if (opcode == Opcode.CONTINUATION) {
            if (!fragmented) {
                throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "continuation frame without a message to continue");
            }
            if (++fragments > MAX_FRAGMENTS) {
                throw new ProtocolException(CloseCodes.TOO_BIG, "message in more than " + MAX_FRAGMENTS + " fragments");
            }
            fragmentedBytes += length;
            if (fragmentedBytes > maxMessageBytes) {
                throw new ProtocolException(CloseCodes.TOO_BIG, "fragmented message of more than " + maxMessageBytes
                        + " bytes so far");
            }
        } else if (fragmented) {
            throw new ProtocolException(CloseCodes.PROTOCOL_ERROR, "new message before the fragmented one was finished");
        } else if (!fin) {
            fragmented = true;
            fragmentedBytes = length;
            fragments = 1;
        }
    }

    private Frame finish() throws ProtocolException {
        Opcode opcode = Opcode.of(first & 0x0f);
        boolean fin = (first & 0x80) != 0;
        payload.flip();
        if (opcode == Opcode.CLOSE) {
            CloseFrameCheck.check(payload);
        }
        if (opcode == Opcode.TEXT && fin && !CloseFrameCheck.utf8(payload)) {
            // A fragment's text may end inside a character: only a whole message is checked here.
            throw new ProtocolException(CloseCodes.NOT_UTF8, "text frame that is not UTF-8");
        }
        Frame frame = new Frame(opcode, fin, payload);
        payload = null;
        if (opcode == Opcode.CONTINUATION && fin) {
            fragmented = false;
            // Whole, but the receiver still holds the fragments while it copies them into one
            // buffer: their charge stays until it has (assembled()).
            assembling += charged;
            charged = 0;
        }
        if (!fragmented) {
            // The message is whole and leaves this decoder: its bytes are no longer ours to hold.
            giveBack();
        }
        return frame;
    }

    /**
     * The whole frame, masked with a fresh random key when {@code mask} (a client's frames).
     *
     * @param frame the frame to write
     * @param mask whether to mask it (a client sending)
     * @return a buffer holding exactly the frame, ready to read
     */
    public static ByteBuffer encode(Frame frame, boolean mask) {
        return encode(frame.opcode(), frame.fin(), List.of(frame.payload()), mask, null);
    }

    /**
     * A binary message as one frame, written into {@code reuse} (heap or direct) when it is large
     * enough (from its start; every byte up to the returned limit is overwritten, so nothing of a
     * longer frame it held before can leak), else into a new heap buffer: a caller that writes one
     * frame at a time keeps one buffer instead of allocating, and zeroing, one as large as each
     * message.
     *
     * @param message the message to write
     * @param mask whether to mask it (a client sending)
     * @param reuse a buffer to write into when it is large enough, or null
     * @return {@code reuse} or a new buffer, holding exactly the frame from position 0 to its limit
     */
    public static ByteBuffer encode(EncodedMessage message, boolean mask, ByteBuffer reuse) {
        return encode(Opcode.BINARY, true, message.segments(), mask, reuse);
    }

    private static ByteBuffer encode(Opcode opcode, boolean fin, List<ByteBuffer> payload, boolean mask, ByteBuffer reuse) {
        int length = payloadBytes(payload);
        int sizeBytes = lengthBytes(length);
        int frameBytes = frameBytes(length, mask);
        ByteBuffer out = reuse != null && reuse.capacity() >= frameBytes
                ? reuse.clear().limit(frameBytes)
                : ByteBuffer.allocate(frameBytes);
        out.put((byte) ((fin ? 0x80 : 0) | opcode.code()));
        int maskBit = mask ? 0x80 : 0;
        if (sizeBytes == 0) {
            out.put((byte) (maskBit | length));
        } else if (sizeBytes == 2) {
            out.put((byte) (maskBit | 126));
            out.putShort((short) length);
        } else {
            out.put((byte) (maskBit | 127));
            out.putLong(length);
        }
        int key = 0;
        if (mask) {
            key = ThreadLocalRandom.current().nextInt();
            out.put((byte) key).put((byte) (key >>> 8)).put((byte) (key >>> 16)).put((byte) (key >>> 24));
        }
        int offset = 0;
        for (ByteBuffer segment : payload) {
            int n = segment.remaining();
            FrameMasking.copy(segment.duplicate(), out, n, key, offset);
            offset += n;
        }
        out.flip();
        return out;
    }

    /**
     * The bytes of the frame {@link #encode(EncodedMessage, boolean, ByteBuffer)} builds for
     * {@code message}: what a caller sizes a buffer to reuse by.
     */
    static int frameBytes(EncodedMessage message, boolean mask) {
        return frameBytes(payloadBytes(message.segments()), mask);
    }

    private static int frameBytes(int length, boolean mask) {
        return 2 + lengthBytes(length) + (mask ? 4 : 0) + length;
    }

    /** Bytes of the extended payload length after the first two (RFC 6455 5.2). */
    private static int lengthBytes(int length) {
        return length <= 125 ? 0 : length <= 65535 ? 2 : 8;
    }

    private static int payloadBytes(List<ByteBuffer> payload) {
        long total = 0;
        for (ByteBuffer segment : payload) {
            total += segment.remaining();
        }
        if (total > Integer.MAX_VALUE - 14) {
            throw new IllegalArgumentException("A message of " + total + " bytes does not fit one frame buffer");
        }
        return (int) total;
    }
}
