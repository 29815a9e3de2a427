package org.webpolicy.array;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class NpScalarAndHalfTest {

    @Test
    void scalarsKeepTheirDtypePrecision() {
        NpScalar f = NpScalar.of(DType.FLOAT32, 0.1);
        assertEquals((double) 0.1f, f.item());
        assertEquals("<f4", f.dtype().str());
        assertEquals(NpScalar.ofFloat32(0.1f), f);
        assertEquals(true, NpScalar.ofBool(true).item());
        assertEquals(new BigInteger("18446744073709551615"), NpScalar.of(DType.UINT64, new BigInteger("18446744073709551615")).item());
        assertEquals(3L, NpScalar.of(DType.INT16, 3L).item());
    }

    @Test
    void outOfRangeIntegersAreRefusedNotWrapped() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NpScalar.of(DType.UINT8, 256L));
        assertTrue(e.getMessage().contains("uint8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NpScalar.of(DType.INT8, -129L));
        assertThrows(IllegalArgumentException.class, () -> NpScalar.of(DType.UINT64, -1L));
        // this text reaches Python peers too (a decoded __npgeneric__): msgpack names, not Java classes
        assertEquals("Cannot make an integer <i4 scalar from a float 1.5",
                assertThrows(IllegalArgumentException.class, () -> NpScalar.of(DType.INT32, 1.5)).getMessage());
        assertEquals("Cannot make a <f4 scalar from a str",
                assertThrows(IllegalArgumentException.class, () -> NpScalar.of(DType.FLOAT32, "1.5")).getMessage());
    }

    @Test
    void halfRoundTripsEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.toFloat((short) bits);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(f))));
                continue;
            }
            assertEquals((short) bits, Half.fromFloat(f), "bits " + Integer.toHexString(bits));
        }
    }

    @Test
    void halfRoundsToNearestEven() {
        assertEquals((short) 0x3c00, Half.fromFloat(1.0f + 0x1p-11f)); // tie: even (1.0)
        assertEquals((short) 0x3c02, Half.fromFloat(1.0f + 3 * 0x1p-11f)); // tie: even (1+2^-9)
        assertEquals((short) 0x7c00, Half.fromFloat(65520f)); // rounds up to infinity
        assertEquals((short) 0x7bff, Half.fromFloat(65519f));
        assertEquals((short) 0x0001, Half.fromFloat(0x1p-24f));
        assertEquals((short) 0x0000, Half.fromFloat(0x1p-25f)); // tie to even zero
    }
}
