package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;

/**
 * What a message becomes is bounded while it is decoded, not after: a msgpack byte can be tens of
 * bytes of Java objects, and the codec refuses a message at the element whose cost crosses its
 * limit, before allocating that element's container, and charges a caller's budget as it goes.
 */
class DecodedMemoryTest {

    /** {@code {"a": [n empty maps]}}: one byte on the wire per map. */
    private static byte[] emptyMaps(int n) {
        ByteBuffer out = ByteBuffer.allocate(n + 16);
        out.put((byte) 0x81).put((byte) 0xa1).put((byte) 'a');
        out.put((byte) 0xdd).putInt(n);
        for (int i = 0; i < n; i++) {
            out.put((byte) 0x80);
        }
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    /** {@code [[k empty maps] x lists]}: every header small, the total large. */
    private static byte[] listsOfEmptyMaps(int lists, int k) {
        ByteBuffer out = ByteBuffer.allocate(lists * (k + 3) + 8);
        out.put((byte) 0xdd).putInt(lists);
        for (int i = 0; i < lists; i++) {
            out.put((byte) 0xdc).putShort((short) k);
            for (int j = 0; j < k; j++) {
                out.put((byte) 0x80);
            }
        }
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    void aListHeaderWhoseElementsWouldPassTheLimitIsRefusedBeforeTheListIsAllocated() {
        byte[] message = emptyMaps(4 << 20); // 4 MiB of msgpack, about 500 MiB of maps
        MsgpackCodec codec = new MsgpackCodec(64, 1 << 20);
        long before = allocatedByThisThread();
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(message));
        long allocated = allocatedByThisThread() - before;
        assertEquals(DecodeException.Problem.TOO_LARGE, e.problem());
        assertTrue(e.getMessage().startsWith("$.a: "), e.getMessage());
        assertTrue(e.getMessage().contains("limit of 1048576 bytes per message"), e.getMessage());
        // The list's backing array alone would be 16-32 MiB.
        assertTrue(allocated < 256 << 10, "allocated " + allocated + " bytes before refusing");
    }

    @Test
    void manySmallContainersAreRefusedAtTheElementThatCrossesTheLimit() {
        byte[] message = listsOfEmptyMaps(4096, 1000); // 4 MB of msgpack, about 480 MB of maps
        MsgpackCodec codec = new MsgpackCodec(64, 4 << 20);
        long before = allocatedByThisThread();
        DecodeException e = assertThrows(DecodeException.class, () -> codec.unpack(message));
        long allocated = allocatedByThisThread() - before;
        assertEquals(DecodeException.Problem.TOO_LARGE, e.problem());
        assertTrue(e.getMessage().matches("\\$\\[\\d+\\]\\[\\d+\\]: the decoded value would take about \\d+ bytes.*"),
                e.getMessage());
        // What was built before the refusal is bounded by the limit (the estimate is an upper
        // bound of the objects), plus the Path objects of the walk.
        assertTrue(allocated < 8 << 20, "allocated " + allocated + " bytes before refusing");
    }

    @Test
    void theSameMessageDecodesUnderALimitThatHoldsIt() {
        byte[] message = listsOfEmptyMaps(64, 100);
        long estimate = DecodedSize.LIST + 64 * (DecodedSize.SLOT + DecodedSize.LIST + 100 * (DecodedSize.SLOT + DecodedSize.MAP));
        List<?> lists = (List<?>) new MsgpackCodec(64, estimate).unpack(message);
        assertEquals(64, lists.size());
        assertEquals(Map.of(), ((List<?>) lists.get(63)).get(99));
        DecodeException e = assertThrows(DecodeException.class, () -> new MsgpackCodec(64, estimate - 1).unpack(message));
        assertTrue(e.getMessage().startsWith("$[63][99]: "), "the very last map crosses: " + e.getMessage());
    }

    @Test
    void stringsCountTheirCharactersWhileDecodingAndCopiedBinsTheirBytes() {
        MsgpackCodec packer = new MsgpackCodec();
        byte[] str = packer.pack(Map.of("prompt", "x".repeat(1 << 20)));
        DecodeException e = assertThrows(DecodeException.class, () -> new MsgpackCodec(64, 2 << 20).unpack(str));
        assertTrue(e.getMessage().startsWith("$.prompt: ") && e.getMessage().contains("this str ("), e.getMessage());
        assertEquals("x".repeat(1 << 20), ((Map<?, ?>) new MsgpackCodec(64, 5 << 20).unpack(str)).get("prompt"));
        byte[] bin = packer.pack(Map.of("blob", new byte[1 << 20]));
        e = assertThrows(DecodeException.class, () -> new MsgpackCodec(64, 1 << 20).unpack(bin));
        assertTrue(e.getMessage().startsWith("$.blob: ") && e.getMessage().contains("this bin ("), e.getMessage());
    }

    @Test
    void arrayDataViewsTheMessageAndCostsOnlyItsHeader() {
        Map<String, Object> observation = new LinkedHashMap<>();
        observation.put("image", NdArray.ofUint8(new byte[3 * 224 * 224], 3, 224, 224));
        observation.put("state", NdArray.ofFloat64(new double[14]));
        observation.put("prompt", "fold the towel");
        byte[] message = new MsgpackCodec().pack(observation);
        List<Long> charges = new ArrayList<>();
        // A limit far below the image's 150 KB: its data is not decoded memory.
        Map<?, ?> back = (Map<?, ?>) new MsgpackCodec(64, 8 << 10).unpack(ByteBuffer.wrap(message), charges::add);
        NdArray image = (NdArray) back.get("image");
        for (int i = 0; i < message.length; i++) {
            message[i] = message[i] == 0 ? 9 : message[i];
        }
        assertEquals(9, image.data().get(1000), "the array views the message: no copy");
        assertEquals(List.of(8L << 10), charges, "one charge, capped at the limit");
    }

    @Test
    void theCallersMemoryIsChargedInStepsBeforeTheAllocationsAndMayRefuse() {
        byte[] message = listsOfEmptyMaps(256, 1000); // about 31 MB of estimate
        List<Long> charges = new ArrayList<>();
        Object value = new MsgpackCodec(64, 64 << 20).unpack(ByteBuffer.wrap(message), charges::add);
        assertEquals(256, ((List<?>) value).size());
        long total = charges.stream().mapToLong(Long::longValue).sum();
        long estimate = DecodedSize.LIST + 256 * (DecodedSize.SLOT + DecodedSize.LIST + 1000 * (DecodedSize.SLOT + DecodedSize.MAP));
        assertTrue(total >= estimate && total < estimate + MsgpackCodec.CHARGE_STEP, total + " charged for " + estimate);
        assertTrue(charges.stream().allMatch(c -> c >= MsgpackCodec.CHARGE_STEP), "charged in steps: " + charges.subList(0, 3));
        assertTrue(charges.size() < estimate / MsgpackCodec.CHARGE_STEP + 2, charges.size() + " charges");

        IllegalStateException spent = new IllegalStateException("budget spent");
        long[] granted = {0};
        long before = allocatedByThisThread();
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> new MsgpackCodec(64, 64 << 20).unpack(ByteBuffer.wrap(message), bytes -> {
                    if (granted[0] + bytes > 1 << 20) {
                        throw spent;
                    }
                    granted[0] += bytes;
                }));
        long allocated = allocatedByThisThread() - before;
        assertSame(spent, thrown, "the refusal passes through unchanged");
        assertTrue(allocated < 3 << 20, "allocated " + allocated + " bytes with 1 MiB granted");
    }

    @Test
    void limitsBelowOneAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MsgpackCodec(64, 0));
        assertEquals(MsgpackCodec.DEFAULT_MAX_DECODED_BYTES, new MsgpackCodec().maxDecodedBytes());
    }
}
