package org.webpolicy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.webpolicy.array.NdArray;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.mcap.ChunkCompression;
import org.webpolicy.policy.Policy;
import org.webpolicy.record.Recorder;
import org.webpolicy.record.RecorderStats;
import org.webpolicy.record.RecordingPolicy;
import org.webpolicy.transport.PolicyClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What recording costs a robot, measured side by side in one run: a 50 Hz loop of ALOHA steps
 * (4 camera-like uint8 3x224x224 images, state, prompt) through our client to a policy server in
 * its own JVM, in phases that alternate no recording and recording (RecordingPolicy around the
 * client, recorder into a file under target/), after an unpaced warm-up of every phase kind so
 * each path is compiled when measured. Per phase: the recording's cost on the control thread
 * (the wrapper's time minus the inner client's, per step, wall and thread CPU), the client's own
 * step, the process's CPU per step (the server is not in this process) and the file's size per
 * hour. Besides the defaults, phases that put one cost back each (no chunk CRC, the data-section
 * CRC, large data copied into the chunk, zstd over everything, the observation encoded again
 * instead of the client's frame handed over) show what each change bought.
 *
 * <p>Then a throttled disk: the same client loop recorded onto an output that takes
 * {@code --disk-mb-s} MB/s, after the loop without recording: exchanges are dropped and counted,
 * and a deadline missed only because of the recording's share of a step is counted apart. Exit 1
 * when that part's checks fail (drops counted, every step accounted for, steps taken during
 * stalled writes, no deadline missed because of the recording). {@code --throttled-only
 * --throttle-s 600} is the 10-minute run. Run with {@code java -cp <cli jar>
 * org.webpolicy.cli.RecordingBench} or {@code scripts/bench_recording}.
 */
@Command(name = "bench-recording", mixinStandardHelpOptions = true,
        description = "Measure the cost of recording on a 50 Hz robot loop, and a throttled disk.")
public final class RecordingBench implements Callable<Integer> {

    @Option(names = "--phase-s", description = "Seconds per phase (default: ${DEFAULT-VALUE}).")
    int phaseSeconds = 10;

    @Option(names = "--rounds", description = "Times each phase runs, alternated (default: ${DEFAULT-VALUE}).")
    int rounds = 2;

    @Option(names = "--throttle-s", description = "Seconds of the throttled-disk loop (default: ${DEFAULT-VALUE}).")
    int throttleSeconds = 60;

    @Option(names = "--disk-mb-s", description = "The throttled disk's speed in MB/s (default: ${DEFAULT-VALUE}).")
    double diskMbPerSecond = 2;

    @Option(names = "--warmup-steps", description = "Unpaced steps per phase kind before the rounds, so every path is"
            + " compiled when measured (default: ${DEFAULT-VALUE}).")
    int warmupSteps = 1500;

    @Option(names = "--out-dir", description = "Where recordings go (default: ${DEFAULT-VALUE}).")
    String outDir = "target/bench-recording";

    @Option(names = "--throttled-only", description = "Only the throttled-disk loop (with --throttle-s 600: the 10-minute run).")
    boolean throttledOnly;

    @Option(names = "--baseline-s", description = "Seconds of the loop without recording before the throttled one "
            + "(default: as long as --throttle-s, at most 120).")
    Integer baselineSeconds;

    // A plain flag: picocli gives a negatable option that defaults to true the default again for
    // its --no- form, so "--no-ablations" used to run every ablation.
    @Option(names = "--no-ablations", description = "Leave out the phases that put each cost back, one at a time"
            + " (by default they run).")
    boolean noAblations;

