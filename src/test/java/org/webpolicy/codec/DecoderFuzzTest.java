package org.webpolicy.codec;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A time-boxed mutation fuzzing campaign on {@link MsgpackCodec#unpack}: starting from every
 * golden vector, mutated messages must decode (and then encode again) or fail with a
 * {@link DecodeException}; any other exception, an error, an allocation far beyond the
 * message's size or a hang is a finding. Inputs that give a new kind of outcome join the corpus.
 *
 * <p>{@code -Dfuzz.seconds} (default 20) bounds it; {@code -Dfuzz.seed} picks the sequence
 * (default fixed, so CI runs the same inputs each time). Findings are written to
 * {@code target/fuzz-findings/}; each one fixed becomes a file in
 * {@code src/test/resources/fuzz-regressions/}, which {@link #regressionsStayFixed} replays.
 *
 * <p>The campaign is tagged {@code campaign}: it runs with {@code -Pcampaigns} (CI,
 * {@code scripts/fuzz}); the regressions run in every build.
 */
@Tag("fuzz")
class DecoderFuzzTest {

    private static final long SECONDS = Long.getLong("fuzz.seconds", 20);
    private static final long SEED = Long.getLong("fuzz.seed", 20261125L);
    private static final int CORPUS_CAP = 4000;

    private final MsgpackCodec codec = new MsgpackCodec();

    @Test
    @Tag("campaign")
    void mutatedGoldenMessagesDecodeOrFailWithADecodeException() {
        assertTrue(SECONDS > 0, "fuzz.seconds must be positive");
        assertTimeoutPreemptively(Duration.ofSeconds(SECONDS + 120), this::campaign,
                "a decode hung: the campaign did not end within its time box");
    }

    private void campaign() throws IOException {
        List<byte[]> seeds = MessageMutator.goldenMessages();
        List<byte[]> corpus = new ArrayList<>(seeds);
        MessageMutator mutator = new MessageMutator(SEED, corpus);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();

        Map<DecodeException.Problem, Long> problems = new EnumMap<>(DecodeException.Problem.class);
        Set<String> outcomes = new HashSet<>();
        List<String> findings = new ArrayList<>();
        long execs = 0;
        long decoded = 0;
        long slowestNanos = 0;
        long mostAllocated = 0;
        long inputBytes = 0;
        long start = System.nanoTime();
        long deadline = start + SECONDS * 1_000_000_000L;
        while (System.nanoTime() < deadline && findings.size() < 20) {
            for (int batch = 0; batch < 256; batch++) {
                byte[] input = mutator.next();
                execs++;
                inputBytes += input.length;
                long allocatedBefore = threads.getThreadAllocatedBytes(me);
                long t0 = System.nanoTime();
                String outcome;
                try {
                    Object value = codec.unpack(input.clone());
                    codec.pack(value);
                    decoded++;
                    outcome = "ok:" + (value == null ? "nil" : value.getClass().getSimpleName());
                } catch (DecodeException e) {
                    problems.merge(e.problem(), 1L, Long::sum);
                    outcome = e.problem() + ":" + shapeOf(e.getMessage());
                } catch (Throwable t) {
                    findings.add(record(input, t));
                    continue;
                }
                long took = System.nanoTime() - t0;
                slowestNanos = Math.max(slowestNanos, took);
                long allocated = threads.getThreadAllocatedBytes(me) - allocatedBefore;
                mostAllocated = Math.max(mostAllocated, allocated);
                if (allocated > (32L << 20) + 64L * input.length) {
                    findings.add(record(input, new AssertionError("decoding " + input.length + " bytes allocated "
                            + allocated + " bytes")));
                }
                if (outcomes.add(outcome) && corpus.size() < CORPUS_CAP) {
                    corpus.add(input);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("FIGURE decoder-fuzz: seed %d, %.1f s, %d execs (%.0f/s), %.1f MB of input, %d golden seeds,"
                + " corpus grew to %d, %d distinct outcomes, %d decoded fine, slowest exec %.2f ms, most allocated by one"
                + " exec %d KiB, problems %s, findings %d%n", SEED, seconds, execs, execs / seconds, inputBytes / 1e6,
                seeds.size(), corpus.size(), outcomes.size(), decoded, slowestNanos / 1e6, mostAllocated / 1024, problems,
                findings.size());
        if (!findings.isEmpty()) {
            fail(findings.size() + " findings (inputs in target/fuzz-findings):\n" + String.join("\n", findings));
        }
        assertTrue(execs > 1000, "the campaign ran only " + execs + " inputs");
        assertTrue(problems.size() >= 6, "mutations reach at least six kinds of problem: " + problems.keySet());
    }

    /** The message with numbers and quoted parts blurred, so outcomes group by kind, not by offset. */
    private static String shapeOf(String message) {
        String s = message.replaceFirst("^\\$[^ ]*: ", "").replaceAll("[0-9]+", "#").replaceAll("'[^']*'", "'_'");
        return s.length() > 40 ? s.substring(0, 40) : s;
    }

    private static String record(byte[] input, Throwable t) {
        String hex = HexFormat.of().formatHex(input);
        try {
            Path dir = Path.of("target", "fuzz-findings");
            Files.createDirectories(dir);
            Files.write(dir.resolve(Integer.toHexString(java.util.Arrays.hashCode(input)) + ".msgpack"), input);
        } catch (IOException e) {
            // the hex in the report is enough
        }
        return t + " on " + (hex.length() > 400 ? hex.substring(0, 400) + "..." : hex);
    }

    @Test
    void regressionsStayFixed() throws Exception {
        Path dir = Path.of(DecoderFuzzTest.class.getResource("/fuzz-regressions").toURI());
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(f -> f.toString().endsWith(".msgpack")).sorted().toList();
        }
        for (Path f : files) {
            byte[] input = Files.readAllBytes(f);
            try {
                codec.pack(codec.unpack(input));
            } catch (DecodeException e) {
                // a named failure is the fixed behaviour
            } catch (Throwable t) {
                throw new AssertionError(f.getFileName() + " fails again", t);
            }
        }
        System.out.printf("FIGURE decoder-fuzz regressions: %d inputs replayed%n", files.size());
    }
}
