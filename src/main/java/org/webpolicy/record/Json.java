package org.webpolicy.record;

import java.util.Base64;

/** The little JSON the recorder writes (objects of numbers, booleans and strings), without a JSON library. */
final class Json {

    private final StringBuilder out = new StringBuilder(256);
    private boolean first = true;

    Json() {
        out.append('{');
    }

    private StringBuilder key(String key) {
        if (!first) {
            out.append(',');
        }
        first = false;
        string(out, key);
        return out.append(':');
    }

    Json put(String key, long value) {
        key(key).append(value);
        return this;
    }

    Json put(String key, double value) {
        if (Double.isFinite(value)) {
            key(key).append(value);
        } else {
            key(key).append("null");
        }
        return this;
    }

    Json put(String key, String value) {
        if (value == null) {
            key(key).append("null");
        } else {
            string(key(key), value);
        }
        return this;
    }

    Json put(String key, boolean value) {
        key(key).append(value);
        return this;
    }

    Json putBase64(String key, byte[] data) {
        key(key).append('"').append(Base64.getEncoder().encodeToString(data)).append('"');
        return this;
    }

    /** A nested object written by {@code nested}. */
    Json put(String key, Json nested) {
        key(key).append(nested.toString());
        return this;
    }

    @Override
    public String toString() {
        return out + "}";
    }

    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
