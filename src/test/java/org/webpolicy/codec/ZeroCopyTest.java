package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;

/** Large array bytes are shared, not copied, in both directions. */
class ZeroCopyTest {

    private final MsgpackCodec codec = new MsgpackCodec();

    @Test
    void decodedArraysViewTheMessage() {
        byte[] message = codec.pack(Map.of("image", NdArray.ofUint8(new byte[100_000], 100, 1000)));
        NdArray image = (NdArray) ((Map<?, ?>) codec.unpack(message)).get("image");
        assertEquals(0, image.getLong(0));
        // The caller broke its promise not to touch the message: the array sees it, so no copy was made.
        for (int i = 0; i < message.length; i++) {
            message[i] = (message[i] == 0) ? (byte) 7 : message[i];
        }
        assertEquals(7, image.getLong(0));
    }

    @Test
    void encodedSegmentsReferenceTheArraysBytes() {
        byte[] pixels = new byte[50_000];
        NdArray image = NdArray.wrap(DType.UINT8, Shape.of(50_000), ByteBuffer.wrap(pixels));
        List<ByteBuffer> segments = codec.encode(Map.of("image", image));
        ByteBuffer data = segments.stream().filter(s -> s.remaining() == 50_000).findFirst().orElseThrow();
        pixels[123] = 42; // changed after encoding: the segment shows it, so it was not copied
        assertEquals(42, data.get(data.position() + 123));
    }

    @Test
    void smallArraysAreInlined() {
        List<ByteBuffer> segments = codec.encode(Map.of("state", NdArray.ofFloat64(new double[14])));
        assertEquals(1, segments.size());
    }
}
