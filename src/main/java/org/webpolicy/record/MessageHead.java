package org.webpolicy.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.webpolicy.transport.protocol.Envelope;

/**
 * What the exchange record needs of a request without decoding it: whether it is a msgpack map,
 * and the string under {@link Envelope#OP} when it has one. Skips values by their lengths
 * and reads nothing else, across the segments as they are: a camera observation's array bytes are
 * never touched, wherever they live (a pooled direct buffer, the caller's arrays).
 */
final class MessageHead {

    static final String OP_KEY = Envelope.OP;
    private static final byte[] OP_KEY_UTF8 = OP_KEY.getBytes(StandardCharsets.UTF_8);
    /** Deeper nesting than any request of ours: past it the message is treated as not a map. */
    private static final int MAX_DEPTH = 64;

    /** A top-level map, and its op (null for a raw observation). */
    record Head(boolean map, String op) {
    }

    private static final Head NOT_A_MAP = new Head(false, null);

    private final List<ByteBuffer> segments;
    private int segment;
    private int pos;

    private MessageHead(List<ByteBuffer> segments) {
        this.segments = segments;
        this.segment = 0;
        this.pos = segments.isEmpty() ? 0 : segments.get(0).position();
    }

    /**
     * Reads the head of {@code message}.
     *
     * @return what it is; not a map when it is not msgpack, or ends early
     */
    static Head of(List<ByteBuffer> message) {
        try {
            return new MessageHead(message).head();
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
            return NOT_A_MAP;
        }
    }

    private Head head() {
        int b = u8();
        long entries;
        if ((b & 0xf0) == 0x80) {
            entries = b & 0x0f;
        } else if (b == 0xde) {
            entries = u16();
        } else if (b == 0xdf) {
            entries = u32();
        } else {
            return NOT_A_MAP;
        }
        String op = null;
        for (long i = 0; i < entries; i++) {
            boolean isOp = keyIsOp();
            if (isOp) {
                op = stringOrNull();
            } else {
                skip(0);
            }
        }
        return new Head(true, op);
    }

    /** Reads a key; true when it is the op key (any other key is skipped). */
    private boolean keyIsOp() {
        int b = peek();
        long len = strLength(b);
        if (len < 0) {
            skip(0);
            return false;
        }
        u8();
        skipHeader(b);
        if (len != OP_KEY_UTF8.length) {
            advance(len);
            return false;
        }
        boolean same = true;
        for (byte k : OP_KEY_UTF8) {
            same &= (byte) u8() == k;
        }
        return same;
    }

    private String stringOrNull() {
        int b = peek();
        long len = strLength(b);
        if (len < 0 || len > 256) {
            skip(0);
            return null;
        }
        u8();
        skipHeader(b);
        byte[] s = new byte[(int) len];
        for (int i = 0; i < len; i++) {
            s[i] = (byte) u8();
        }
        return new String(s, StandardCharsets.UTF_8);
    }

    /** A str's length from its first byte, or -1 when it is not a str. */
    private long strLength(int b) {
        if ((b & 0xe0) == 0xa0) {
            return b & 0x1f;
        }
        return switch (b) {
            case 0xd9 -> peekAt(1);
            case 0xda -> (peekAt(1) << 8) | peekAt(2);
            case 0xdb -> ((long) peekAt(1) << 24) | (peekAt(2) << 16) | (peekAt(3) << 8) | peekAt(4);
            default -> -1;
        };
    }

    /** Moves past the length bytes of a str whose first byte {@code b} was read. */
    private void skipHeader(int b) {
        switch (b) {
            case 0xd9 -> advance(1);
            case 0xda -> advance(2);
            case 0xdb -> advance(4);
            default -> {
            }
        }
    }

    /** Skips one value. */
    private void skip(int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalStateException("nested too deep");
        }
        int b = u8();
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            return;
        }
        if ((b & 0xf0) == 0x80) {
            skipEntries(2L * (b & 0x0f), depth);
        } else if ((b & 0xf0) == 0x90) {
            skipEntries(b & 0x0f, depth);
        } else if ((b & 0xe0) == 0xa0) {
            advance(b & 0x1f);
        } else {
            switch (b) {
                case 0xc4, 0xd9 -> advance(u8());
                case 0xc5, 0xda -> advance(u16());
                case 0xc6, 0xdb -> advance(u32());
                case 0xc7 -> advance(u8() + 1L);
                case 0xc8 -> advance(u16() + 1L);
                case 0xc9 -> advance(u32() + 1L);
                case 0xca -> advance(4);
                case 0xcb -> advance(8);
                case 0xcc, 0xd0 -> advance(1);
                case 0xcd, 0xd1 -> advance(2);
                case 0xce, 0xd2 -> advance(4);
                case 0xcf, 0xd3 -> advance(8);
                case 0xd4 -> advance(2);
                case 0xd5 -> advance(3);
                case 0xd6 -> advance(5);
                case 0xd7 -> advance(9);
                case 0xd8 -> advance(17);
                case 0xdc -> skipEntries(u16(), depth);
                case 0xdd -> skipEntries(u32(), depth);
                case 0xde -> skipEntries(2L * u16(), depth);
                case 0xdf -> skipEntries(2L * u32(), depth);
                default -> throw new IllegalStateException("not msgpack: 0x" + Integer.toHexString(b));
            }
        }
    }

    private void skipEntries(long values, int depth) {
        for (long i = 0; i < values; i++) {
            skip(depth + 1);
        }
    }

    private int peek() {
        return peekAt(0);
    }

    private int peekAt(int ahead) {
        int s = segment;
        int p = pos + ahead;
        while (p >= segments.get(s).limit()) {
            p -= segments.get(s).limit();
            s++;
            p += segments.get(s).position();
        }
        return segments.get(s).get(p) & 0xff;
    }

    private int u8() {
        while (pos >= segments.get(segment).limit()) {
            segment++;
            pos = segments.get(segment).position();
        }
        return segments.get(segment).get(pos++) & 0xff;
    }

    private int u16() {
        return (u8() << 8) | u8();
    }

    private long u32() {
        return ((long) u8() << 24) | ((long) u8() << 16) | ((long) u8() << 8) | u8();
    }

    private void advance(long n) {
        while (n > 0) {
            ByteBuffer s = segments.get(segment);
            long here = s.limit() - pos;
            if (n <= here) {
                pos += (int) n;
                return;
            }
            n -= here;
            segment++;
            if (segment >= segments.size()) {
                throw new IndexOutOfBoundsException("message ends early");
            }
            pos = segments.get(segment).position();
        }
    }
}
