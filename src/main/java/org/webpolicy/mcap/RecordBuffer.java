package org.webpolicy.mcap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** A growable little-endian byte buffer in which the writer lays out records (MCAP is little-endian throughout). */
final class RecordBuffer {

    private byte[] bytes;
    private int size;

    RecordBuffer(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    int size() {
        return size;
    }

    byte[] array() {
        return bytes;
    }

    void clear() {
        size = 0;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            long want = Math.max((long) bytes.length * 2, (long) size + more);
            if (want > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("a record buffer cannot grow past 2 GiB");
            }
            bytes = Arrays.copyOf(bytes, (int) want);
        }
    }

    void u8(int v) {
        ensure(1);
        bytes[size++] = (byte) v;
    }

    void u16(int v) {
        ensure(2);
        bytes[size++] = (byte) v;
        bytes[size++] = (byte) (v >>> 8);
    }

    void u32(long v) {
        ensure(4);
        for (int i = 0; i < 4; i++) {
            bytes[size++] = (byte) (v >>> (8 * i));
        }
    }

    void u64(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) {
            bytes[size++] = (byte) (v >>> (8 * i));
        }
    }

    /** Overwrites 8 bytes at {@code at} (a record length known only after its content). */
    void u64At(int at, long v) {
        for (int i = 0; i < 8; i++) {
            bytes[at + i] = (byte) (v >>> (8 * i));
        }
    }

    void u32At(int at, long v) {
        for (int i = 0; i < 4; i++) {
            bytes[at + i] = (byte) (v >>> (8 * i));
        }
    }

    void raw(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, bytes, size, len);
        size += len;
    }

    void raw(ByteBuffer b) {
        int len = b.remaining();
        ensure(len);
        b.duplicate().get(bytes, size, len);
        size += len;
    }

    void raw(List<ByteBuffer> segments) {
        for (ByteBuffer segment : segments) {
            raw(segment);
        }
    }

    /** A string: uint32 byte length, then UTF-8. */
    void string(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        u32(utf8.length);
        raw(utf8, 0, utf8.length);
    }

    /** A Map&lt;string, string&gt;: uint32 byte length of the entries, then key, value pairs. */
    void stringMap(Map<String, String> map) {
        int lengthAt = size;
        u32(0);
        for (Map.Entry<String, String> e : map.entrySet()) {
            string(e.getKey());
            string(e.getValue());
        }
        u32At(lengthAt, size - lengthAt - 4);
    }

    /** Starts a record: opcode and a length to be filled by {@link #endRecord}; returns where it starts. */
    int beginRecord(int opcode) {
        int start = size;
        u8(opcode);
        u64(0);
        return start;
    }

    void endRecord(int start) {
        u64At(start + 1, size - start - 9);
    }
}