    private static final int RATE_HZ = 50;
    private static final long PERIOD_NANOS = 1_000_000_000L / RATE_HZ;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /**
     * Runs the benchmark.
     *
     * @param args options, see {@code --help}
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new RecordingBench()).execute(args));
    }

    /** A camera-like image: smooth gradients that move a little each step, plus sensor noise. */
    static NdArray cameraImage(int step, int camera) {
        byte[] px = new byte[3 * 224 * 224];
        long seed = step * 31L + camera;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 224; y++) {
                for (int x = 0; x < 224; x++) {
                    seed = seed * 6364136223846793005L + 1442695040888963407L;
                    int noise = (int) ((seed >>> 60) & 7) - 3;
                    int v = (x + 2 * y + step + 40 * c + 17 * camera) / 2 % 256 + noise;
                    px[(c * 224 + y) * 224 + x] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return NdArray.ofUint8(px, 3, 224, 224);
    }

    static Map<String, Object> observation(int step) {
        Map<String, Object> images = new LinkedHashMap<>();
        String[] names = {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"};
        for (int i = 0; i < names.length; i++) {
            images.put(names[i], cameraImage(step, i));
        }
        double[] state = new double[14];
        Arrays.fill(state, step * 0.01);
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat64(state));
        obs.put("images", images);
        obs.put("prompt", "fold the towel");
        return obs;
    }

    /** Measures the inner policy's time per call, so the wrapper's own cost can be told apart. */
    static final class Timed implements Policy {
        final Policy inner;
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long lastNanos;
        long lastCpuNanos;

        Timed(Policy inner) {
            this.inner = inner;
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            Map<String, Object> a = inner.step(observation);
            lastNanos = System.nanoTime() - t0;
            lastCpuNanos = threads.getCurrentThreadCpuTime() - c0;
            return a;
        }

        @Override
        public Map<String, Object> metadata() {
            return inner.metadata();
        }
    }

    /** One phase's figures: per step, the recording's cost on the control thread and the client's own time. */
    record Phase(String name, double[] overheadUs, double[] overheadCpuUs, double[] clientUs, double processCpuUsPerStep,
            int missed, double mbPerHour, RecorderStats stats, double writerCpuUsPerStep, double compilerCpuUsPerStep) {

        /** The process's CPU per step without the JIT compiler's (the whole process's where that is unknown). */
        double steadyCpuUsPerStep() {
            return Double.isNaN(compilerCpuUsPerStep) ? processCpuUsPerStep : processCpuUsPerStep - compilerCpuUsPerStep;
        }
    }

    /**
     * What a phase records with: null options for no recording; {@code wire}: the client's frames
     * handed over (RecordingPolicy told which client), else observation and action encoded again.
     */
    record Setup(String name, UnaryOperator<Recorder.Builder> options, boolean wire, Floor floor) {
        Setup(String name, UnaryOperator<Recorder.Builder> options, boolean wire) {
            this(name, options, wire, null);
        }
    }

    /**
     * The floor of writing a step to a file, measured beside the recording in the same run: no
     * recorder, a thread of its own writing each step's encoded observation (the bytes the
     * recording's request holds) with one plain {@code FileChannel.write} from a direct buffer
     * (through the page cache), or with {@code O_DIRECT} from a block-aligned one (no page-cache
     * copy; the block padding is written too, so the file is not a recording).
     */
    enum Floor { PAGE_CACHE, O_DIRECT }

    /** The phases of the side-by-side part, in the order they run. */
    List<Setup> setups() {
        List<Setup> all = new ArrayList<>();
        all.add(new Setup("off", null, false));
        all.add(new Setup("wire, stored, chunk CRC", b -> b.compression(ChunkCompression.NONE), true));
        all.add(new Setup("defaults (zstd, cams 1/s)", b -> b.compression(ChunkCompression.ZSTD)
                .cameraImages(true, Duration.ofSeconds(1)), true));
        if (!noAblations) {
            all.add(new Setup("wire, stored, no CRC", b -> b.compression(ChunkCompression.NONE).crcs(false, false), true));
            all.add(new Setup("wire, stored, +data CRC", b -> b.compression(ChunkCompression.NONE).crcs(true, true), true));
            all.add(new Setup("wire, copied into chunk", b -> b.compression(ChunkCompression.NONE)
                    .referenceBytes(Integer.MAX_VALUE), true));
            all.add(new Setup("wire, copied, zstd all", b -> b.compression(ChunkCompression.ZSTD)
                    .referenceBytes(Integer.MAX_VALUE), true));
            all.add(new Setup("encoded again, stored", b -> b.compression(ChunkCompression.NONE), false));
        }
        all.add(new Setup("floor: FileChannel.write", null, false, Floor.PAGE_CACHE));
        all.add(new Setup("floor: O_DIRECT write", null, false, Floor.O_DIRECT));
        return all;
    }

    /**
     * The options' values checked before anything starts.
     *
     * @param cmd the command line the options came from, for the error
     * @throws CommandLine.ParameterException naming the option and what it must be
     */
    void validate(CommandLine cmd) {
        String bad = phaseSeconds < 1 ? "--phase-s must be at least 1, got " + phaseSeconds
                : rounds < 1 ? "--rounds must be at least 1, got " + rounds
                : throttleSeconds < 1 ? "--throttle-s must be at least 1, got " + throttleSeconds
                : !(diskMbPerSecond > 0) || Double.isInfinite(diskMbPerSecond) ? "--disk-mb-s must be a positive number, got "
                        + diskMbPerSecond
                : warmupSteps < 0 ? "--warmup-steps must be 0 or more, got " + warmupSteps
                : baselineSeconds != null && baselineSeconds < 0 ? "--baseline-s must be 0 or more, got " + baselineSeconds
                : null;
        if (bad != null) {
            throw new CommandLine.ParameterException(cmd, bad);
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        validate(spec.commandLine());
        java.nio.file.Files.createDirectories(java.nio.file.Path.of(outDir));
        // 16 observations made once: making camera images is not what is measured.
        List<Map<String, Object>> observations = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            observations.add(observation(i));
        }
        Process server = startServer();
        try {
            int port = serverPort(server);
            if (!throttledOnly) {
                sideBySide(port, observations);
            }
            return throttledDisk(port, observations) ? 0 : 1;
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void sideBySide(int port, List<Map<String, Object>> observations) throws Exception {
        List<Setup> setups = setups();
        System.out.printf(Locale.ROOT, "ALOHA steps at %d Hz, %d s per phase, %d round(s) of %d phases, server in its own JVM on port %d%n",
                RATE_HZ, phaseSeconds, rounds, setups.size(), port);
        for (ImageCodec codec : List.of(ImageCodec.RAW, ImageCodec.jpeg(90))) {
            List<Phase> phases = new ArrayList<>();
            // JPEG: the robot sends images it compressed (as with imageCodec(jpeg), done once here,
            // so the loop's CPU is the transport's and the recording's, and the recording holds JPEG).
            List<Map<String, Object>> sent = codec == ImageCodec.RAW ? observations
                    : observations.stream().map(o -> ImageCompression.compress(o, codec)).toList();
            try (PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + port).build().connect()) {
                // Compiled before measured: at 50 Hz a path runs as interpreted or profiled code
                // for minutes, which would be measured instead of the recording.
                for (Setup setup : setups) {
                    runPhase(setup, client, sent, warmupSteps, false, null);
                }
                for (int r = 0; r < rounds; r++) {
                    for (Setup setup : setups) {
                        phases.add(runPhase(setup, client, sent, phaseSeconds * RATE_HZ, true, Path.of(outDir, "phase.mcap")));
                    }
                }
            }
            report("images on the wire: " + codec, phases);
        }
    }

    /**
     * {@code steps} steps, at 50 Hz when {@code paced}, else one after another (a warm-up). The
     * recording goes to {@code file}, or nowhere (null): a warm-up's gigabytes would leave the
     * kernel writing back while the next phases are measured.
     */
    private Phase runPhase(Setup setup, PolicyClient client, List<Map<String, Object>> observations, int steps, boolean paced,
            Path file) throws Exception {
        Recorder recorder = setup.options() == null ? null
                : setup.options().apply((file == null ? Recorder.builder(OutputStream.nullOutputStream()) : Recorder.builder(file))
                        .cameraImages(false, Duration.ofSeconds(1))).build();
        Timed timed = new Timed(client);
        Policy robot = recorder == null ? timed : new RecordingPolicy(timed, recorder, setup.wire() ? client : null);
        Thread writer = recorder == null ? null : recorderThread();
        // Not in the warm-up: a write is compiled in no time, and the warm-up's gigabytes would be written back while measuring.
        FloorWriter floor = setup.floor() == null || file == null ? null
                : new FloorWriter(setup.floor(), observations, Path.of(outDir, "floor.bin"));
        double[] overhead = new double[steps];
        double[] overheadCpu = new double[steps];
        double[] clientUs = new double[steps];
        long processCpu0 = os.getProcessCpuTime();
        long compilerCpu0 = CompilerThreadsCpu.nanos();
        int missed = 0;
        long deadline = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            deadline += PERIOD_NANOS;
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            robot.step(observations.get(i % observations.size()));
            long t1 = System.nanoTime();
            long c1 = threads.getCurrentThreadCpuTime();
            if (floor != null) {
                floor.steps.offer(i % observations.size());
            }
            overhead[i] = ((t1 - t0) - timed.lastNanos) / 1e3;
            overheadCpu[i] = ((c1 - c0) - timed.lastCpuNanos) / 1e3;
            clientUs[i] = timed.lastNanos / 1e3;
            deadline = nextDeadline(deadline, t1);
            if (deadline < 0) {
                missed++;
                deadline = -deadline;
            }
            long sleep = deadline - System.nanoTime();
            if (sleep > 0 && paced) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
        }
        RecorderStats stats = null;
        double mbPerHour = 0;
        double writerCpu = Double.NaN;
        if (writer != null) {
            writerCpu = threads.getThreadCpuTime(writer.getId()) / 1e3 / steps; // before close: the thread ends there
        }
        if (floor != null) {
            writerCpu = floor.finish() / 1e3 / steps;
        }
        if (recorder != null) {
            recorder.close(); // the writer's remaining work lands in this phase's process CPU
            stats = recorder.stats();
            mbPerHour = file == null ? 0 : java.nio.file.Files.size(file) / 1e6 / ((double) steps / RATE_HZ) * 3600;
        }
        long processCpu = os.getProcessCpuTime() - processCpu0;
        long compilerCpu1 = CompilerThreadsCpu.nanos();
        double compilerCpu = compilerCpu0 < 0 || compilerCpu1 < 0 ? Double.NaN : (compilerCpu1 - compilerCpu0) / 1e3 / steps;
        return new Phase(setup.name(), overhead, overheadCpu, clientUs, processCpu / 1e3 / steps, missed, mbPerHour, stats,
                writerCpu, compilerCpu);
    }

    /** The recorder's writer thread just started (the newest of that name). */
    private static Thread recorderThread() {
        Thread newest = null;
        for (int i = 0; i < 100 && newest == null; i++) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("webpolicy-recorder") && t.isAlive() && (newest == null || t.getId() > newest.getId())) {
                    newest = t;
                }
            }
        }
        return newest;
    }

    /**
     * A step that ended after its deadline missed it; the loop then starts its next period from
     * now, as a control loop does, instead of counting every later step as missed too. Returns
     * the next step's deadline, negated when this step missed.
     */
    private static long nextDeadline(long deadline, long endedAt) {
        return endedAt > deadline ? -(endedAt + PERIOD_NANOS) : deadline;
    }

    private static void report(String title, List<Phase> phases) {
        System.out.println();
        System.out.println(title + " (rec: the recording's time on the control thread per step, wall and thread CPU, in us;"
                + " client: the client's own step; proc CPU: the whole process per step, and its ratio to the off phases' mean;"
                + " -JIT: the same without the JIT compiler's threads, whose catching up lands in any phase)");
        System.out.printf(Locale.ROOT, "%-27s %8s %8s %8s %8s %9s %9s %9s %7s %9s %7s %9s %6s %8s %8s%n", "phase", "rec p50",
                "rec p99", "rCPU p50", "rCPU p99", "client50", "client99", "proc CPU", "ratio", "-JIT", "ratio", "writer", "missed",
                "dropped", "MB/hour");
        double offCpu = phases.stream().filter(p -> p.name.equals("off")).mapToDouble(Phase::processCpuUsPerStep).average().orElse(0);
        double offSteady = phases.stream().filter(p -> p.name.equals("off")).mapToDouble(Phase::steadyCpuUsPerStep).average()
                .orElse(0);
        for (Phase p : phases) {
            double[] o = sorted(p.overheadUs);
            double[] oc = sorted(p.overheadCpuUs);
            double[] c = sorted(p.clientUs);
            System.out.printf(Locale.ROOT, "%-27s %8.1f %8.1f %8.1f %8.1f %9.0f %9.0f %9.0f %6.2fx %9.0f %6.2fx %9s %6d %8s %8s%n",
                    p.name, InspectCommand.at(o, 0.5), InspectCommand.at(o, 0.99), InspectCommand.at(oc, 0.5),
                    InspectCommand.at(oc, 0.99), InspectCommand.at(c, 0.5), InspectCommand.at(c, 0.99), p.processCpuUsPerStep,
                    p.processCpuUsPerStep / offCpu, p.steadyCpuUsPerStep(), p.steadyCpuUsPerStep() / offSteady,
                    Double.isNaN(p.writerCpuUsPerStep) ? "-" : String.format(Locale.ROOT, "%.0f", p.writerCpuUsPerStep),
                    p.missed, p.stats == null ? "-" : String.valueOf(p.stats.exchangesDropped()),
                    p.stats == null ? "-" : String.format(Locale.ROOT, "%.0f", p.mbPerHour));
        }
        System.out.println("all rounds together (percentiles over every step; proc CPU and size: means):");
        Map<String, List<Phase>> byName = new LinkedHashMap<>();
        for (Phase p : phases) {
            byName.computeIfAbsent(p.name, k -> new ArrayList<>()).add(p);
        }
        for (Map.Entry<String, List<Phase>> e : byName.entrySet()) {
            double[] o = sorted(e.getValue().stream().flatMapToDouble(p -> Arrays.stream(p.overheadUs)).toArray());
            double[] c = sorted(e.getValue().stream().flatMapToDouble(p -> Arrays.stream(p.clientUs)).toArray());
            double cpu = e.getValue().stream().mapToDouble(Phase::processCpuUsPerStep).average().orElse(0);
            double steady = e.getValue().stream().mapToDouble(Phase::steadyCpuUsPerStep).average().orElse(0);
            double writer = e.getValue().stream().mapToDouble(Phase::writerCpuUsPerStep).average().orElse(Double.NaN);
            double mb = e.getValue().stream().mapToDouble(Phase::mbPerHour).average().orElse(0);
            System.out.printf(Locale.ROOT, "  %-27s rec p50 %6.1f p99 %6.1f | client p50 %6.0f p99 %6.0f | proc CPU %5.0f us/step"
                    + " (%+.0f %% vs off), without the JIT %5.0f (%+.0f %%)%s%s%n", e.getKey(), InspectCommand.at(o, 0.5),
                    InspectCommand.at(o, 0.99), InspectCommand.at(c, 0.5), InspectCommand.at(c, 0.99), cpu, 100 * (cpu / offCpu - 1),
                    steady, 100 * (steady / offSteady - 1),
                    Double.isNaN(writer) ? "" : String.format(Locale.ROOT, " | writer thread %.0f us/step", writer),
                    mb > 0 ? String.format(Locale.ROOT, " | %.1f GB/hour", mb / 1000) : "");
        }
    }

    private static double[] sorted(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v;
    }

    /**
     * What one 50 Hz loop saw: deadlines missed, those missed only because of the recording's
     * share of the step (without it the step would have ended in time), the slowest step, the
     * recording's largest share, and steps taken while the disk was stuck in a write.
     */
    record Loop(int missed, int missedByRecording, int missedByRecordingCpu, double maxUs, double maxRecordingUs,
            double maxRecordingCpuUs, long duringStalls) {
    }

    private Loop loop(Policy robot, Timed timed, List<Map<String, Object>> observations, int steps, ThrottledOutput disk,
            boolean recording) throws InterruptedException {
        long duringStalls = 0;
        int missed = 0;
        int missedByRecording = 0;
        int missedByRecordingCpu = 0;
        double maxUs = 0;
        double maxRecordingUs = 0;
        double maxRecordingCpuUs = 0;
        long deadline = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            deadline += PERIOD_NANOS;
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            robot.step(observations.get(i % observations.size()));
            long t1 = System.nanoTime();
            long c1 = threads.getCurrentThreadCpuTime();
            // Wall time in the recording's code includes being preempted there; its CPU time does not.
            long recordingNanos = recording ? (t1 - t0) - timed.lastNanos : 0;
            long recordingCpuNanos = recording ? (c1 - c0) - timed.lastCpuNanos : 0;
            maxUs = Math.max(maxUs, (t1 - t0) / 1e3);
            maxRecordingUs = Math.max(maxRecordingUs, recordingNanos / 1e3);
            maxRecordingCpuUs = Math.max(maxRecordingCpuUs, recordingCpuNanos / 1e3);
            if (disk != null && disk.inWrite.get()) {
                duringStalls++;
            }
            if (t1 > deadline && t1 - recordingNanos <= deadline) {
                missedByRecording++;
            }
            if (t1 > deadline && t1 - recordingCpuNanos <= deadline) {
                missedByRecordingCpu++;
            }
            deadline = nextDeadline(deadline, t1);
            if (deadline < 0) {
                missed++;
                deadline = -deadline;
            }
            long sleep = deadline - System.nanoTime();
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
        }
        return new Loop(missed, missedByRecording, missedByRecordingCpu, maxUs, maxRecordingUs, maxRecordingCpuUs, duringStalls);
    }

    /**
     * The robot loop (our client, raw ALOHA steps to the server) recorded from the wire onto a disk
     * that takes {@code --disk-mb-s}, after the same loop without recording. Exchanges the writer
     * cannot take are dropped and counted: those the client could not hand over (every pooled
     * frame buffer still queued) and those the recorder's queue refused.
     */
    private boolean throttledDisk(int port, List<Map<String, Object>> observations) throws Exception {
        int steps = throttleSeconds * RATE_HZ;
        int baselineSteps = (baselineSeconds != null ? baselineSeconds : Math.min(throttleSeconds, 120)) * RATE_HZ;
        try (PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + port).build().connect()) {
            Timed timed = new Timed(client);
            // Warm-up: the loop, and the recording path compiled, its drop paths included (a
            // first drop would otherwise run the measured loop through a deoptimization).
            loop(timed, timed, observations, 3 * RATE_HZ, null, false);
            try (Recorder warm = Recorder.builder(new ThrottledOutput(diskMbPerSecond * 1e6)).compression(ChunkCompression.NONE)
                    .build()) {
                Policy recorded = new RecordingPolicy(timed, warm, client);
                for (int i = 0; i < warmupSteps; i++) {
                    recorded.step(observations.get(i % observations.size()));
                }
            }
            // The same loop without recording first: what this machine does to a 50 Hz loop by itself.
            Loop baseline = loop(timed, timed, observations, baselineSteps, null, false);
            ThrottledOutput disk = new ThrottledOutput(diskMbPerSecond * 1e6);
            Recorder recorder = Recorder.builder(disk).compression(ChunkCompression.NONE).build();
            long processCpu0 = os.getProcessCpuTime();
            Loop recorded = loop(new RecordingPolicy(timed, recorder, client), timed, observations, steps, disk, true);
            double cpuPerStep = (os.getProcessCpuTime() - processCpu0) / 1e3 / steps;
            RecorderStats before = recorder.stats();
            Thread closer = new Thread(recorder::close);
            closer.setDaemon(true);
            closer.start(); // the queued remainder drains at disk speed; the loop's figures do not wait for it
            System.out.println();
            System.out.printf(Locale.ROOT, "throttled disk (%.1f MB/s; the loop makes ~%.0f MB/s): %d steps (%d s) at %d Hz through"
                    + " our client to the server, recorded from the wire; before it, %d steps without recording%n",
                    diskMbPerSecond, 0.6 * RATE_HZ, steps, throttleSeconds, RATE_HZ, baselineSteps);
            System.out.printf(Locale.ROOT, "  exchanges recorded %d, dropped and counted %d (%.1f %%), steps taken while the writer"
                    + " was stuck in a write: %d; process CPU %.0f us/step%n",
                    before.exchangesRecorded(), before.exchangesDropped(), 100.0 * before.exchangesDropped() / steps,
                    recorded.duringStalls(), cpuPerStep);
            System.out.printf(Locale.ROOT, "  missed deadlines: %d recording, %d in %d steps without recording; missed because of"
                    + " the recording's share of the step: %d by its CPU time, %d by its wall time (preemption in its code"
                    + " included)%n", recorded.missed(), baseline.missed(), baselineSteps, recorded.missedByRecordingCpu(),
                    recorded.missedByRecording());
            System.out.printf(Locale.ROOT, "  slowest step %.0f us (%.0f us without recording); the recording's largest share of"
                    + " a step %.0f us CPU, %.0f us wall%n", recorded.maxUs(), baseline.maxUs(), recorded.maxRecordingCpuUs(),
                    recorded.maxRecordingUs());
            boolean ok = before.exchangesDropped() > 0 && before.exchangesRecorded() + before.exchangesDropped() == steps
                    && recorded.duringStalls() > 0 && recorded.missedByRecordingCpu() == 0;
            System.out.println(ok ? "  checks passed: drops counted, every step accounted for, the loop stepped on while the disk"
                    + " stalled, no deadline missed because of the recording's CPU time"
                    : "  CHECKS FAILED: expected drops > 0, recorded + dropped = steps, steps during stalled writes > 0,"
                    + " no deadline missed because of the recording's CPU time");
            return ok;
        }
    }

    private static Process startServer() throws IOException {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--host", "127.0.0.1", "--port", "0", "--policy", "random").redirectErrorStream(true).start();
    }

    private static int serverPort(Process server) throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            int at = line.indexOf("policy on ws://127.0.0.1:");
            if (line.startsWith("Serving the") && at >= 0) {
                String rest = line.substring(at + "policy on ws://127.0.0.1:".length());
                Thread drain = new Thread(() -> {
                    try {
                        while (lines.readLine() != null) {
                            // keep the pipe empty
                        }
                    } catch (IOException ignored) {
                        // the server ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(rest.split("[^0-9]")[0]);
            }
        }
        throw new IOException("the policy server ended before it said its port");
    }
}
