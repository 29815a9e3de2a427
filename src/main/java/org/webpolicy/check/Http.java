package org.webpolicy.check;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The HTTP a check speaks: reading an answer's head and body, and a plain {@code GET}. */
final class Http {

    private Http() {
    }

    /**
     * A plain HTTP {@code GET} (no upgrade), as a load balancer's probe sends it.
     *
     * @param target the server
     * @param path for example {@code /healthz}
     * @return the answer with its body
     * @throws IOException when the server cannot be reached or its answer is not HTTP
     */
    static HttpAnswer get(Target target, String path) throws IOException {
        try (Socket socket = target.open()) {
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + target.hostHeader() + "\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            HttpAnswer head = readAnswer(in);
            HttpAnswer answer = new HttpAnswer(head.status(), head.statusLine(), head.headers(), readBody(in, head));
            // The server was asked to close: let it, rather than close under it while it finishes
            // (a TLS close_notify arriving mid-write is a case some servers handle badly).
            socket.setSoTimeout(2000);
            try {
                while (in.read() >= 0) {
                    // nothing more is expected; whatever comes is dropped
                }
            } catch (IOException e) {
                // it kept the connection open past the wait, or reset it: the answer is what counts
            }
            return answer;
        }
    }

    /** The status line and headers of an answer, read up to its blank line; the body is left unread. */
    static HttpAnswer readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException(head.size() == 0 ? "the server closed the connection without an HTTP answer"
                        : "the server closed the connection inside its HTTP answer");
            }
            if (head.size() >= 64 * 1024) {
                throw new IOException("the server's HTTP answer head is over 64 KiB");
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] status = lines[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + lines[0]);
        }
        int code;
        try {
            code = Integer.parseInt(status[1]);
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP status: " + lines[0]);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        return new HttpAnswer(code, lines[0], headers, "");
    }

    /** The body by its {@code Content-Length}, or up to 64 KiB until the server closes. */
    static String readBody(InputStream in, HttpAnswer head) throws IOException {
        String length = head.header("Content-Length");
        byte[] body;
        if (length != null) {
            int n;
            try {
                n = Integer.parseInt(length.trim());
            } catch (NumberFormatException e) {
                throw new IOException("not a Content-Length: " + length);
            }
            body = in.readNBytes(Math.min(n, 64 * 1024));
        } else {
            body = in.readNBytes(64 * 1024);
        }
        return new String(body, StandardCharsets.UTF_8);
    }
}
