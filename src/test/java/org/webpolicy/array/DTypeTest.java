package org.webpolicy.array;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DTypeTest {

    @ParameterizedTest
    @CsvSource({
        "<f4, <f4, 4", "|u1, |u1, 1", "<u1, |u1, 1", "|b1, |b1, 1", "?, |b1, 1", ">i4, >i4, 4", "=f8, <f8, 8",
        "f8, <f8, 8", "float32, <f4, 4", "uint8, |u1, 1", "bool, |b1, 1", "<U4, <U4, 16", "|U2, <U2, 8",
        ">U1, >U1, 4", "|S3, |S3, 3", "<S3, |S3, 3", "<M8[ns], <M8[ns], 8", "<m8[ms], <m8[ms], 8",
        "<M8[D], <M8[D], 8", "<f2, <f2, 2", ">u8, >u8, 8", "i1, |i1, 1", "int64, <i8, 8", "S, |S0, 0"
    })
    void parsesAndPrintsAsNumpy(String text, String str, int itemSize) {
        DType d = DType.parse(text);
        assertEquals(str, d.str());
        assertEquals(itemSize, d.itemSize());
        assertEquals(d, DType.parse(d.str()), "str() parses back to the same dtype");
    }

    @ParameterizedTest
    @ValueSource(strings = {"<c16", "<c8", "|O", "|V4", "V8"})
    void refusesKindsTheWireCannotCarryNamingTheDtype(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parse(text));
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertTrue(e.getMessage().startsWith("Unsupported dtype"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "<", "<x4", "<f3", "<i16", "<f16", "<b2", "<M8[xs]", "<f4x", "<i-4", "<U99999999999"})
    void refusesMalformedStrings(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parse(text));
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void byteOrderFollowsTheStringAndSingleBytesHaveNone() {
        assertEquals(ByteOrder.BIG_ENDIAN, DType.parse(">f4").byteOrder());
        assertEquals(ByteOrder.LITTLE_ENDIAN, DType.parse("<f4").byteOrder());
        assertEquals("|u1", DType.UINT8.withByteOrder(ByteOrder.BIG_ENDIAN).str());
        assertEquals(">f8", DType.FLOAT64.withByteOrder(ByteOrder.BIG_ENDIAN).str());
    }
}
