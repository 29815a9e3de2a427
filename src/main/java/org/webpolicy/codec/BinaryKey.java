package org.webpolicy.codec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A map key sent as msgpack bin (Python {@code bytes}) rather than str. Python keeps
 * {@code b"key"} and {@code "key"} apart, so decoded maps keep them apart too: a bin key decodes
 * to a {@code BinaryKey}, a str key to a {@code String}. Immutable, with value equality.
 */
public final class BinaryKey {

    private final byte[] bytes;

    private BinaryKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * A bin key of these bytes.
     *
     * @param bytes the key's bytes (copied)
     * @return the key
     */
    public static BinaryKey of(byte[] bytes) {
        return new BinaryKey(bytes.clone());
    }

    /**
     * The UTF-8 bytes of {@code text} as a bin key.
     *
     * @param text the key as text
     * @return the key
     */
    public static BinaryKey of(String text) {
        return new BinaryKey(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The key's bytes.
     *
     * @return a copy of them
     */
    public byte[] bytes() {
        return bytes.clone();
    }

    int length() {
        return bytes.length;
    }

    byte[] raw() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BinaryKey k && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** Printed as Python prints bytes when they are text, {@code b'key'}; hex otherwise. */
    @Override
    public String toString() {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            return "b'" + text + "'";
        }
        return "b'" + HexFormat.of().formatHex(bytes) + "'";
    }
}
