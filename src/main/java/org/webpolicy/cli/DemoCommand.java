package org.webpolicy.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.webpolicy.runtime.LatencySummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code webpolicy demo}: runs {@link AlohaDemo} and prints what happened. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Drive a simulated ALOHA robot through the runtime loop, a chunk broker and a WebSocket policy server.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--steps", description = "Steps per episode (default: ${DEFAULT-VALUE}).")
    int steps = 300;

    @Option(names = "--episodes", description = "Episodes (default: ${DEFAULT-VALUE}).")
    int episodes = 1;

    @Option(names = "--hz", description = "Control rate (default: ${DEFAULT-VALUE}).")
    double hz = 50;

    @Option(names = "--broker", description = "sync or async (default: ${DEFAULT-VALUE}).")
    AlohaDemo.BrokerKind broker = AlohaDemo.BrokerKind.ASYNC;

    @Option(names = "--action-horizon", description = "Steps used of each 50-step chunk (default: ${DEFAULT-VALUE}).")
    int actionHorizon = 25;

    @Option(names = "--threshold", description = "Async broker: ask for the next chunk with fewer actions left (default: ${DEFAULT-VALUE}).")
    int threshold = 10;

    @Option(names = "--inference-ms", description = "How long the in-process policy thinks per chunk (default: ${DEFAULT-VALUE}).")
    int inferenceMs = 30;

    @Option(names = "--connect", paramLabel = "URI",
            description = "Use the policy server at this ws:// URI instead of an in-process one.")
    String connect;

    @Option(names = "--prompt", description = "Task prompt (default: ${DEFAULT-VALUE}).")
    String prompt = "fold the towel";

    @Spec
    CommandSpec spec;

    private DemoResult result;

    /** The last run's result (for tests and embedding), null before one finished. */
    public DemoResult result() {
        return result;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        AlohaDemo.Options options = new AlohaDemo.Options(hz, steps, episodes, broker, actionHorizon, threshold,
                Duration.ofMillis(inferenceMs), connect, prompt);
        out.printf(Locale.ROOT, "Simulated ALOHA: 3 cameras %dx%d resized to %dx%d, state float64 (14,), %s broker"
                        + " (horizon %d%s) at %.0f Hz, %d step(s) x %d episode(s)%n",
                SimulatedAlohaEnvironment.FRAME_HEIGHT, SimulatedAlohaEnvironment.FRAME_WIDTH,
                SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE, SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE,
                broker.name().toLowerCase(Locale.ROOT), actionHorizon,
                broker == AlohaDemo.BrokerKind.ASYNC ? ", threshold " + threshold : "", hz, steps, episodes);
        out.flush();
        result = AlohaDemo.run(options);
        LatencySummary all = result.latency();
        out.printf(Locale.ROOT, "policy:            %s%s%n", result.policyUri(),
                connect == null ? " (in-process server, " + inferenceMs + " ms per chunk)" : "");
        out.printf(Locale.ROOT, "steps:             %d in %d episode(s), %.2f s%n", result.steps(), result.episodes(),
                result.wallTime().toNanos() / 1e9);
        out.printf(Locale.ROOT, "chunks requested:  %d (the robot waited for %d)%n", result.chunksRequested(), result.waits());
        out.printf(Locale.ROOT, "getAction latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms%n",
                millis(all.p50()), millis(all.p99()), millis(all.max()));
        out.printf(Locale.ROOT, "missed deadlines:  %d%n", result.missedDeadlines());
        out.printf(Locale.ROOT, "image resize:      %.3f ms per step (3 cameras)%n", result.resizeNanosPerStep() / 1e6);
        out.printf(Locale.ROOT, "image path:        %s%n", result.imagePath());
        out.flush();
        return 0;
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}
