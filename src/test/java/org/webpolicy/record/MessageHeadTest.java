package org.webpolicy.record;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.codec.MsgpackCodec;

/** The op of a request read in place, across segments cut anywhere, as the writer reads captured frames. */
class MessageHeadTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    /** {@code message} cut into segments of {@code size} bytes (the last shorter), each with a position past 0. */
    private static List<ByteBuffer> cut(byte[] message, int size) {
        List<ByteBuffer> out = new ArrayList<>();
        for (int at = 0; at < message.length; at += size) {
            int n = Math.min(size, message.length - at);
            byte[] padded = new byte[n + 5];
            System.arraycopy(message, at, padded, 5, n);
            out.add(ByteBuffer.wrap(padded).position(5));
        }
        return out;
    }

    @Test
    void theOpIsFoundWhereverTheSegmentsAreCut() {
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("__webpolicy_request_id__", 7L);
        envelope.put("obs", RecorderTest.aloha(3));
        envelope.put("__webpolicy_op__", "step");
        byte[] bytes = CODEC.pack(envelope);
        for (int size : new int[] {1, 2, 3, 17, 1000, bytes.length}) {
            assertEquals(new MessageHead.Head(true, "step"), MessageHead.of(cut(bytes, size)), "segments of " + size);
        }
        assertEquals(new MessageHead.Head(true, "step"), MessageHead.of(CODEC.encode(envelope)), "the codec's own segments");
    }

    @Test
    void aRawObservationHasNoOpAndOtherMessagesAreNotMaps() {
        assertEquals(new MessageHead.Head(true, null), MessageHead.of(CODEC.encode(RecorderTest.aloha(1))));
        assertEquals(new MessageHead.Head(true, "reset"), MessageHead.of(CODEC.encode(Map.of("__webpolicy_op__", "reset"))));
        assertEquals(new MessageHead.Head(false, null), MessageHead.of(CODEC.encode(List.of(1L, 2L))));
        assertEquals(new MessageHead.Head(false, null), MessageHead.of(List.of(ByteBuffer.wrap(new byte[] {(byte) 0xc1}))));
        byte[] whole = CODEC.pack(RecorderTest.aloha(2));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
        assertEquals(new MessageHead.Head(false, null), MessageHead.of(cut(truncated, 100)), "cut short: not read as a map");
        assertEquals(new MessageHead.Head(false, null), MessageHead.of(List.of()));
    }
}
