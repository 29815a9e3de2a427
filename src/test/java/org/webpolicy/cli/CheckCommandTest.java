package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.webpolicy.array.NdArray;
import org.webpolicy.check.OpenpiLikeServer;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.PolicyServer;

/** {@code webpolicy check}: one line per case, exit 0 when none fails, 1 when one does, 2 for a bad command line. */
class CheckCommandTest {

    @Test
    void ourServerPassesWithTheObservationOfAFile(@TempDir Path dir) throws Exception {
        Path observation = dir.resolve("obs.msgpack");
        Files.write(observation, new MsgpackCodec().pack(Map.of("state", NdArray.ofFloat64(new double[] {1, 2}))));
        // The policy refuses anything but the file's observation, so a pass proves the file was sent.
        try (PolicyServer server = PolicyServer.builder(obs -> {
            if (!(obs.get("state") instanceof NdArray a) || a.shape().dim(0) != 2) {
                throw new IllegalArgumentException("not the file's observation: " + obs.keySet());
            }
            return Map.of("actions", a);
        }).host("127.0.0.1").port(0).build().start()) {
            Object[] r = CommandLineTest.runCaptured("check", "ws://127.0.0.1:" + server.port(), "--observation",
                    observation.toString(), "--timeout", "20");
            String out = (String) r[1];
            assertEquals(0, r[0], out + r[2]);
            assertTrue(out.contains("PASS  step "), out);
            assertTrue(out.contains("observation from the given file"), out);
            assertTrue(out.contains("0 failed"), out);
        }
    }

    @Test
    void aOpenpiLikeServerExitsWithOneAndNamesTheCase() throws Exception {
        try (OpenpiLikeServer server = new OpenpiLikeServer(OpenpiLikeServer.Fault.GARBAGE_REPLY)) {
            Object[] r = CommandLineTest.runCaptured("check", "ws://127.0.0.1:" + server.port(), "--form", "raw", "--timeout", "20");
            String out = (String) r[1];
            assertEquals(1, r[0], out + r[2]);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("FAIL  step ") && l.contains("not one msgpack value")), out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("PASS  healthz ")), out);
        }
    }

    @Test
    void badCommandLinesAreRefusedBeforeAnythingRuns(@TempDir Path dir) throws Exception {
        for (List<String> args : List.of(List.of("check", "http://127.0.0.1:8000"), List.of("check", "ws://127.0.0.1:8000", "--form", "json"),
                List.of("check", "ws://127.0.0.1:8000", "--observation", dir.resolve("none.msgpack").toString()))) {
            Object[] r = CommandLineTest.runCaptured(args.toArray(String[]::new));
            assertEquals(2, r[0], args + ": " + r[2]);
            assertEquals("", r[1], args + " printed nothing");
        }
        Path notAMap = dir.resolve("list.msgpack");
        Files.write(notAMap, new MsgpackCodec().pack(List.of(1L)));
        Object[] r = CommandLineTest.runCaptured("check", "ws://127.0.0.1:8000", "--observation", notAMap.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("must hold a msgpack map"), (String) r[2]);
    }
}
