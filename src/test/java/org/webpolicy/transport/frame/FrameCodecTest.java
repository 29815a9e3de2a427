package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

class FrameCodecTest {

    /** Reference masking, one byte at a time, straight from RFC 6455 section 5.3. */
    private static byte[] frameByHand(int opcode, byte[] payload, byte[] key) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x80 | opcode);
        int maskBit = key == null ? 0 : 0x80;
        if (payload.length <= 125) {
            out.write(maskBit | payload.length);
        } else if (payload.length <= 65535) {
            out.write(maskBit | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length);
        } else {
            out.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) ((long) payload.length >>> shift));
            }
        }
        if (key != null) {
            out.write(key, 0, 4);
        }
        for (int i = 0; i < payload.length; i++) {
            out.write(key == null ? payload[i] : payload[i] ^ key[i % 4]);
        }
        return out.toByteArray();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void decodesHandMaskedFramesFedInPiecesOfEverySize() throws ProtocolException {
        Random random = new Random(7);
        for (int length : new int[] {0, 1, 3, 7, 8, 9, 125, 126, 127, 1000, 65535, 65536, 200_003}) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            byte[] key = new byte[4];
            random.nextBytes(key);
            for (byte[] wire : List.of(frameByHand(2, payload, key), frameByHand(2, payload, null))) {
                for (int piece : new int[] {1, 2, 5, 13, 4096, wire.length}) {
                    if (piece == 1 && length > 70_000) {
                        continue; // byte-at-a-time over 200 KB adds time and no coverage
                    }
                    FrameCodec codec = new FrameCodec(1 << 20);
                    List<Frame> frames = new ArrayList<>();
                    for (int at = 0; at < wire.length; at += piece) {
                        frames.addAll(codec.decode(ByteBuffer.wrap(wire, at, Math.min(piece, wire.length - at))));
                    }
                    assertEquals(1, frames.size(), "length " + length + " piece " + piece);
                    assertEquals(Opcode.BINARY, frames.get(0).opcode());
                    assertTrue(frames.get(0).fin());
                    assertArrayEquals(payload, bytes(frames.get(0).payload()), "length " + length + " piece " + piece);
                }
            }
        }
    }

    @Test
    void lengthsNotInTheirShortestFormAreRefused() {
        byte[] key = {1, 2, 3, 4};
        // 5 bytes claimed with a 16-bit length, and 300 with a 64-bit one.
        byte[] padded16 = {(byte) 0x82, (byte) (0x80 | 126), 0, 5, 1, 2, 3, 4, 0, 0, 0, 0, 0};
        byte[] padded64 = new byte[2 + 8 + 4];
        padded64[0] = (byte) 0x82;
        padded64[1] = (byte) (0x80 | 127);
        padded64[8] = 0x01;
        padded64[9] = 0x2c;
        System.arraycopy(key, 0, padded64, 10, 4);
        for (byte[] wire : List.of(padded16, padded64)) {
            ProtocolException e = org.junit.jupiter.api.Assertions.assertThrows(ProtocolException.class,
                    () -> new FrameCodec(1 << 20).decode(ByteBuffer.wrap(wire)));
            assertTrue(e.getMessage().contains("shortest form"), e.getMessage());
        }
        // The shortest forms of the same lengths still decode (the boundaries included).
        assertDoesNotThrow(() -> new FrameCodec(1 << 20).decode(ByteBuffer.wrap(frameByHand(2, new byte[126], key))));
        assertDoesNotThrow(() -> new FrameCodec(1 << 20).decode(ByteBuffer.wrap(frameByHand(2, new byte[65536], key))));
    }

    @Test
    void severalFramesInOneBufferComeOutInOrder() throws ProtocolException {
        byte[] a = frameByHand(2, new byte[] {1, 2, 3}, new byte[] {9, 8, 7, 6});
        byte[] b = frameByHand(9, new byte[0], new byte[] {1, 1, 1, 1});
        byte[] c = frameByHand(1, "hé".getBytes(java.nio.charset.StandardCharsets.UTF_8), null);
        ByteBuffer all = ByteBuffer.allocate(a.length + b.length + c.length).put(a).put(b).put(c).flip();
        List<Frame> frames = new FrameCodec(1000).decode(all);
        assertEquals(List.of(Opcode.BINARY, Opcode.PING, Opcode.TEXT), frames.stream().map(Frame::opcode).toList());
        assertArrayEquals(new byte[] {1, 2, 3}, bytes(frames.get(0).payload()));
    }

    @Test
    void encodedFramesDecodeBackMaskedOrNot() throws ProtocolException {
        Random random = new Random(11);
        for (int length : new int[] {0, 5, 125, 126, 65535, 65536, 300_001}) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            for (boolean mask : new boolean[] {true, false}) {
                Frame frame = new Frame(Opcode.BINARY, true, ByteBuffer.wrap(payload));
                ByteBuffer wire = FrameCodec.encode(frame, mask);
                byte[] raw = bytes(wire);
                assertEquals(mask, (raw[1] & 0x80) != 0);
                if (mask) {
                    int headerLength = raw.length - length;
                    byte[] key = java.util.Arrays.copyOfRange(raw, headerLength - 4, headerLength);
                    assertArrayEquals(frameByHand(2, payload, key), raw, "masked length " + length);
                } else {
                    assertArrayEquals(frameByHand(2, payload, null), raw, "length " + length);
                }
                List<Frame> back = new FrameCodec(1 << 20).decode(wire);
                assertArrayEquals(payload, bytes(back.get(0).payload()));
            }
        }
    }

    @Test
    void aFrameOverTheLimitIsRefusedFromItsHeaderAlone() {
        // Header claiming 2^31 bytes, and nothing after it.
        byte[] header = {(byte) 0x82, (byte) 0xff, 0, 0, 0, 0, (byte) 0x80, 0, 0, 0, 1, 2, 3, 4};
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> new FrameCodec(1 << 20).decode(ByteBuffer.wrap(header)));
        assertTrue(e.getMessage().contains("2147483648"), e.getMessage());
        assertEquals(CloseCodes.TOO_BIG, e.closeCode());
        byte[] negative = {(byte) 0x82, 0x7f, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0};
        assertEquals(CloseCodes.TOO_BIG, assertThrows(ProtocolException.class,
                () -> new FrameCodec(1 << 20).decode(ByteBuffer.wrap(negative))).closeCode());
    }

    @Test
    void aLargeAllowedClaimDoesNotAllocateItUpFront() throws ProtocolException {
        FrameCodec codec = new FrameCodec(Integer.MAX_VALUE);
        byte[] header = {(byte) 0x82, 0x7f, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4};
        long before = usedHeap();
        assertEquals(List.of(), codec.decode(ByteBuffer.wrap(header)));
        assertTrue(usedHeap() - before < 256L << 20, "a 1 GiB claim allocated its size");
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Test
    void protocolErrorsAreNamed() {
        byte[] rsv = {(byte) 0xc2, 0};
        ProtocolException e = assertThrows(ProtocolException.class, () -> new FrameCodec(100).decode(ByteBuffer.wrap(rsv)));
        assertTrue(e.getMessage().contains("RSV"), e.getMessage());
        assertEquals(CloseCodes.PROTOCOL_ERROR, e.closeCode());
        byte[] opcode = {(byte) 0x83, 0};
        e = assertThrows(ProtocolException.class, () -> new FrameCodec(100).decode(ByteBuffer.wrap(opcode)));
        assertTrue(e.getMessage().contains("opcode 3"), e.getMessage());
        assertEquals(CloseCodes.PROTOCOL_ERROR, e.closeCode());
        byte[] bigPing = {(byte) 0x89, 126, 0, (byte) 200};
        e = assertThrows(ProtocolException.class, () -> new FrameCodec(1000).decode(ByteBuffer.wrap(bigPing)));
        assertTrue(e.getMessage().contains("control frame"), e.getMessage());
        assertEquals(CloseCodes.PROTOCOL_ERROR, e.closeCode());
        byte[] badUtf8 = {(byte) 0x81, 2, (byte) 0xc3, 0x28};
        assertEquals(CloseCodes.NOT_UTF8, assertThrows(ProtocolException.class,
                () -> new FrameCodec(1000).decode(ByteBuffer.wrap(badUtf8))).closeCode());
        // A text message may be cut inside a character between fragments: only a whole one is checked.
        byte[] firstHalf = {(byte) 0x01, 1, (byte) 0xc3};
        assertDoesNotThrow(() -> new FrameCodec(1000).decode(ByteBuffer.wrap(firstHalf)));
    }

    @Test
    void textPingAndCloseFramesEncodeAsTheRfcSays() throws ProtocolException {
        Frame text = new Frame(Opcode.TEXT, true, ByteBuffer.wrap("error".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertArrayEquals(frameByHand(1, "error".getBytes(java.nio.charset.StandardCharsets.UTF_8), null),
                bytes(FrameCodec.encode(text, false)));
        assertArrayEquals(frameByHand(9, new byte[0], null), bytes(FrameCodec.encode(new Frame(Opcode.PING, true, null), false)));
        Frame close = new FrameCodec(1000).decode(FrameCodec.encode(Frame.close(1008, "too many pings"), false)).get(0);
        assertEquals(Opcode.CLOSE, close.opcode());
        assertEquals(1008, close.closeCode());
        assertEquals("too many pings", close.closeReason());
        assertEquals(CloseCodes.NO_STATUS, new FrameCodec(1000).decode(FrameCodec.encode(Frame.close(-1, ""), true)).get(0)
                .closeCode());
        // A long reason is cut to fit a control frame, not in the middle of a character.
        Frame cut = Frame.close(1000, "é".repeat(100));
        assertEquals(2 + 122, cut.payload().remaining());
        assertEquals("é".repeat(61), cut.closeReason());
    }

    @Test
    void segmentedMessagesFrameAsTheirConcatenation() throws ProtocolException {
        Random random = new Random(3);
        for (int[] sizes : new int[][] {{}, {1}, {3, 5}, {1, 2, 3, 4, 5, 6, 7}, {70_000, 1, 9}, {125, 1}}) {
            List<ByteBuffer> segments = new ArrayList<>();
            ByteArrayOutputStream whole = new ByteArrayOutputStream();
            for (int size : sizes) {
                byte[] b = new byte[size + 2];
                random.nextBytes(b);
                ByteBuffer view = ByteBuffer.wrap(b, 1, size); // a view inside a larger array
                segments.add(segments.size() % 2 == 0 ? view : view.asReadOnlyBuffer());
                whole.write(b, 1, size);
            }
            for (boolean mask : new boolean[] {true, false}) {
                ByteBuffer wire = FrameCodec.encode(new EncodedMessage(segments), mask, null);
                List<Frame> back = new FrameCodec(1 << 20).decode(wire);
                assertArrayEquals(whole.toByteArray(), bytes(back.get(0).payload()), java.util.Arrays.toString(sizes));
                assertEquals(Opcode.BINARY, back.get(0).opcode());
            }
        }
    }
}
