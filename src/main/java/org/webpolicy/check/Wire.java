package org.webpolicy.check;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.MsgpackCodec;

/**
 * What the cases share: the names on the wire (docs/PROTOCOL.md), opening a connection and
 * reading its metadata, one request and its reply, and the failure a case reports.
 */
final class Wire {

    static final String PROTOCOL_HEADER = "X-Webpolicy-Protocol";
    static final String REQUEST_ID_HEADER = "X-Webpolicy-Request-Id";
    static final String CONTINUATION_HEADER = "X-Webpolicy-Continuation";
    static final String IMAGE_CODEC_HEADER = "X-Webpolicy-Image-Codec";
    static final String OP = "__webpolicy_op__";
    static final String REQUEST_ID = "__webpolicy_id__";
    static final String RESET_ACK = "__webpolicy_reset_ack__";
    static final int INTERNAL_ERROR = 1011;

    /** A case did not hold; the message says what came instead. */
    static final class CaseFailure extends Exception {
        private static final long serialVersionUID = 1L;

        CaseFailure(String message) {
            super(message);
        }
    }

    /** A case does not apply to this server. */
    static final class NotApplicable extends Exception {
        private static final long serialVersionUID = 1L;

        NotApplicable(String message) {
            super(message);
        }
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final Target target;

    Wire(Target target) {
        this.target = target;
    }

    Target target() {
        return target;
    }

    byte[] pack(Object value) {
        return codec.pack(value);
    }

    /** An upgraded connection whose metadata frame has been read, or a failure saying why there is none. */
    WireConnection open(Map<String, String> headers) throws IOException, CaseFailure {
        WireConnection c = WireConnection.open(target, headers);
        if (!c.upgraded()) {
            c.close();
            HttpAnswer a = c.handshake();
            throw new CaseFailure(a.status() == 101 ? "the 101 answer's Sec-WebSocket-Accept is wrong or missing"
                    : "the upgrade was answered " + a.statusLine() + (a.body().isBlank() ? "" : ": " + firstLine(a.body())));
        }
        try {
            metadata(c);
        } catch (IOException | CaseFailure e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The first frame of a connection, which must be a packed map. */
    Map<?, ?> metadata(WireConnection c) throws IOException, CaseFailure {
        return map(c.next(), "the metadata frame");
    }

    /** Sends {@code request} packed in one binary frame and reads the reply, which must be a map. */
    Map<?, ?> exchange(WireConnection c, Object request) throws IOException, CaseFailure {
        c.send(WireConnection.BINARY, pack(request));
        return map(c.next(), "the reply");
    }

    /** The map a frame holds; an error text, a close or anything else is a failure saying which. */
    Map<?, ?> map(WireConnection.Frame frame, String what) throws CaseFailure {
        if (frame.opcode() == WireConnection.TEXT) {
            throw new CaseFailure(what + " is an error text: " + firstLine(new String(frame.payload(), StandardCharsets.UTF_8)));
        }
        if (frame.opcode() == WireConnection.CLOSE) {
            throw new CaseFailure("the server closed the connection (" + frame.closeCode() + " " + frame.closeReason()
                    + ") instead of sending " + what);
        }
        if (frame.opcode() != WireConnection.BINARY) {
            throw new CaseFailure(what + " came as a frame of opcode " + frame.opcode() + ", not binary");
        }
        Object value;
        try {
            value = codec.unpack(frame.payload());
        } catch (DecodeException e) {
            throw new CaseFailure(what + " is not one msgpack value (" + e.problem() + "): " + e.getMessage());
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new CaseFailure(what + " must be a msgpack map, got " + (value == null ? "nil" : value.getClass().getSimpleName()));
        }
        return map;
    }

    /** The step request of a form. */
    static Map<String, Object> step(Form form, Map<String, Object> observation, Map<String, Object> extra) {
        if (form == Form.RAW) {
            return observation;
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put(OP, "step");
        request.put("obs", observation);
        request.putAll(extra);
        return request;
    }

    /** The action of a step reply in a form; a failure when the reply is not one. */
    static Map<?, ?> action(Form form, Map<?, ?> reply) throws CaseFailure {
        if (form == Form.RAW) {
            return reply;
        }
        if (!(reply.get("action") instanceof Map<?, ?> action)) {
            throw new CaseFailure("an envelope reply must hold an 'action' map, got keys " + keys(reply));
        }
        return action;
    }

    static String keys(Map<?, ?> map) {
        return map.isEmpty() ? "(none)" : String.join(", ", map.keySet().stream().map(String::valueOf).toList());
    }

    /** The headers of an upgrade request that offers nothing. */
    static Map<String, String> none() {
        return new HashMap<>();
    }

    /** The line of a text that says most: a Python traceback's last one (the exception), otherwise the first. */
    static String firstLine(String text) {
        String stripped = text.strip();
        String line = stripped.startsWith("Traceback") ? stripped.substring(stripped.lastIndexOf('\n') + 1)
                : stripped.lines().findFirst().orElse("");
        return line.length() > 160 ? line.substring(0, 160) + "..." : line;
    }
}
