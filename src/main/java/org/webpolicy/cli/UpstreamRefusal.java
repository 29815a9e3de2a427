package org.webpolicy.cli;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An upstream's answer to an upgrade that is not {@code 101}, read from the bytes the record
 * proxy's upstream client received, so the robot is refused with the same status, headers and
 * body as if it had connected directly.
 *
 * @param refusal the answer to pass on
 * @param complete false while more of its head, or of a body whose length it announced, is to come
 */
record UpstreamRefusal(ToolSockets.Refusal refusal, boolean complete) {

    /** The most of a head read, as the tools' own bound on an upgrade request. */
    static final int MAX_HEAD_BYTES = ToolSockets.MAX_HEAD_BYTES;
    /** The most of a refusal's body passed on; a refusal's text is short. */
    static final int MAX_BODY_BYTES = 64 << 10;
    /** Headers about this one connection's framing, which the proxy's answer sets itself. */
    private static final List<String> HOP_BY_HOP = List.of("content-length", "connection", "transfer-encoding", "keep-alive",
            "upgrade");

    /**
     * Reads the answer at {@code buf}'s position without moving it.
     *
     * @param buf the bytes received so far
     * @return null when the status line is not all here or the status is 101; else the refusal
     */
    static UpstreamRefusal parse(ByteBuffer buf) {
        int start = buf.position();
        int lineEnd = find(buf, start, "\r\n");
        if (lineEnd < 0) {
            return null;
        }
        String statusLine = ascii(buf, start, lineEnd);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/") || parts[1].equals("101")) {
            return null;
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return null; // not HTTP: the library's own error stands
        }
        String phrase = parts.length > 2 ? parts[2] : "";
        int headEnd = find(buf, lineEnd, "\r\n\r\n");
        if (headEnd < 0) {
            boolean tooLong = buf.limit() - start > MAX_HEAD_BYTES;
            return new UpstreamRefusal(new ToolSockets.Refusal(status, phrase, List.of(), new byte[0]), tooLong);
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        long contentLength = -1;
        boolean chunked = false;
        for (String line : ascii(buf, lineEnd + 2, headEnd).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.equals("content-length")) {
                try {
                    contentLength = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    contentLength = -1;
                }
            } else if (lower.equals("transfer-encoding")) {
                chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
            }
            if (!HOP_BY_HOP.contains(lower)) {
                headers.add(Map.entry(name, value));
            }
        }
        int bodyStart = headEnd + 4;
        int here = buf.limit() - bodyStart;
        // A chunked body would need decoding: left out (the status and headers are what matter).
        long wanted = chunked ? 0 : contentLength >= 0 ? Math.min(contentLength, MAX_BODY_BYTES) : Math.min(here, MAX_BODY_BYTES);
        int take = (int) Math.min(wanted, here);
        byte[] body = new byte[take];
        buf.duplicate().position(bodyStart).get(body);
        return new UpstreamRefusal(new ToolSockets.Refusal(status, phrase, List.copyOf(headers), body), take >= wanted);
    }

    /** Where {@code needle} starts at or after {@code from}, or -1. */
    private static int find(ByteBuffer buf, int from, String needle) {
        int end = Math.min(buf.limit(), buf.position() + MAX_HEAD_BYTES + needle.length());
        outer:
        for (int i = from; i + needle.length() <= end; i++) {
            for (int k = 0; k < needle.length(); k++) {
                if (buf.get(i + k) != needle.charAt(k)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String ascii(ByteBuffer buf, int from, int to) {
        byte[] b = new byte[to - from];
        buf.duplicate().position(from).get(b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
