package org.webpolicy.check;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.webpolicy.check.CaseResult.Verdict;
import org.webpolicy.check.Wire.CaseFailure;
import org.webpolicy.check.Wire.NotApplicable;

/**
 * Runs the cases of docs/PROTOCOL.md against any server, speaking the bytes itself: the health
 * probe, the handshake, the metadata frame, steps in the chosen form, reset (envelope form), the
 * extensions the server offers (request ids, image codec, real-time chunking), ping, close, the
 * API key, and a malformed request (an error text, close 1011, and the server still serving).
 * Each case gives one {@link CaseResult}; a case that cannot hold because an earlier one failed
 * is skipped with that reason.
 *
 * <p>One run at a time per instance; the cases run in order on the calling thread.
 */
public final class ConformanceCheck {

    /** What a case does; returns the detail of a pass. */
    @FunctionalInterface
    interface Body {
        String run() throws IOException, CaseFailure, NotApplicable;
    }

    private final Wire wire;
    private final Form requested;
    private final Map<String, Object> givenObservation;
    private final List<CaseResult> results = new ArrayList<>();
    private Consumer<CaseResult> listener = r -> { };

    /** The connection the conversation cases share, or null when it broke. */
    private WireConnection main;
    private HttpAnswer handshake;
    private Map<?, ?> metadata;
    Form form;
    Map<String, Object> observation;
    Map<?, ?> lastAction;

    /**
     * A check of one server.
     *
     * @param target the server
     * @param form the form to speak, or {@link Form#AUTO} to choose from the handshake
     * @param observation the observation to send, or null to take it from the server's metadata
     *     ({@code observation_spec}) or, without one, a small default
     */
    public ConformanceCheck(Target target, Form form, Map<String, Object> observation) {
        this.wire = new Wire(target);
        this.requested = form;
        this.givenObservation = observation;
    }

    /**
     * Has every result passed to {@code listener} as soon as its case ends (to print progress).
     *
     * @param listener called on the checking thread
     * @return this check
     */
    public ConformanceCheck onResult(Consumer<CaseResult> listener) {
        this.listener = listener;
        return this;
    }

    /**
     * Runs every case.
     *
     * @return one result per case, in the order run
     */
    public List<CaseResult> run() {
        results.clear();
        try {
            run("healthz", this::health);
            run("handshake", this::handshake);
            run("metadata", this::metadata);
            if (main == null) {
                skipRest("no WebSocket conversation: " + (handshake == null ? "the handshake failed" : "see above"));
                return List.copyOf(results);
            }
            run("step", () -> step("step"));
            run("step-again", () -> step("step-again"));
            run("reset", this::reset);
            Extensions extensions = new Extensions(this, wire);
            run("request-id", () -> extensions.requestId(conversation(), handshake));
            run("rtc", () -> extensions.continuation(conversation(), handshake));
            run("image-codec", extensions::imageCodec);
            run("ping", this::ping);
            run("close", this::close);
            run("api-key", this::apiKey);
            run("malformed-request", this::malformed);
            run("serves-again", this::servesAgain);
        } finally {
            closeQuietly(main);
        }
        return List.copyOf(results);
    }

    /**
     * The observation packed in a file, as {@code msgpack_numpy.packb} writes it, for {@code --observation}.
     *
     * @param file the file
     * @return the observation
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when it does not hold one map with str keys, naming the problem
     */
    public static Map<String, Object> observationFromFile(Path file) throws IOException {
        return SampleObservation.fromFile(file);
    }

    /**
     * True when no case failed.
     *
     * @param results what {@link #run()} returned
     * @return whether every case passed or was skipped
     */
    public static boolean passed(List<CaseResult> results) {
        return results.stream().noneMatch(r -> r.verdict() == Verdict.FAIL);
    }

