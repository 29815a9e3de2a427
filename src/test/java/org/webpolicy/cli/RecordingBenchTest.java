package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.webpolicy.cli.RecordingBench.Setup;
import picocli.CommandLine;

/** bench_recording's options: every one its script lists is parsed and does what it says, bad values are refused. */
class RecordingBenchTest {

    private static RecordingBench parse(String... args) {
        RecordingBench bench = new RecordingBench();
        new CommandLine(bench).parseArgs(args);
        return bench;
    }

    private static List<String> phases(RecordingBench bench) {
        return bench.setups().stream().map(Setup::name).toList();
    }

    @Test
    void noAblationsLeavesOutThePhasesThatPutOneCostBack() {
        List<String> all = phases(parse());
        List<String> lean = phases(parse("--no-ablations"));
        assertTrue(all.contains("wire, stored, no CRC"), "by default the ablations run: " + all);
        assertFalse(lean.contains("wire, stored, no CRC"), "--no-ablations: " + lean);
        assertFalse(lean.contains("encoded again, stored"), "--no-ablations: " + lean);
        assertEquals(List.of("off", "wire, stored, chunk CRC", "defaults (zstd, cams 1/s)", "floor: FileChannel.write",
                "floor: O_DIRECT write"), lean);
    }

    /** Every option the script's header names (scripts/bench_recording), with a value other than its default. */
    @Test
    void everyOptionTheScriptListsIsTakenAndSet() throws Exception {
        String header = Files.readString(Path.of("scripts/bench_recording"));
        for (String option : List.of("--phase-s", "--rounds", "--warmup-steps", "--no-ablations", "--throttle-s", "--baseline-s",
                "--disk-mb-s", "--throttled-only")) {
            assertTrue(header.contains(option), "the script lists " + option);
        }
        RecordingBench b = parse("--phase-s", "3", "--rounds", "4", "--warmup-steps", "5", "--no-ablations", "--throttle-s", "6",
                "--baseline-s", "7", "--disk-mb-s", "0.5", "--throttled-only");
        assertEquals(3, b.phaseSeconds);
        assertEquals(4, b.rounds);
        assertEquals(5, b.warmupSteps);
        assertTrue(b.noAblations);
        assertEquals(6, b.throttleSeconds);
        assertEquals(7, b.baselineSeconds);
        assertEquals(0.5, b.diskMbPerSecond);
        assertTrue(b.throttledOnly);
        RecordingBench d = parse();
        assertNotEquals(3, d.phaseSeconds);
        assertFalse(d.noAblations);
        assertFalse(d.throttledOnly);
    }

    @Test
    void aBadValueIsRefusedNamingTheOptionBeforeAnythingStarts() {
        for (String[] args : List.of(new String[] {"--rounds", "0"}, new String[] {"--phase-s", "0"},
                new String[] {"--disk-mb-s", "0"}, new String[] {"--throttle-s", "-1"}, new String[] {"--warmup-steps", "-1"},
                new String[] {"--baseline-s", "-2"})) {
            StringWriter err = new StringWriter();
            int code = new CommandLine(new RecordingBench()).setErr(new PrintWriter(err)).execute(args);
            assertEquals(2, code, String.join(" ", args));
            assertTrue(err.toString().contains(args[0]), "the error names " + args[0] + ": " + err);
        }
    }
}
