package org.webpolicy.transport.protocol;

import org.webpolicy.codec.BinaryKey;

/**
 * Text that came from a peer, made safe to quote in an error reply or a log line: cut to a few
 * hundred characters and with control characters escaped, so a request cannot make a megabyte log
 * line or forge a new-looking one with a carriage return.
 */
public final class ClientText {

    /** The most characters quoted from a client. */
    public static final int MAX_QUOTED_CHARS = 200;

    private ClientText() {
    }

    /**
     * {@code value}'s text, cut and escaped: bin (a {@code byte[]} or {@link BinaryKey}) as Python
     * shows bytes, {@code b'...'}, not as a Java array's identity; nil as {@code None}.
     *
     * @param value a value from a request, or null
     * @return the text to quote
     */
    public static String quote(Object value) {
        String text = value == null ? "None" : value instanceof byte[] bytes ? BinaryKey.of(bytes).toString() : value.toString();
        return quote(text, MAX_QUOTED_CHARS);
    }

    /**
     * Why {@code failure} happened, in words: its message, or its kind when it has none (never "null").
     *
     * @param failure what a request failed with
     * @return the words for it
     */
    public static String reason(Throwable failure) {
        String message = failure.getMessage();
        return message == null || message.isBlank() ? failure.getClass().getSimpleName() : message;
    }

    /**
     * {@code text} cut to {@code maxChars} (saying how much was cut) with control characters escaped.
     *
     * @param text the text
     * @param maxChars the most characters kept
     * @return the text to quote
     */
    public static String quote(String text, int maxChars) {
        int shown = Math.min(text.length(), maxChars);
        StringBuilder out = new StringBuilder(shown + 32);
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (shown < text.length()) {
            out.append("... (").append(text.length() - shown).append(" more characters)");
        }
        return out.toString();
    }

    /**
     * The first line of a server-made message (an error reply) for a log line, cut and escaped.
     *
     * @param text the message
     * @return its first line, safe to log
     */
    public static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return quote(nl < 0 ? text : text.substring(0, nl), 2 * MAX_QUOTED_CHARS);
    }

    /** The most characters of a server's text quoted in a client's error. */
    public static final int EXCERPT_CHARS = 200;

    /**
     * The start of a text a server sent (an error, a reply shown as text), for a client's error
     * message: at most {@link #EXCERPT_CHARS} characters, control characters escaped.
     *
     * @param text the text
     * @return the excerpt, ending in "..." when cut
     */
    public static String excerpt(String text) {
        StringBuilder out = new StringBuilder();
        int n = Math.min(text.length(), EXCERPT_CHARS);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < ' ' || c == 0x7f) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return text.length() > n ? out.append("...").toString() : out.toString();
    }
}
