package org.webpolicy.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.webpolicy.array.NdArray;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * JPEG q90 encode and decode of one 4-camera step (four 224x224 RGB cameras), libjpeg-turbo
 * against the JDK codec in the same run (scripts/bench_image jpeg), each with the cameras coded on
 * the calling thread alone and side by side (the library's default): rounds rotate between the
 * four, so all meet the same machine load, and each prints the best, median and p99 wall time
 * per step, the process CPU time per step, and the ratios. Goes through the public
 * {@link ImageCompression} calls, as the transport does.
 *
 * <p>Arguments: [rounds (default 10)] [steps per round and codec (default 200)]; or
 * {@code --write-cameras FILE}, which writes the four cameras' pixels (HWC, one after the other)
 * for the C++ floor (native/bench/jpeg_floor.cpp) to code the same content.
 */
public final class JpegBenchTable {

    private static final int CAMERAS = 4;
    private static final int SIDE = 224;

    private JpegBenchTable() {
    }

    /** Camera-like content: gradients, a hard-edged box, mild noise; different per camera. */
    static NdArray camera(Random rng) {
        byte[] b = new byte[SIDE * SIDE * 3];
        int cx = rng.nextInt(SIDE);
        int cy = rng.nextInt(SIDE);
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                boolean box = Math.abs(x - cx) < SIDE / 6 && Math.abs(y - cy) < SIDE / 5;
                int i = (y * SIDE + x) * 3;
                int noise = rng.nextInt(5) - 2;
                b[i] = (byte) clamp((box ? 200 : x * 255 / SIDE) + noise);
                b[i + 1] = (byte) clamp((box ? 40 : y * 255 / SIDE) + noise);
                b[i + 2] = (byte) clamp((box ? 60 : 128 + (int) (60 * Math.sin(x / 17.0 + y / 23.0))) + noise);
            }
        }
        return NdArray.ofUint8(b, SIDE, SIDE, 3);
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /** Encode, decode and both of every step of one configuration, in milliseconds, and the CPU it took. */
    private static final class Times {
        final String name;
        final String nativeMode;
        final boolean parallel;
        final List<Double> encode = new ArrayList<>();
        final List<Double> decode = new ArrayList<>();
        final List<Double> both = new ArrayList<>();
        /** The calling thread's CPU time per step: what other processes' load does not add to. */
        final List<Double> callerCpu = new ArrayList<>();
        long bytes;
        long steps;
        long cpuNanos;

        Times(String name, String nativeMode, boolean parallel) {
            this.name = name;
            this.nativeMode = nativeMode;
            this.parallel = parallel;
        }
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private static void run(Times config, Map<String, Object> step, int steps, boolean record) {
        System.setProperty(NativeLibrary.PROPERTY, config.nativeMode);
        System.setProperty(PARALLEL, Boolean.toString(config.parallel));
        long cpu0 = OS.getProcessCpuTime();
        for (int i = 0; i < steps; i++) {
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            Map<String, Object> packed = ImageCompression.compress(step, ImageCodec.jpeg(90));
            long t1 = System.nanoTime();
            Map<String, Object> back = ImageCompression.decompress(packed);
            long t2 = System.nanoTime();
            long c2 = THREADS.getCurrentThreadCpuTime();
            if (back.size() != step.size()) {
                throw new AssertionError("decoded " + back.size() + " values of " + step.size());
            }
            if (record) {
                config.encode.add((t1 - t0) / 1e6);
                config.decode.add((t2 - t1) / 1e6);
                config.both.add((t2 - t0) / 1e6);
                config.callerCpu.add((c2 - c0) / 1e6);
                for (Object v : packed.values()) {
                    config.bytes += ((byte[]) ((Map<?, ?>) v).get("data")).length;
                }
                config.steps++;
            }
        }
        if (record) {
            config.cpuNanos += OS.getProcessCpuTime() - cpu0;
        }
    }

    /** The library's switch for its image helpers (ImageFanOut.PROPERTY). */
    private static final String PARALLEL = "webpolicy.image.parallel";

    private static double quantile(List<Double> values, double q) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return q == 0 ? sorted[0] : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** The step's cameras, the same every run. */
    private static Map<String, Object> cameras() {
        Map<String, Object> step = new LinkedHashMap<>();
        Random rng = new Random(42);
        for (int c = 0; c < CAMERAS; c++) {
            step.put("cam" + c, camera(rng));
        }
        return step;
    }

    public static void main(String[] args) throws java.io.IOException {
        if (args.length == 2 && args[0].equals("--write-cameras")) {
            try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(java.nio.file.Path.of(args[1]))) {
                for (Object camera : cameras().values()) {
                    java.nio.ByteBuffer pixels = ((NdArray) camera).data();
                    byte[] bytes = new byte[pixels.remaining()];
                    pixels.get(bytes);
                    out.write(bytes);
                }
            }
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        NativeLibrary.requireLoaded();
        Map<String, Object> step = cameras();
        System.setProperty(NativeLibrary.PROPERTY, "on");
        String nativeName = ImageCompression.jpegCodecName();
        if (!nativeName.equals("libjpeg-turbo")) {
            throw new IllegalStateException("the native library has no JPEG codec (built without libjpeg-turbo:"
                    + " bash scripts/jpeg_setup, then rebuild)");
        }
        List<Times> configs = List.of(new Times("javax.imageio, 1 thread", "off", false),
                new Times("javax.imageio, parallel", "off", true),
                new Times(nativeName + ", 1 thread", "on", false),
                new Times(nativeName + ", parallel", "on", true));
        // Warm-up: every path compiled before anything is timed.
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            for (Times t : configs) {
                run(t, step, 20, false);
            }
        }
        for (int r = 0; r < rounds; r++) {
            // Rotate the order every round, so every configuration meets the same machine load.
            for (int k = 0; k < configs.size(); k++) {
                run(configs.get((r + k) % configs.size()), step, steps, true);
            }
        }
        System.setProperty(NativeLibrary.PROPERTY, "auto");
        System.clearProperty(PARALLEL);
        System.out.printf(Locale.ROOT, "JPEG q90, %d cameras %dx%dx3 per step, %d rounds x %d steps per configuration,"
                + " rotating; %s, %d cores%n", CAMERAS, SIDE, SIDE, rounds, steps, NativeLibrary.describe(),
                Runtime.getRuntime().availableProcessors());
        System.out.println("Wall time per step in ms (best / p50 / p99); CPU: the process's CPU time per step"
                + " (every thread: caller, helpers, JIT, GC), ms; caller CPU: the calling thread's own CPU time per"
                + " step, ms (best / p50 / p99; on one thread, the figure other processes' load adds least to)");
        System.out.printf(Locale.ROOT, "| %-26s | %-22s | %-22s | %-22s | %-7s | %-22s | %-10s |%n", "codec",
                "encode best/p50/p99", "decode best/p50/p99", "both best/p50/p99", "CPU", "caller CPU best/p50/p99",
                "bytes/step");
        System.out.println("|----------------------------|------------------------|------------------------|"
                + "------------------------|---------|------------------------|------------|");
        for (Times t : configs) {
            System.out.printf(Locale.ROOT, "| %-26s | %s | %s | %s | %7.3f | %s | %10d |%n", t.name, cell(t.encode),
                    cell(t.decode), cell(t.both), t.cpuNanos / 1e6 / t.steps, cell(t.callerCpu), t.bytes / t.steps);
        }
        Times jdk1 = configs.get(0);
        Times jdkN = configs.get(1);
        Times nat1 = configs.get(2);
        Times natN = configs.get(3);
        System.out.printf(Locale.ROOT, "JDK / libjpeg-turbo, both, 1 thread: %.1fx (p50), %.1fx (p99); parallel: %.1fx (p50),"
                + " %.1fx (p99)%n", ratio(jdk1, nat1, 0.5), ratio(jdk1, nat1, 0.99), ratio(jdkN, natN, 0.5),
                ratio(jdkN, natN, 0.99));
        System.out.printf(Locale.ROOT, "libjpeg-turbo 1 thread / parallel, both: wall %.2fx (p50), CPU %.2fx%n",
                ratio(nat1, natN, 0.5), (double) natN.cpuNanos / natN.steps / ((double) nat1.cpuNanos / nat1.steps));
    }

    private static String cell(List<Double> values) {
        return String.format(Locale.ROOT, "%6.3f %6.3f %6.3f", quantile(values, 0), quantile(values, 0.5), quantile(values, 0.99));
    }

    private static double ratio(Times a, Times b, double q) {
        return quantile(a.both, q) / quantile(b.both, q);
    }
}