    private void run(String name, Body body) {
        CaseResult result;
        try {
            result = new CaseResult(name, Verdict.PASS, body.run());
        } catch (NotApplicable e) {
            result = new CaseResult(name, Verdict.SKIP, e.getMessage());
        } catch (CaseFailure e) {
            result = new CaseResult(name, Verdict.FAIL, e.getMessage());
        } catch (IOException e) {
            result = new CaseResult(name, Verdict.FAIL, describe(e));
        } catch (RuntimeException e) {
            result = new CaseResult(name, Verdict.FAIL, "the check itself failed: " + e);
        }
        if (result.verdict() == Verdict.FAIL) {
            // A server that failed a case may have closed the shared connection or left a frame on
            // it: the next case starts on a fresh one rather than fail for this one's reason.
            closeQuietly(main);
            main = null;
        }
        results.add(result);
        listener.accept(result);
    }

    private void skipRest(String why) {
        for (String name : List.of("step", "step-again", "reset", "request-id", "rtc", "image-codec", "ping", "close",
                "api-key", "malformed-request", "serves-again")) {
            CaseResult r = new CaseResult(name, Verdict.SKIP, why);
            results.add(r);
            listener.accept(r);
        }
    }

    private String health() throws IOException, CaseFailure {
        HttpAnswer answer = Http.get(wire.target(), "/healthz");
        if (answer.status() != 200) {
            throw new CaseFailure("GET /healthz answered " + answer.statusLine() + ", expected 200");
        }
        return "200, body " + quote(answer.body());
    }

    private String handshake() throws IOException, CaseFailure {
        WireConnection c = WireConnection.open(wire.target(), Wire.none());
        handshake = c.handshake();
        if (!c.upgraded()) {
            c.close();
            throw new CaseFailure(handshake.status() == 101 ? "101 with a wrong or missing Sec-WebSocket-Accept"
                    : "the upgrade was answered " + handshake.statusLine()
                            + (handshake.body().isBlank() ? "" : ": " + Wire.firstLine(handshake.body())));
        }
        main = c;
        String announced = handshake.header(Wire.PROTOCOL_HEADER);
        form = requested != Form.AUTO ? requested : "envelope".equalsIgnoreCase(announced == null ? "" : announced.trim())
                ? Form.ENVELOPE : Form.RAW;
        return "101, form " + form.name().toLowerCase() + (requested != Form.AUTO ? " (as asked)"
                : announced != null ? " (" + Wire.PROTOCOL_HEADER + ": " + announced + ")" : " (no " + Wire.PROTOCOL_HEADER + " header)");
    }

    private String metadata() throws IOException, CaseFailure, NotApplicable {
        if (main == null) {
            throw new NotApplicable("the handshake failed");
        }
        metadata = wire.metadata(main);
        String from;
        if (givenObservation != null) {
            observation = givenObservation;
            from = "the given file";
        } else {
            try {
                observation = SampleObservation.fromMetadata(metadata);
            } catch (IllegalArgumentException e) {
                observation = SampleObservation.standard();
                throw new CaseFailure("observation_spec is not a spec: " + e.getMessage());
            }
            from = observation != null ? "the server's observation_spec" : "the default (no observation_spec)";
            observation = observation != null ? observation : SampleObservation.standard();
        }
        return "a map of " + metadata.size() + " key(s)" + (metadata.isEmpty() ? "" : ": " + Wire.keys(metadata))
                + "; observation from " + from;
    }

    /** The shared connection, opened again (handshake and metadata) when a failure broke it. */
    WireConnection conversation() throws IOException, CaseFailure {
        if (main == null) {
            main = wire.open(Wire.none());
        }
        return main;
    }

    private String step(String name) throws IOException, CaseFailure {
        Map<?, ?> reply = wire.exchange(conversation(), Wire.step(form, observation, Map.of()));
        Map<?, ?> action = Wire.action(form, reply);
        lastAction = action;
        String timing = form == Form.RAW && action.get("server_timing") instanceof Map<?, ?> t ? " (server_timing: " + Wire.keys(t) + ")" : "";
        return (form == Form.RAW ? "an action map: " : "{\"action\": map}: ") + Wire.keys(action) + timing;
    }

    private String reset() throws IOException, CaseFailure, NotApplicable {
        if (form == Form.RAW) {
            throw new NotApplicable("the raw form has no reset");
        }
        Map<?, ?> reply = wire.exchange(conversation(), Map.of(Wire.OP, "reset"));
        if (!Boolean.TRUE.equals(reply.get(Wire.RESET_ACK))) {
            throw new CaseFailure("a reset must be answered {\"" + Wire.RESET_ACK + "\": true}, got keys " + Wire.keys(reply));
        }
        return "acknowledged";
    }

