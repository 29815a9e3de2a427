package org.webpolicy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * client, recorder into a file under target/). Per phase: the recording's cost on the control
 * thread (the wrapper's time minus the inner client's, per step), the control thread's and the
 * process's CPU per step (the server is not in this process), and the file's size per hour.
 * Then a throttled disk: a recorder whose output takes {@code --disk-mb-s} MB/s, under a 50 Hz
 * loop of a local policy: exchanges are dropped and counted, and the loop keeps stepping while the
 * writer is stuck in a write. Exit 1 when that part's checks fail (drops counted, every step
 * accounted for, steps taken during stalled writes). Run with
 * {@code java -cp <cli jar> org.webpolicy.cli.RecordingBench} or {@code scripts/bench_recording}.
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

    @Option(names = "--out-dir", description = "Where recordings go (default: ${DEFAULT-VALUE}).")
    String outDir = "target/bench-recording";

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

    /** One phase's figures. */
    record Phase(String name, double[] overheadUs, double[] overheadCpuUs, double threadCpuUsPerStep, double processCpuUsPerStep,
            int missed, double mbPerHour, RecorderStats stats) {
    }

    @Override
    public Integer call() throws Exception {
        java.nio.file.Files.createDirectories(java.nio.file.Path.of(outDir));
        // 16 observations made once: making camera images is not what is measured.
        List<Map<String, Object>> observations = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            observations.add(observation(i));
        }
        Process server = startServer();
        try {
            int port = serverPort(server);
            System.out.printf(Locale.ROOT, "ALOHA steps at %d Hz, %d s per phase, %d round(s), server in its own JVM on port %d%n",
                    RATE_HZ, phaseSeconds, rounds, port);
            for (ImageCodec codec : List.of(ImageCodec.RAW, ImageCodec.jpeg(90))) {
                List<Phase> phases = new ArrayList<>();
                // JPEG: the robot sends images it compressed (as with imageCodec(jpeg), done once here,
                // so the loop's CPU is the transport's and the recording's, and the recording holds JPEG).
                List<Map<String, Object>> sent = codec == ImageCodec.RAW ? observations
                        : observations.stream().map(o -> ImageCompression.compress(o, codec)).toList();
                try (PolicyClient client = PolicyClient.builder().uri("ws://127.0.0.1:" + port).build().connect()) {
                    runPhase("warm-up", client, sent, null, 3);
                    for (int r = 0; r < rounds; r++) {
                        phases.add(runPhase("off", client, sent, null, phaseSeconds));
                        phases.add(runPhase("on, zstd, cameras 1/s", client, sent, ChunkCompression.ZSTD, phaseSeconds));
                        phases.add(runPhase("on, none, no cameras", client, sent, ChunkCompression.NONE, phaseSeconds));
                    }
                }
                report("images on the wire: " + codec, phases);
            }
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        return throttledDisk() ? 0 : 1;
    }

    private Phase runPhase(String name, PolicyClient client, List<Map<String, Object>> observations,
            ChunkCompression compression, int seconds) throws Exception {
        java.nio.file.Path file = java.nio.file.Path.of(outDir, "phase.mcap");
        Recorder recorder = compression == null ? null : Recorder.builder(file).compression(compression)
                .cameraImages(compression == ChunkCompression.ZSTD, java.time.Duration.ofSeconds(1)).build();
        Timed timed = new Timed(client);
        Policy robot = recorder == null ? timed : new RecordingPolicy(timed, recorder);
        int steps = seconds * RATE_HZ;
        double[] overhead = new double[steps];
        long threadCpu0 = threads.getCurrentThreadCpuTime();
        long processCpu0 = os.getProcessCpuTime();
        long start = System.nanoTime();
        int missed = 0;
        double[] overheadCpu = new double[steps];
        long deadline = start;
        for (int i = 0; i < steps; i++) {
            deadline += PERIOD_NANOS;
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            robot.step(observations.get(i % observations.size()));
            long t1 = System.nanoTime();
            long c1 = threads.getCurrentThreadCpuTime();
            overhead[i] = ((t1 - t0) - timed.lastNanos) / 1e3;
            overheadCpu[i] = ((c1 - c0) - timed.lastCpuNanos) / 1e3;
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
        long threadCpu = threads.getCurrentThreadCpuTime() - threadCpu0;
        RecorderStats stats = null;
        double mbPerHour = 0;
        if (recorder != null) {
            recorder.close(); // the writer's remaining work lands in this phase's process CPU
            stats = recorder.stats();
            mbPerHour = java.nio.file.Files.size(file) / 1e6 / seconds * 3600;
        }
        long processCpu = os.getProcessCpuTime() - processCpu0;
        return new Phase(name, overhead, overheadCpu, threadCpu / 1e3 / steps, processCpu / 1e3 / steps, missed, mbPerHour, stats);
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
        System.out.println(title);
        System.out.printf(Locale.ROOT, "%-24s %11s %11s %11s %11s %14s %15s %7s %9s %10s%n", "phase", "rec p50 us", "rec p99 us",
                "recCPU p50", "recCPU p99",
                "ctl CPU us/st", "proc CPU us/st", "missed", "dropped", "MB/hour");
        double offCpu = phases.stream().filter(p -> p.name.equals("off")).mapToDouble(Phase::processCpuUsPerStep).average().orElse(0);
        for (Phase p : phases) {
            double[] o = p.overheadUs.clone();
            Arrays.sort(o);
            double[] oc = p.overheadCpuUs.clone();
            Arrays.sort(oc);
            System.out.printf(Locale.ROOT, "%-24s %11.1f %11.1f %11.1f %11.1f %14.0f %15.0f %7d %9s %10s   (%s of off CPU)%n", p.name,
                    InspectCommand.at(o, 0.5), InspectCommand.at(o, 0.99), InspectCommand.at(oc, 0.5), InspectCommand.at(oc, 0.99),
                    p.threadCpuUsPerStep, p.processCpuUsPerStep,
                    p.missed, p.stats == null ? "-" : String.valueOf(p.stats.exchangesDropped()),
                    p.stats == null ? "-" : String.format(Locale.ROOT, "%.0f", p.mbPerHour),
                    String.format(Locale.ROOT, "%.2fx", p.processCpuUsPerStep / offCpu));
        }
    }

    /** An output that writes at most {@code bytesPerSecond}, sleeping in write: a slow disk. */
    static final class ThrottledOutput extends OutputStream {
        final double bytesPerSecond;
        final AtomicBoolean inWrite = new AtomicBoolean();
        long written;

        ThrottledOutput(double bytesPerSecond) {
            this.bytesPerSecond = bytesPerSecond;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            inWrite.set(true);
            try {
                Thread.sleep((long) (len / bytesPerSecond * 1000));
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            } finally {
                inWrite.set(false);
            }
            written += len;
        }
    }

    /** What one 50 Hz loop of a local policy saw. */
    record Loop(int missed, double maxUs, long duringStalls) {
    }

    private Loop loop(Policy robot, List<Map<String, Object>> observations, int steps, ThrottledOutput disk)
            throws InterruptedException {
        long duringStalls = 0;
        int missed = 0;
        double maxUs = 0;
        long deadline = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            deadline += PERIOD_NANOS;
            long t0 = System.nanoTime();
            robot.step(observations.get(i % observations.size()));
            long t1 = System.nanoTime();
            maxUs = Math.max(maxUs, (t1 - t0) / 1e3);
            if (disk != null && disk.inWrite.get()) {
                duringStalls++;
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
        return new Loop(missed, maxUs, duringStalls);
    }

    private boolean throttledDisk() throws Exception {
        Map<String, Object> action = Map.of("actions", NdArray.ofFloat32(new float[50 * 14], 50, 14));
        Policy local = observation -> action;
        List<Map<String, Object>> observations = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            observations.add(observation(i));
        }
        int steps = throttleSeconds * RATE_HZ;
        // The same loop without recording first: what this machine does to a 50 Hz loop by itself.
        Loop baseline = loop(local, observations, steps, null);
        ThrottledOutput disk = new ThrottledOutput(diskMbPerSecond * 1e6);
        Recorder recorder = Recorder.builder(disk).compression(ChunkCompression.NONE).build();
        Loop recorded = loop(new RecordingPolicy(local, recorder), observations, steps, disk);
        RecorderStats before = recorder.stats();
        Thread closer = new Thread(recorder::close);
        closer.setDaemon(true);
        closer.start(); // the queued remainder drains at disk speed; the loop's figures do not wait for it
        System.out.println();
        System.out.printf(Locale.ROOT, "throttled disk (%.1f MB/s; the loop makes ~%.0f MB/s): %d steps at %d Hz, a local policy%n",
                diskMbPerSecond, 0.6 * RATE_HZ, steps, RATE_HZ);
        System.out.printf(Locale.ROOT, "  exchanges recorded %d, dropped %d (%.1f %%), steps taken while the writer was stuck in a write: %d%n",
                before.exchangesRecorded(), before.exchangesDropped(), 100.0 * before.exchangesDropped() / steps,
                recorded.duringStalls());
        System.out.printf(Locale.ROOT, "  missed deadlines: %d recording, %d without recording (same loop, just before); slowest step %.0f us vs %.0f us%n",
                recorded.missed(), baseline.missed(), recorded.maxUs(), baseline.maxUs());
        boolean ok = before.exchangesDropped() > 0 && before.exchangesRecorded() + before.exchangesDropped() == steps
                && recorded.duringStalls() > 0;
        System.out.println(ok ? "  checks passed: drops counted, every step accounted for, the loop stepped on while the disk stalled"
                : "  CHECKS FAILED: expected drops > 0, recorded + dropped = steps, steps during stalled writes > 0");
        return ok;
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
