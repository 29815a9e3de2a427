package org.webpolicy.record;

import java.util.LinkedHashMap;
import java.util.Map;

/** Reads back the JSON objects {@link Json} writes: nested objects, strings, numbers, null. */
final class JsonReader {

    private final String s;
    private int pos;

    private JsonReader(String s) {
        this.s = s;
    }

    /** The object in {@code text}; strings as String, integers as Long, other numbers as Double, objects as Map. */
    static Map<String, Object> object(String text) {
        JsonReader r = new JsonReader(text);
        Object v = r.value();
        r.space();
        if (!(v instanceof Map) || r.pos != text.length()) {
            throw new IllegalArgumentException("not one JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) v;
        return map;
    }

    private void space() {
        while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
            pos++;
        }
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException(what + " at character " + pos);
    }

    private Object value() {
        space();
        if (pos >= s.length()) {
            throw bad("JSON ends early");
        }
        char c = s.charAt(pos);
        if (c == '{') {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            space();
            if (s.startsWith("}", pos)) {
                pos++;
                return map;
            }
            while (true) {
                space();
                String key = string();
                space();
                expect(':');
                map.put(key, value());
                space();
                if (s.startsWith(",", pos)) {
                    pos++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }
        if (c == '"') {
            return string();
        }
        if (s.startsWith("null", pos)) {
            pos += 4;
            return null;
        }
        if (s.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        int start = pos;
        while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
            pos++;
        }
        if (start == pos) {
            throw bad("unexpected '" + c + "'");
        }
        String number = s.substring(start, pos);
        // Integers stay exact (nanosecond times pass 2^53); the rest are doubles.
        boolean integral = number.indexOf('.') < 0 && number.indexOf('e') < 0 && number.indexOf('E') < 0;
        return integral ? (Object) Long.parseLong(number) : (Object) Double.parseDouble(number);
    }

    private void expect(char c) {
        if (pos >= s.length() || s.charAt(pos) != c) {
            throw bad("expected '" + c + "'");
        }
        pos++;
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (pos < s.length()) {
            char c = s.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= s.length()) {
                break;
            }
            char e = s.charAt(pos++);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (pos + 4 > s.length()) {
                        throw bad("short \\u escape");
                    }
                    out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    pos += 4;
                }
                default -> out.append(e);
            }
        }
        throw bad("unterminated string");
    }
}
