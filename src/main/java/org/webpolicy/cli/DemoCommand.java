package org.webpolicy.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.demo.AlohaDemo;
import org.webpolicy.demo.DemoPolicy;
import org.webpolicy.demo.DemoResult;
import org.webpolicy.demo.SimulatedAlohaEnvironment;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.runtime.LatencySummary;
import org.webpolicy.runtime.StepInfo;
import org.webpolicy.runtime.Subscriber;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code webpolicy demo}: runs {@link AlohaDemo} and prints what happened, with progress on long runs. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Drive a simulated ALOHA robot through the control loop, a chunk broker and a WebSocket policy server.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--steps", description = "Steps per episode, at least 1 (default: ${DEFAULT-VALUE}).")
    int steps = 300;

    @Option(names = "--episodes", description = "Episodes, at least 1 (default: ${DEFAULT-VALUE}).")
    int episodes = 1;

    @Option(names = "--hz", description = "Control rate, above 0 (default: ${DEFAULT-VALUE}).")
    double hz = 50;

    @Option(names = "--broker", converter = Choices.Brokers.class, completionCandidates = Choices.Brokers.class,
            description = "Chunk broker: ${COMPLETION-CANDIDATES} (default: async). scheduler asks ahead by measured"
                    + " turnaround, sends the continuation when the server takes one, holds then faults.")
    AlohaDemo.BrokerKind broker = AlohaDemo.BrokerKind.ASYNC;

    @Option(names = "--action-horizon", description = "Sync and async brokers: steps used of each 50-step chunk, 1-50"
            + " (default: ${DEFAULT-VALUE}); the scheduler uses all of them.")
    int actionHorizon = 25;

    @Option(names = "--threshold", description = "Async broker: ask for the next chunk with fewer actions left (default: ${DEFAULT-VALUE}).")
    int threshold = 10;

    @Option(names = "--lead-ms", description = "Scheduler: the least playback left when it asks for the next chunk, ms"
            + " (default: ${DEFAULT-VALUE}).")
    int leadMs = 200;

    @Option(names = "--grace-ms", description = "Scheduler: how long it holds the last action before it faults, ms"
            + " (default: ${DEFAULT-VALUE}).")
    int graceMs = 1000;

    @Option(names = "--ignore-continuation", description = "The in-process policy ignores the scheduler's continuation,"
            + " so chunk seams show (default: it honours it).")
    boolean ignoreContinuation;

    @Option(names = "--inference-ms", description = "How long the in-process policy thinks per chunk (default: ${DEFAULT-VALUE}).")
    int inferenceMs = 30;

    @Option(names = "--connect", paramLabel = "URI",
            description = "Use the policy server at this ws:// URI instead of an in-process one.")
    String connect;

    @Option(names = "--image-codec", converter = ImageCodecs.class, completionCandidates = ImageCodecs.class,
            description = ImageCodecs.DESCRIPTION)
    ImageCodec imageCodec = ImageCodec.RAW;

    @Option(names = "--prompt", description = "Task prompt (default: ${DEFAULT-VALUE}).")
    String prompt = "fold the towel";

    @Option(names = "--camera", paramLabel = "PATH|INDEX|URL",
            description = "A real camera for the images (repeatable, up to 3, in the order cam_high, cam_left_wrist,"
                    + " cam_right_wrist): a video file, a device index, a URL or a GStreamer pipeline. Needs OpenCV.")
    java.util.List<String> cameras = new java.util.ArrayList<>();

    @Option(names = "--camera-loop",
            description = "Play video files given with --camera over and over instead of ending the run at their end.")
    boolean cameraLoop;

    @Spec
    CommandSpec spec;

    private DemoResult result;

    /** The last run's result (for tests), null before one finished. */
    DemoResult result() {
        return result;
    }

    @Override
    public Integer call() {
        Arguments check = new Arguments(spec).atLeast("--steps", steps, 1).atLeast("--episodes", episodes, 1)
                .require(hz > 0 && Double.isFinite(hz), "--hz must be a rate above 0, got " + hz)
                .between("--action-horizon", actionHorizon, 1, DemoPolicy.CHUNK_LENGTH)
                .atLeast("--inference-ms", inferenceMs, 0).webSocketUri("--connect", connect);
        if (broker == AlohaDemo.BrokerKind.ASYNC) {
            check.between("--threshold", threshold, 1, actionHorizon);
        }
        if (broker == AlohaDemo.BrokerKind.SCHEDULER) {
            check.atLeast("--lead-ms", leadMs, 0).atLeast("--grace-ms", graceMs, 1);
        }
        check.require(cameras.size() <= SimulatedAlohaEnvironment.CAMERAS.size(),
                "--camera may be given at most " + SimulatedAlohaEnvironment.CAMERAS.size() + " times, got " + cameras.size());
        java.util.List<org.webpolicy.camera.CameraSource> sources = new java.util.ArrayList<>();
        for (String c : cameras) {
            sources.add(org.webpolicy.camera.CameraSource.parse(c));
        }
        PrintWriter out = spec.commandLine().getOut();
        AlohaDemo.Options options = new AlohaDemo.Options(hz, steps, episodes, broker, actionHorizon, threshold,
                Duration.ofMillis(inferenceMs), connect, prompt, imageCodec, !ignoreContinuation,
                Duration.ofMillis(leadMs), Duration.ofMillis(graceMs));
        out.printf(Locale.ROOT, "Simulated ALOHA: 3 cameras %dx%d resized to %dx%d, state float64 (14,), %s broker"
                        + " (%s) at %.0f Hz, %d step(s) x %d episode(s)%n",
                SimulatedAlohaEnvironment.FRAME_HEIGHT, SimulatedAlohaEnvironment.FRAME_WIDTH,
                SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE, SimulatedAlohaEnvironment.MODEL_IMAGE_SIZE,
                broker.name().toLowerCase(Locale.ROOT),
                broker == AlohaDemo.BrokerKind.SCHEDULER ? "whole chunks, lead " + leadMs + " ms, grace " + graceMs + " ms"
                        + (ignoreContinuation ? ", policy ignores the continuation" : "")
                        : "horizon " + actionHorizon + (broker == AlohaDemo.BrokerKind.ASYNC ? ", threshold " + threshold : ""),
                hz, steps, episodes);
        if (!sources.isEmpty()) {
            out.printf(Locale.ROOT, "cameras:           %s%n", sources);
        }
        out.flush();
        Progress progress = Progress.on(spec.commandLine().getErr(), "demo", (long) steps * episodes);
        AtomicLong done = new AtomicLong();
        Subscriber onStep = new Subscriber() {
            @Override
            public void onStep(StepInfo step) {
                progress.update(done.incrementAndGet());
            }
        };
        try {
            result = AlohaDemo.run(options, sources, org.webpolicy.camera.Camera.Options.DEFAULT.withLoop(cameraLoop),
                    onStep);
        } finally {
            progress.finish();
        }
        LatencySummary all = result.latency();
        out.printf(Locale.ROOT, "policy:            %s%s%n", result.policyUri(),
                connect == null ? " (in-process server, " + inferenceMs + " ms per chunk)" : "");
        out.printf(Locale.ROOT, "steps:             %d in %d episode(s), %.2f s%n", result.steps(), result.episodes(),
                result.wallTime().toNanos() / 1e9);
        out.printf(Locale.ROOT, "chunks requested:  %d (the robot waited for %d)%n", result.chunksRequested(), result.waits());
        out.printf(Locale.ROOT, "getAction latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms%n",
                millis(all.p50()), millis(all.p99()), millis(all.max()));
        out.printf(Locale.ROOT, "missed deadlines:  %d%n", result.missedDeadlines());
        if (result.chunkQuality() != null) {
            out.printf(Locale.ROOT, "chunk seams:       %s%n", result.chunkQuality());
        }
        if (result.scheduler() != null) {
            out.printf(Locale.ROOT, "continuation:      %s%n", result.continuationSent() ? "sent (the server takes it)"
                    : "not sent (the server does not say it takes one)");
            out.printf(Locale.ROOT, "scheduler:         %s%n", result.scheduler());
        }
        out.printf(Locale.ROOT, "image resize:      %.3f ms per step (3 cameras)%n", result.resizeNanosPerStep() / 1e6);
        out.printf(Locale.ROOT, "image path:        %s%n", result.imagePath());
        out.printf(Locale.ROOT, "images on wire:    %s%s%n", result.imageCodec(), imageCodec.equals(result.imageCodec()) ? ""
                : " (" + imageCodec + " asked for; the server did not accept it)");
        for (org.webpolicy.demo.CameraReport c : result.cameras()) {
            out.printf(Locale.ROOT, "%-19s%s%n", "camera " + c.name() + ":", cameraLine(c, result.steps()));
        }
        if (result.endedEarly() != null) {
            out.printf(Locale.ROOT, "ended early:       after %d of %d step(s), a camera ended at %s%s%n", result.steps(),
                    (long) steps * episodes, result.endedEarly(), cameraLoop || !result.endedEarly().contains("end of file")
                    ? "" : " (--camera-loop plays a file again from its start)");
        }
        out.flush();
        return 0;
    }

    /** A camera's figures, and why steps reused frames when the camera is slower than the loop. */
    private String cameraLine(org.webpolicy.demo.CameraReport c, long stepsRun) {
        StringBuilder line = new StringBuilder(c.source());
        if (!Double.isNaN(c.framesPerSecond())) {
            line.append(String.format(Locale.ROOT, " at %.1f fps", c.framesPerSecond()));
        }
        line.append(", ").append(c.framesRead()).append(" frame(s) read");
        if (c.loops() > 0) {
            line.append(" (").append(c.loops()).append(" loop(s))");
        }
        if (c.reusedFrames() > 0) {
            line.append(String.format(Locale.ROOT, "; %d of %d step(s) reused its previous frame: the camera is slower"
                    + " than the %.0f Hz loop (a step never waits for a frame, so no deadline is missed for it)",
                    c.reusedFrames(), stepsRun, hz));
        }
        if (c.droppedFrames() > 0) {
            line.append("; ").append(c.droppedFrames()).append(" frame(s) dropped: the loop is slower than the camera");
        }
        return line.toString();
    }

    private static double millis(Duration d) {
        return d.toNanos() / 1e6;
    }
}
