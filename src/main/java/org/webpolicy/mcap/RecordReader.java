package org.webpolicy.mcap;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the fields of one record's content, little-endian, and fails with the record's offset and
 * name when a field runs past the content or a string is not UTF-8.
 */
final class RecordReader {

    private final byte[] b;
    private int pos;
    private final int end;
    private final long offset;
    private final String record;

    RecordReader(byte[] b, int from, int end, long offset, int opcode) {
        this.b = b;
        this.pos = from;
        this.end = end;
        this.offset = offset;
        this.record = Opcode.describe(opcode);
    }

    McapFormatException bad(String problem) {
        return new McapFormatException(offset, record, problem);
    }

    int position() {
        return pos;
    }

    int remaining() {
        return end - pos;
    }

    private void need(long n, String field) {
        if (n < 0 || n > end - pos) {
            throw bad(field + " needs " + n + " bytes, " + (end - pos) + " left in the record");
        }
    }

    int u8(String field) {
        need(1, field);
        return b[pos++] & 0xFF;
    }

    int u16(String field) {
        need(2, field);
        int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    long u32(String field) {
        need(4, field);
        long v = 0;
        for (int i = 0; i < 4; i++) {
            v |= (long) (b[pos + i] & 0xFF) << (8 * i);
        }
        pos += 4;
        return v;
    }

    long u64(String field) {
        need(8, field);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (long) (b[pos + i] & 0xFF) << (8 * i);
        }
        pos += 8;
        return v;
    }

    byte[] bytes(long n, String field) {
        need(n, field);
        byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    String string(String field) {
        long n = u32(field + " length");
        need(n, field);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw bad(field + " is not UTF-8");
        }
    }

    Map<String, String> stringMap(String field) {
        long n = u32(field + " length");
        need(n, field);
        int stop = pos + (int) n;
        Map<String, String> map = new LinkedHashMap<>();
        while (pos < stop) {
            String k = string(field + " key");
            String v = string(field + " value");
            if (pos > stop) {
                throw bad(field + " entries run past the map's length");
            }
            map.put(k, v);
        }
        return map;
    }

    /** Skips a length-prefixed (uint32) array of fixed-size entries, checking it fits. */
    void skipArray(String field) {
        long n = u32(field + " length");
        need(n, field);
        pos += (int) n;
    }
}
