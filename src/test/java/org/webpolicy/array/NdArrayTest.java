package org.webpolicy.array;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class NdArrayTest {

    @Test
    void factoriesKeepValuesShapeAndLittleEndianBytes() {
        NdArray a = NdArray.ofFloat32(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, 2, 3);
        assertEquals("<f4", a.dtype().str());
        assertEquals(Shape.of(2, 3), a.shape());
        assertEquals(24, a.nbytes());
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, a.toFloatArray());
        assertEquals(0x3f800000, Integer.reverseBytes(ByteBuffer.wrap(a.toByteArray()).getInt(0)));
        assertEquals(6f, a.getFloat(a.flatIndex(1, 2)));
        assertArrayEquals(new long[] {-1, Long.MAX_VALUE}, NdArray.ofInt64(new long[] {-1, Long.MAX_VALUE}).toLongArray());
        assertArrayEquals(new boolean[] {true, false}, NdArray.ofBool(new boolean[] {true, false}).toBooleanArray());
        assertArrayEquals(new int[] {7, -7}, NdArray.ofInt32(new int[] {7, -7}).toIntArray());
        assertEquals(255.0, NdArray.ofUint8(new byte[] {(byte) 255}).getDouble(0));
        assertEquals(-1.0, NdArray.ofInt8(new byte[] {(byte) 255}).getDouble(0));
    }

    @Test
    void shapeMustMatchTheValueCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NdArray.ofFloat32(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("(2, 3)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        assertThrows(IllegalArgumentException.class, () -> NdArray.wrap(DType.FLOAT32, Shape.of(3), ByteBuffer.allocate(11)));
    }

    @Test
    void bigEndianDataReadsCorrectly() {
        ByteBuffer b = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-2f).flip();
        NdArray a = NdArray.wrap(DType.parse(">f4"), Shape.of(2), b);
        assertArrayEquals(new float[] {1.5f, -2f}, a.toFloatArray());
        assertEquals(-2f, a.asFloatBuffer().get(1));
        ByteBuffer i = ByteBuffer.allocate(4).putInt(-5).flip();
        assertEquals(-5, NdArray.wrap(DType.parse(">i4"), Shape.of(1), i).getLong(0));
    }

    @Test
    void unsignedAndHalfConvert() {
        ByteBuffer b = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(-1L).flip();
        NdArray u = NdArray.wrap(DType.UINT64, Shape.of(), b);
        assertEquals(1.8446744073709552e19, u.getDouble(0));
        assertEquals("18446744073709551615", Long.toUnsignedString(u.getLong(0)));
        ByteBuffer h = ByteBuffer.allocate(2).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3e00).flip();
        assertEquals(1.5, NdArray.wrap(DType.FLOAT16, Shape.of(), h).getDouble(0));
    }

    @Test
    void viewsAreReadOnlyAndSliceSharesBytes() {
        NdArray a = NdArray.ofFloat32(new float[] {0, 1, 2, 3, 4, 5}, 3, 2);
        assertThrows(ReadOnlyBufferException.class, () -> a.data().put(0, (byte) 1));
        assertThrows(ReadOnlyBufferException.class, () -> a.asFloatBuffer().put(0, 1f));
        NdArray row = a.slice(2);
        assertEquals(Shape.of(2), row.shape());
        assertArrayEquals(new float[] {4, 5}, row.toFloatArray());
        assertEquals(0f, a.slice(1).reshape(1, 2).slice(0).getFloat(0) - 2f);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> a.slice(3));
        assertTrue(e.getMessage().contains("(3, 2)"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> NdArray.zeros(DType.FLOAT32).slice(0));
    }

    @Test
    void zeroDAndEmptyArrays() {
        NdArray scalar = NdArray.ofFloat64(new double[] {2.5}).reshape();
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.size());
        assertEquals(2.5, scalar.getDouble(0));
        NdArray empty = NdArray.zeros(DType.UINT8, 0, 0);
        assertEquals(0, empty.size());
        assertEquals(0, empty.nbytes());
        assertEquals(NdArray.zeros(DType.UINT8, 0, 0), empty);
        assertNotEquals(NdArray.zeros(DType.UINT8, 0), empty);
    }

    @Test
    void equalityIsDtypeShapeAndBytes() {
        NdArray a = NdArray.ofInt32(new int[] {1, 2, 3, 4}, 2, 2);
        assertEquals(a, NdArray.ofInt32(new int[] {1, 2, 3, 4}, 2, 2));
        assertEquals(a.hashCode(), NdArray.ofInt32(new int[] {1, 2, 3, 4}, 2, 2).hashCode());
        assertNotEquals(a, NdArray.ofInt32(new int[] {1, 2, 3, 4}, 4));
        assertNotEquals(a, NdArray.ofInt32(new int[] {1, 2, 3, 5}, 2, 2));
        assertNotEquals(a, NdArray.ofFloat32(new float[] {1, 2, 3, 4}, 2, 2));
        assertEquals(a, a.copy());
    }

    @Test
    void stringsRoundTripAsNumpyUnicode() {
        NdArray s = NdArray.ofStrings(new String[] {"ab", "", "\u00e9\u2713", "\ud83d\ude00"});
        assertEquals("<U2", s.dtype().str());
        assertArrayEquals(new String[] {"ab", "", "\u00e9\u2713", "\ud83d\ude00"}, s.toStringArray());
    }

    @Test
    void toStringIsShort() {
        NdArray a = NdArray.ofFloat32(new float[100], 50, 2);
        String text = a.toString();
        assertTrue(text.startsWith("NdArray(<f4, (50, 2), [0.0, 0.0, 0.0, 0.0, ...])"), text);
    }

    @Test
    void wrongTypedViewSaysWhatItNeeds() {
        NdArray a = NdArray.ofUint8(new byte[4]);
        IllegalStateException e = assertThrows(IllegalStateException.class, a::asFloatBuffer);
        assertTrue(e.getMessage().contains("|u1"), e.getMessage());
    }
}