    private String ping() throws IOException, CaseFailure {
        byte[] payload = "webpolicy-check".getBytes(StandardCharsets.US_ASCII);
        WireConnection c = conversation();
        c.send(WireConnection.PING, payload);
        WireConnection.Frame frame = c.next();
        if (frame.opcode() != WireConnection.PONG) {
            throw new CaseFailure("a ping was answered with a frame of opcode " + frame.opcode() + ", not a pong");
        }
        if (!Arrays.equals(payload, frame.payload())) {
            throw new CaseFailure("the pong carries " + quote(new String(frame.payload(), StandardCharsets.UTF_8))
                    + ", not the ping's payload (RFC 6455 5.5.3)");
        }
        return "pong with the ping's payload";
    }

    private String close() throws IOException, CaseFailure {
        WireConnection c = conversation();
        main = null;
        try (c) {
            c.sendClose(1000, "check done");
            WireConnection.Frame frame = c.next();
            if (frame.opcode() != WireConnection.CLOSE) {
                throw new CaseFailure("a close was answered with a frame of opcode " + frame.opcode() + ", not a close");
            }
            return "answered with close " + frame.closeCode() + (c.endsWithin() ? ", then the TCP connection ended" : "");
        }
    }

    private String apiKey() throws IOException, CaseFailure, NotApplicable {
        if (wire.target().apiKey() == null) {
            throw new NotApplicable("no --api-key given");
        }
        try (WireConnection c = WireConnection.open(wire.target().withApiKey(null), Wire.none())) {
            if (c.handshake().status() != 401) {
                throw new CaseFailure("an upgrade without the key was answered " + c.handshake().statusLine() + ", expected 401");
            }
        }
        try (WireConnection c = WireConnection.open(wire.target().withApiKey(wire.target().apiKey() + "-wrong"), Wire.none())) {
            if (c.handshake().status() != 401) {
                throw new CaseFailure("an upgrade with a wrong key was answered " + c.handshake().statusLine() + ", expected 401");
            }
        }
        return "401 without the key and with a wrong one";
    }

    private String malformed() throws IOException, CaseFailure {
        try (WireConnection c = wire.open(Wire.none())) {
            // 0xc1 is the one byte msgpack never uses: no decoder can take it for a value.
            c.send(WireConnection.BINARY, new byte[] {(byte) 0xc1});
            WireConnection.Frame text = c.next();
            if (text.opcode() != WireConnection.TEXT) {
                throw new CaseFailure("a malformed request must get an error text frame first, got "
                        + (text.opcode() == WireConnection.CLOSE ? "close " + text.closeCode() : "opcode " + text.opcode()));
            }
            WireConnection.Frame close = c.next();
            if (close.opcode() != WireConnection.CLOSE || close.closeCode() != Wire.INTERNAL_ERROR) {
                throw new CaseFailure("the error text must be followed by close 1011, got "
                        + (close.opcode() == WireConnection.CLOSE ? "close " + close.closeCode() : "opcode " + close.opcode()));
            }
            return "error text " + quote(Wire.firstLine(new String(text.payload(), StandardCharsets.UTF_8)))
                    + ", then close 1011 " + quote(close.closeReason());
        }
    }

    private String servesAgain() throws IOException, CaseFailure {
        try (WireConnection c = wire.open(Wire.none())) {
            Wire.action(form, wire.exchange(c, Wire.step(form, observation, Map.of())));
            return "a new connection got its metadata and a step answered";
        }
    }

    private static String describe(IOException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return e instanceof java.net.SocketTimeoutException ? "no answer within the timeout (" + message + ")"
                : e instanceof java.net.ConnectException ? "cannot connect: " + message : message;
    }

    static String quote(String text) {
        String shown = text.strip();
        return "\"" + (shown.length() > 80 ? shown.substring(0, 80) + "..." : shown) + "\"";
    }

    private static void closeQuietly(WireConnection c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing is all that is left to do with it
            }
        }
    }
}
