package org.webpolicy.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.check.CaseResult.Verdict;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.TestTls;
import org.webpolicy.transport.PolicyServerBuilder;

/**
 * The check against our own server passes in both forms, every extension included, over
 * {@code ws://} and {@code wss://}; against servers that get one thing wrong it fails exactly the
 * case that covers it.
 */
class ConformanceCheckTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** Answers a chunk of 4 actions of 2 joints; takes continuations (real-time chunking). */
    static final class Chunks implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return Map.of("actions", NdArray.ofFloat32(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, 4, 2));
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
            return step(observation);
        }

        @Override
        public boolean acceptsContinuation() {
            return true;
        }
    }

    static PolicyServerBuilder ours() {
        ObservationSpec spec = ObservationSpec.builder()
                .array("state", DType.FLOAT64, 14)
                .array("images/cam_high", DType.UINT8, 3, 16, 16)
                .string("prompt")
                .build();
        return PolicyServer.builder(new Chunks()).observationSpec(spec).host("127.0.0.1").port(0);
    }

    private static Map<String, Verdict> verdicts(List<CaseResult> results) {
        Map<String, Verdict> out = new LinkedHashMap<>();
        results.forEach(r -> out.put(r.name(), r.verdict()));
        return out;
    }

    private static String report(List<CaseResult> results) {
        return results.stream().map(CaseResult::line).collect(Collectors.joining("\n"));
    }

    @Test
    void ourServerPassesEveryCaseInTheEnvelopeForm() {
        try (PolicyServer server = ours().apiKey("sesame").build().start()) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), "sesame", TIMEOUT), Form.AUTO, null).run();
            Map<String, Verdict> verdicts = verdicts(results);
            assertEquals(14, verdicts.size(), report(results));
            verdicts.forEach((name, v) -> assertEquals(Verdict.PASS, v, name + "\n" + report(results)));
            assertTrue(results.get(1).detail().contains("form envelope"), report(results));
            assertTrue(results.get(2).detail().contains("observation from the server's observation_spec"), report(results));
            assertTrue(ConformanceCheck.passed(results));
        }
    }

    @Test
    void ourServerPassesTheRawFormWithTheEnvelopeOnlyCasesSkipped() {
        try (PolicyServer server = ours().build().start()) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), null, TIMEOUT), Form.RAW, null).run();
            Map<String, Verdict> verdicts = verdicts(results);
            List<String> skipped = List.of("reset", "request-id", "rtc", "api-key");
            verdicts.forEach((name, v) -> assertEquals(skipped.contains(name) ? Verdict.SKIP : Verdict.PASS, v,
                    name + "\n" + report(results)));
            assertTrue(results.stream().filter(r -> r.name().equals("step")).findFirst().orElseThrow().detail()
                    .contains("server_timing"), "our server adds openpi's server_timing in the raw form\n" + report(results));
        }
    }

    @Test
    void extensionsTheServerDoesNotOfferAreSkipped() {
        Policy plain = observation -> Map.of("actions", NdArray.zeros(DType.FLOAT32, 2, 2));
        try (PolicyServer server = PolicyServer.builder(plain).acceptImageCodecs(false).host("127.0.0.1").port(0).build().start()) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), null, TIMEOUT), Form.AUTO, null).run();
            Map<String, Verdict> verdicts = verdicts(results);
            assertEquals(Verdict.SKIP, verdicts.get("rtc"), report(results));
            assertEquals(Verdict.SKIP, verdicts.get("image-codec"), report(results));
            assertEquals(Verdict.PASS, verdicts.get("request-id"), report(results));
            assertTrue(results.get(2).detail().contains("the default"), report(results));
            assertTrue(ConformanceCheck.passed(results), report(results));
        }
    }

    @Test
    void overTlsTooWithTheClientsOwnTrust() throws Exception {
        TestTls tls = TestTls.get();
        // A TLS handshake on a cold JVM of a loaded machine can take longer than the 2 s a silent
        // connection is given by default.
        try (PolicyServer server = ours().sslContext(tls.server).firstByteTimeout(TIMEOUT).handshakeTimeout(TIMEOUT).build().start()) {
            Target target = Target.parse("wss://127.0.0.1:" + server.port(), null, TIMEOUT).withTlsSockets(tls.client.getSocketFactory());
            List<CaseResult> results = new ConformanceCheck(target, Form.AUTO, null).run();
            verdicts(results).forEach((name, v) -> assertEquals(name.equals("api-key") ? Verdict.SKIP : Verdict.PASS, v,
                    name + "\n" + report(results)));
        }
    }

    @Test
    void anOpenpiStyleServerPassesInTheRawFormChosenFromItsHandshake() throws Exception {
        try (OpenpiLikeServer server = new OpenpiLikeServer(OpenpiLikeServer.Fault.NONE)) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), null, TIMEOUT), Form.AUTO, null).run();
            List<String> skipped = List.of("reset", "request-id", "rtc", "image-codec", "api-key");
            verdicts(results).forEach((name, v) -> assertEquals(skipped.contains(name) ? Verdict.SKIP : Verdict.PASS, v,
                    name + "\n" + report(results)));
            assertTrue(results.get(1).detail().contains("form raw (no X-Webpolicy-Protocol header)"), report(results));
        }
    }

    @Test
    void aServerAnsweringGarbageFailsTheSteps() throws Exception {
        try (OpenpiLikeServer server = new OpenpiLikeServer(OpenpiLikeServer.Fault.GARBAGE_REPLY)) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), null, TIMEOUT), Form.AUTO, null).run();
            Map<String, Verdict> verdicts = verdicts(results);
            assertEquals(Verdict.PASS, verdicts.get("handshake"), report(results));
            assertEquals(Verdict.PASS, verdicts.get("metadata"), report(results));
            assertEquals(Verdict.FAIL, verdicts.get("step"), report(results));
            assertTrue(results.get(3).detail().contains("not one msgpack value"), report(results));
            assertEquals(Verdict.FAIL, verdicts.get("malformed-request"), report(results));
            assertEquals(Verdict.PASS, verdicts.get("ping"), report(results));
            assertFalse(ConformanceCheck.passed(results));
        }
    }

    @Test
    void aServerClosingWithoutTheErrorTextFailsOnlyTheMalformedCase() throws Exception {
        try (OpenpiLikeServer server = new OpenpiLikeServer(OpenpiLikeServer.Fault.SILENT_CLOSE_ON_ERROR)) {
            List<CaseResult> results = new ConformanceCheck(
                    Target.parse("ws://127.0.0.1:" + server.port(), null, TIMEOUT), Form.AUTO, null).run();
            List<String> failed = results.stream().filter(r -> r.verdict() == Verdict.FAIL).map(CaseResult::name).toList();
            assertEquals(List.of("malformed-request"), failed, report(results));
            CaseResult malformed = results.stream().filter(r -> r.name().equals("malformed-request")).findFirst().orElseThrow();
            assertTrue(malformed.detail().contains("error text frame first, got close 1000"), report(results));
            assertEquals(Verdict.PASS, verdicts(results).get("serves-again"), report(results));
        }
    }

    @Test
    void nothingListeningFailsTheFirstCasesAndSkipsTheRest() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<CaseResult> results = new ConformanceCheck(Target.parse("ws://127.0.0.1:" + port, null, TIMEOUT), Form.AUTO, null).run();
        Map<String, Verdict> verdicts = verdicts(results);
        assertEquals(Verdict.FAIL, verdicts.get("healthz"), report(results));
        assertTrue(results.get(0).detail().startsWith("cannot connect"), report(results));
        assertEquals(Verdict.FAIL, verdicts.get("handshake"), report(results));
        assertEquals(14, results.size(), report(results));
        results.subList(2, results.size()).forEach(r -> assertEquals(Verdict.SKIP, r.verdict(), report(results)));
    }

    @Test
    void targetsAreParsedOrRefusedWithTheReason() {
        Target t = Target.parse("wss://[::1]:9000/policy", "k", TIMEOUT);
        assertEquals("::1", t.host());
        assertEquals(9000, t.port());
        assertEquals("/policy", t.path());
        assertTrue(t.tls());
        assertEquals(443, Target.parse("wss://example.org", null, TIMEOUT).port());
        assertFalse(t.toString().contains("k"), "the key is not printed: " + t);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Target.parse("http://127.0.0.1:8000", null, TIMEOUT));
        assertTrue(e.getMessage().contains("ws:// or wss://"), e.getMessage());
    }
}
