package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.codec.MessageMutator;
import org.webpolicy.codec.MsgpackCodec;

/**
 * A time-boxed fuzzing campaign on a live server's message path over real sockets. Mutated
 * messages in well-formed frames must each get, within a bound, a reply or an error text frame
 * followed by close 1011. Mutated frames (headers, opcodes, masks, lengths, cuts) must end, once
 * the fuzzing client stops sending, with the connection closed by the server, never a hang.
 * Between inputs a good client keeps getting its own observation back.
 *
 * <p>{@code -Dfuzz.server.seconds} bounds it (default 8) over each of {@code ws://} and
 * {@code wss://}; {@code -Dfuzz.seed} picks the inputs.
 */
@Tag("fuzz")
@Tag("campaign") // runs with -Pcampaigns (CI and the scripts), not in the default build
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class ServerFuzzTest {

    private final Wire wire;

    ServerFuzzTest(Wire wire) {
        this.wire = wire;
    }

    private static final long SECONDS = Long.getLong("fuzz.server.seconds", 8);
    private static final long SEED = Long.getLong("fuzz.seed", 20261125L);
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
    /** Inputs run whatever the time: enough that some of the seed's messages pass and some fail. */
    private static final int MIN_INPUTS = 600;

    @Test
    void fuzzedMessagesAndFramesNeverHangOrHurtOtherClients() {
        assertTimeoutPreemptively(Duration.ofSeconds(SECONDS + 180), this::campaign,
                "the server path campaign did not end within its time box");
    }

    private void campaign() throws Exception {
        List<byte[]> corpus = new ArrayList<>(MessageMutator.goldenMessages());
        MsgpackCodec codec = new MsgpackCodec();
        corpus.add(codec.pack(TestPolicies.observation(1)));
        corpus.add(codec.pack(Map.of("__webpolicy_op__", "step", "obs", TestPolicies.observation(2))));
        corpus.add(codec.pack(Map.of("__webpolicy_op__", "reset", "payload", Map.of("task", "fold"))));
        MessageMutator mutator = new MessageMutator(SEED, corpus);

        Map<String, Long> outcomes = new TreeMap<>();
        List<String> findings = new ArrayList<>();
        long messageExecs = 0;
        long frameExecs = 0;
        long goodSteps = 0;
        long slowestMs = 0;
        try (PolicyServer server = wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(0)
                .maxMessageBytes(1 << 20).handshakeTimeout(Duration.ofSeconds(2)).build().start()) {
            WireSocket conn = null;
            long start = System.nanoTime();
            long deadline = start + SECONDS * 1_000_000_000L;
            // The inputs follow from the seed alone; a slow machine (TLS handshakes under load)
            // still runs the first MIN_INPUTS of them, so the outcomes do not depend on its speed.
            long hardDeadline = deadline + 90_000_000_000L;
            while ((System.nanoTime() < deadline || messageExecs + frameExecs < MIN_INPUTS)
                    && System.nanoTime() < hardDeadline && findings.size() < 10) {
                byte[] input = mutator.next();
                long t0 = System.nanoTime();
                if (mutator.random().nextInt(5) > 0) {
                    messageExecs++;
                    if (conn == null) {
                        conn = WireSocket.open(wire, server.port());
                    }
                    String outcome = sendMessage(conn, input);
                    outcomes.merge(outcome, 1L, Long::sum);
                    if (!outcome.equals("reply")) {
                        conn.close();
                        conn = null;
                    }
                    boolean tooBig = input.length > (1 << 20);
                    if (!outcome.equals("reply") && !outcome.equals("error+1011") && !(tooBig && outcome.equals("1009"))
                            && !(tooBig && outcome.equals("closed while sending"))) {
                        findings.add(outcome + " for message " + HexFormat.of().formatHex(input));
                    }
                } else {
                    frameExecs++;
                    byte[] frame = mutator.mutate(WireSocket.frame(WireSocket.BINARY, input, true));
                    try (WireSocket w = WireSocket.open(wire, server.port())) {
                        boolean closed;
                        try {
                            w.write(frame);
                            w.socket.shutdownOutput();
                            closed = w.closedWithin(ANSWER_WITHIN);
                            outcomes.merge(closed ? "frame: closed after EOF" : "frame: HANG", 1L, Long::sum);
                        } catch (java.net.SocketException | javax.net.ssl.SSLException e) {
                            closed = true; // the server gave up on the frame while it was being sent
                            outcomes.merge("frame: closed while sending", 1L, Long::sum);
                        }
                        if (!closed) {
                            findings.add("server kept a connection open after a mutated frame and EOF: "
                                    + HexFormat.of().formatHex(frame));
                        }
                    }
                }
                slowestMs = Math.max(slowestMs, (System.nanoTime() - t0) / 1_000_000);
                if ((messageExecs + frameExecs) % 100 == 0) {
                    Probes.assertServes(server);
                    goodSteps++;
                }
            }
            if (conn != null) {
                conn.close();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Probes.assertServes(server);
            goodSteps++;
            assertTrue(Probes.await(() -> server.connectionCount() == 0, Duration.ofSeconds(20)),
                    "every fuzzing connection is let go; " + server.connectionCount() + " remain");
            System.out.printf("FIGURE server-fuzz (" + wire + "): seed %d, %.1f s, %d fuzzed messages + %d fuzzed frames (%.0f/s),"
                    + " %d good-client steps in between, slowest answer %d ms, outcomes %s, findings %d%n", SEED, seconds,
                    messageExecs, frameExecs, (messageExecs + frameExecs) / seconds, goodSteps, slowestMs, outcomes,
                    findings.size());
        }
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings:\n" + String.join("\n", findings));
        }
        assertTrue(messageExecs + frameExecs > 50, "the campaign ran only " + (messageExecs + frameExecs) + " inputs");
        assertEquals(true, outcomes.containsKey("reply") && outcomes.containsKey("error+1011"),
                "inputs both pass and fail: " + outcomes);
    }

    /** Sends one message in a good frame; names what came back. */
    private static String sendMessage(WireSocket conn, byte[] message) throws IOException {
        conn.socket.setSoTimeout((int) ANSWER_WITHIN.toMillis());
        try {
            try {
                conn.sendFrame(WireSocket.BINARY, message);
            } catch (java.net.SocketException | javax.net.ssl.SSLException e) {
                return "closed while sending";
            }
            WireSocket.Frame first = conn.readMessage();
            if (first == null) {
                return "dropped without a word";
            }
            if (first.opcode() == WireSocket.BINARY) {
                return "reply";
            }
            if (first.opcode() == WireSocket.CLOSE) {
                return String.valueOf(first.closeCode());
            }
            if (first.opcode() == WireSocket.TEXT) {
                WireSocket.Frame close = conn.readMessage();
                return close != null && close.opcode() == WireSocket.CLOSE && close.closeCode() == 1011
                        ? "error+1011" : "error then " + close;
            }
            return "opcode " + first.opcode();
        } catch (java.net.SocketTimeoutException e) {
            return "HANG: no answer within " + ANSWER_WITHIN.toSeconds() + " s";
        }
    }
}
