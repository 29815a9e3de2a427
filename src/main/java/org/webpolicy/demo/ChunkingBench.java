package org.webpolicy.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.webpolicy.array.NdArray;
import org.webpolicy.broker.ActionChunkBroker;
import org.webpolicy.broker.AsyncActionChunkBroker;
import org.webpolicy.broker.ChunkScheduler;
import org.webpolicy.broker.ChunkSchedulerStats;
import org.webpolicy.policy.Policy;
import org.webpolicy.runtime.MotionMeter;

/**
 * The chunking benchmark: a {@link SecondOrderPlant} (6 joints, 5 Hz servo) tracks the actions of
 * a {@link TrajectoryPolicy} (chunks of 50, 25 used) at 50 Hz, in real time, for each inference
 * time and each way of turning chunks into actions: openpi's synchronous broker, the async broker
 * (threshold 10), and the chunk scheduler with the policy ignoring and honouring the
 * continuation. It prints tracking error RMS, the largest seam jump against the median in-chunk
 * step, jerk RMS, waits and backward-motion events, and draws joint 0 around a seam per mode.
 *
 * <p>Real time, in one process: the policy sleeps its inference time on the broker's thread, the
 * loop sleeps to each 20 ms deadline, and a tick whose call returned late moves the plant with the
 * old command for the slots it missed, as a robot waiting for its policy does.
 *
 * <p>{@code java ... org.webpolicy.demo.ChunkingBench [--seconds 8] [--inference 20,60,120,250]
 * [--plots DIR] [--plot-inference 120,250]} (see {@code scripts/bench_chunking}).
 */
public final class ChunkingBench {

    static final double HZ = 50;
    static final int HORIZON = 25;
    static final int JOINTS = 6;

    /** The ways of turning chunks into actions compared. */
    public enum Mode {
        /** openpi's synchronous broker, 25 of 50 steps. */
        SYNC("sync broker"),
        /** The async broker, 25 of 50 steps, threshold 10. */
        ASYNC("async broker"),
        /** The scheduler; the policy ignores the continuation. */
        SCHEDULER_IGNORED("scheduler, continuation ignored"),
        /** The scheduler; the policy honours the continuation. */
        SCHEDULER_HONOURED("scheduler, continuation honoured");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    /**
     * One run's figures and its joint-0 trace (one sample per 20 ms slot).
     *
     * @param mode the broker mode
     * @param inferenceMs the mean inference time
     * @param trackingRms plant position against the reference, RMS over joints and slots after the first second
     * @param motion seams, largest jump, median in-chunk step, backward events of the commanded actions
     * @param jerkRms the plant's jerk, RMS (joint units / s^3)
     * @param waits calls after the first that waited for a chunk, plus runs of holds
     * @param lostTicks slots after the first at which no new action was commanded
     * @param position joint 0 of the plant per slot
     * @param command joint 0 commanded per slot
     * @param reference joint 0 of the reference per slot
     * @param seamSlots the slots at which a new chunk's first action was commanded
     */
    public record Result(Mode mode, int inferenceMs, double trackingRms, MotionMeter.Figures motion, double jerkRms,
            long waits, long lostTicks, double[] position, double[] command, double[] reference, List<Integer> seamSlots) {
    }

    private ChunkingBench() {
    }

