package org.webpolicy.check;

import java.util.Locale;
import java.util.Map;

/**
 * An HTTP answer: to the upgrade (101 when it succeeded) or to a plain request.
 *
 * @param status the status code
 * @param statusLine the whole status line
 * @param headers the headers, names in lower case (the last of repeated ones)
 * @param body the body (plain requests and refusals with a {@code Content-Length}), else ""
 */
public record HttpAnswer(int status, String statusLine, Map<String, String> headers, String body) {
    /**
     * A header's value.
     *
     * @param name the header name, in any case
     * @return its value, or null when absent
     */
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }
}