    /**
     * Runs every mode at every inference time, prints the table, draws the plots.
     *
     * @param args {@code --seconds N}, {@code --inference a,b,c}, {@code --plots DIR}, {@code --plot-inference MS}
     * @throws IOException when a plot cannot be written
     */
    public static void main(String[] args) throws IOException {
        double seconds = 8;
        int[] inference = {20, 60, 120, 250};
        Path plots = null;
        java.util.Set<Integer> plotInference = java.util.Set.of(120, 250);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--inference" -> inference = java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--plots" -> plots = Path.of(args[++i]);
                case "--plot-inference" -> plotInference = java.util.Arrays.stream(args[++i].split(","))
                        .map(Integer::valueOf).collect(java.util.stream.Collectors.toSet());
                default -> throw new IllegalArgumentException("Unknown argument " + args[i]
                        + "; use --seconds N, --inference 20,60,120,250, --plots DIR, --plot-inference MS");
            }
        }
        run(Mode.SCHEDULER_HONOURED, 20, 2, 1); // warm-up: the JIT, not measured
        System.out.printf(Locale.ROOT, "%d s per run at %.0f Hz, chunk %d (%d used), %d joints, real time%n%n", (int) seconds,
                HZ, TrajectoryPolicy.CHUNK, HORIZON, JOINTS);
        System.out.println("| inference | mode | tracking RMS | max seam jump / median step | jerk RMS | waits (ticks lost) | backward |");
        System.out.println("|---|---|---|---|---|---|---|");
        Map<Integer, List<Result>> toPlot = new java.util.TreeMap<>();
        for (int ms : inference) {
            for (Mode mode : Mode.values()) {
                Result r = run(mode, ms, seconds, 42 + ms);
                System.out.printf(Locale.ROOT, "| %d ms | %s | %.4f | %.4f / %.4f = %.1fx | %.1f | %d (%d) | %d |%n", ms,
                        mode.label, r.trackingRms(), r.motion().maxSeamJump(), r.motion().medianInChunkStep(),
                        r.motion().jumpRatio(), r.jerkRms(), r.waits(), r.lostTicks(), r.motion().backwardEvents());
                if (plotInference.contains(ms)) {
                    toPlot.computeIfAbsent(ms, k -> new ArrayList<>()).add(r);
                }
            }
        }
        if (plots != null && !toPlot.isEmpty()) {
            Files.createDirectories(plots);
            System.out.println();
            for (Map.Entry<Integer, List<Result>> e : toPlot.entrySet()) {
                Path file = plots.resolve("seams-" + e.getKey() + "ms.png");
                SeamPlot.write(e.getValue(), HZ, file);
                System.out.println("plot: " + file);
            }
        }
    }

    /**
     * One run.
     *
     * @param mode the broker mode
     * @param inferenceMs the policy's mean inference time
     * @param seconds how long the robot runs
     * @param seed the policy's random seed
     * @return the figures and traces
     */
    public static Result run(Mode mode, int inferenceMs, double seconds, long seed) {
        ReferenceTrajectory reference = new ReferenceTrajectory(JOINTS);
        TrajectoryPolicy model = new TrajectoryPolicy(reference, HZ, Duration.ofMillis(inferenceMs),
                mode == Mode.SCHEDULER_HONOURED, 0.03, 0.001, seed);
        Policy broker = switch (mode) {
            case SYNC -> ActionChunkBroker.builder(model, HORIZON).build();
            case ASYNC -> AsyncActionChunkBroker.builder(model, HORIZON).threshold(10).build();
            case SCHEDULER_IGNORED, SCHEDULER_HONOURED -> ChunkScheduler.builder(model, HZ).build();
        };
        int slots = (int) Math.round(seconds * HZ);
        double dt = 1 / HZ;
        long period = Math.round(1e9 / HZ);
        SecondOrderPlant plant = new SecondOrderPlant(reference.at(0), 5, 0.7);
        double[][] positions = new double[slots][];
        double[] position0 = new double[slots];
        double[] command0 = new double[slots];
        double[] reference0 = new double[slots];
        List<Integer> seamSlots = new ArrayList<>();
        MotionMeter meter = new MotionMeter();
        double[] command = reference.at(0);
        double[] lastCommanded = null;
        long lastChunk = Long.MIN_VALUE;
        long lost = 0;
        boolean firstCall = true;
        try (broker) {
            long start = System.nanoTime();
            int slot = 0;
            while (slot < slots) {
                sleepUntil(start + slot * period);
                Map<String, Object> observation = Map.of("state", NdArray.ofFloat64(plant.position(), JOINTS),
                        "time", slot * dt);
                Map<String, Object> action = broker.step(observation);
                int due = (int) ((System.nanoTime() - start) / period); // the slot the call returned in
                for (; slot < Math.min(due, slots); slot++) { // slots that passed with the old command
                    record(plant, command, reference, slot, dt, positions, position0, command0, reference0);
                    if (!firstCall) {
                        lost++;
                    }
                }
                firstCall = false;
                if (slot >= slots) {
                    break;
                }
                double[] values = ((NdArray) action.get("actions")).toDoubleArray();
                long chunk = ((NdArray) action.get("chunk_id")).getLong(0);
                boolean repeated = lastCommanded != null && java.util.Arrays.equals(values, lastCommanded);
                if (repeated) {
                    lost++;
                } else {
                    boolean seam = lastChunk != Long.MIN_VALUE && chunk != lastChunk;
                    if (seam) {
                        seamSlots.add(slot);
                    }
                    meter.add(values, seam);
                }
                lastCommanded = values;
                lastChunk = chunk;
                command = values;
                record(plant, command, reference, slot, dt, positions, position0, command0, reference0);
                slot++;
            }
            long waits = switch (mode) {
                case SYNC -> ((ActionChunkBroker) broker).chunksRequested() - 1;
                case ASYNC -> ((AsyncActionChunkBroker) broker).waits() - 1;
                default -> {
                    ChunkSchedulerStats st = ((ChunkScheduler) broker).stats();
                    if (Boolean.getBoolean("bench.verbose")) { // -Dbench.verbose=true: the scheduler's own figures
                        System.err.println(mode + " " + inferenceMs + " ms: " + st);
                    }
                    yield st.waits() - 1 + st.holdEpisodes();
                }
            };
            return new Result(mode, inferenceMs, trackingRms(positions, reference, dt), meter.figures(),
                    jerkRms(positions, dt), waits, lost, position0, command0, reference0, seamSlots);
        }
    }

    private static void record(SecondOrderPlant plant, double[] command, ReferenceTrajectory reference, int slot,
            double dt, double[][] positions, double[] position0, double[] command0, double[] reference0) {
        plant.advance(command, dt);
        positions[slot] = plant.position();
        position0[slot] = positions[slot][0];
        command0[slot] = command[0];
        reference0[slot] = reference.at((slot + 1) * dt)[0];
    }

    /** RMS of plant minus reference over joints and the slots after the first second. */
    static double trackingRms(double[][] positions, ReferenceTrajectory reference, double dt) {
        double sum = 0;
        long n = 0;
        for (int s = (int) Math.round(1 / dt); s < positions.length; s++) {
            double[] r = reference.at((s + 1) * dt);
            for (int j = 0; j < r.length; j++) {
                double e = positions[s][j] - r[j];
                sum += e * e;
                n++;
            }
        }
        return n == 0 ? 0 : Math.sqrt(sum / n);
    }

    /** RMS of the third difference of the plant's position over dt^3. */
    static double jerkRms(double[][] positions, double dt) {
        double sum = 0;
        long n = 0;
        for (int s = 3; s < positions.length; s++) {
            for (int j = 0; j < positions[s].length; j++) {
                double jerk = (positions[s][j] - 3 * positions[s - 1][j] + 3 * positions[s - 2][j] - positions[s - 3][j])
                        / (dt * dt * dt);
                sum += jerk * jerk;
                n++;
            }
        }
        return n == 0 ? 0 : Math.sqrt(sum / n);
    }

    private static void sleepUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
