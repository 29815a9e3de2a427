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
 * against the JDK codec in the same run (scripts/bench_image jpeg): rounds alternate between the
 * two, so both meet the same machine load, and each prints the median and p99 per step and the
 * ratio. Goes through the public {@link ImageCompression} calls, as the transport does.
 *
 * <p>Arguments: [rounds (default 10)] [steps per round and codec (default 200)].
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

    /** Encode, decode and both of every step of one codec, in milliseconds. */
    private static final class Times {
        final List<Double> encode = new ArrayList<>();
        final List<Double> decode = new ArrayList<>();
        final List<Double> both = new ArrayList<>();
        long bytes;
        long steps;
    }

    private static void run(String mode, Map<String, Object> step, int steps, Times into) {
        System.setProperty(NativeLibrary.PROPERTY, mode);
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            Map<String, Object> packed = ImageCompression.compress(step, ImageCodec.jpeg(90));
            long t1 = System.nanoTime();
            Map<String, Object> back = ImageCompression.decompress(packed);
            long t2 = System.nanoTime();
            if (back.size() != step.size()) {
                throw new AssertionError("decoded " + back.size() + " values of " + step.size());
            }
            if (into != null) {
                into.encode.add((t1 - t0) / 1e6);
                into.decode.add((t2 - t1) / 1e6);
                into.both.add((t2 - t0) / 1e6);
                for (Object v : packed.values()) {
                    into.bytes += ((byte[]) ((Map<?, ?>) v).get("data")).length;
                }
                into.steps++;
            }
        }
    }

    private static double quantile(List<Double> values, double q) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        NativeLibrary.requireLoaded();
        Map<String, Object> step = new LinkedHashMap<>();
        Random rng = new Random(42);
        for (int c = 0; c < CAMERAS; c++) {
            step.put("cam" + c, camera(rng));
        }
        System.setProperty(NativeLibrary.PROPERTY, "on");
        String nativeName = ImageCompression.jpegCodecName();
        if (!nativeName.equals("libjpeg-turbo")) {
            throw new IllegalStateException("the native library has no JPEG codec (built without libjpeg-turbo:"
                    + " bash scripts/jpeg_setup, then rebuild)");
        }
        // Warm-up: both paths compiled before anything is timed.
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            run("on", step, 20, null);
            run("off", step, 20, null);
        }
        Times jdk = new Times();
        Times nat = new Times();
        for (int r = 0; r < rounds; r++) {
            boolean nativeFirst = r % 2 == 0;
            run(nativeFirst ? "on" : "off", step, steps, nativeFirst ? nat : jdk);
            run(nativeFirst ? "off" : "on", step, steps, nativeFirst ? jdk : nat);
        }
        System.setProperty(NativeLibrary.PROPERTY, "auto");
        System.out.printf(Locale.ROOT, "JPEG q90, %d cameras %dx%dx3 per step, %d rounds x %d steps per codec, alternating;"
                + " %s, %d cores%n", CAMERAS, SIDE, SIDE, rounds, steps, NativeLibrary.describe(),
                Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "| %-14s | %-16s | %-16s | %-16s | %-11s |%n", "codec", "encode p50 / p99",
                "decode p50 / p99", "both p50 / p99", "bytes/step");
        System.out.println("|----------------|------------------|------------------|------------------|-------------|");
        for (Object[] row : new Object[][] {{"javax.imageio", jdk}, {nativeName, nat}}) {
            Times t = (Times) row[1];
            System.out.printf(Locale.ROOT, "| %-14s | %6.3f / %6.3f  | %6.3f / %6.3f  | %6.3f / %6.3f  | %11d |%n", row[0],
                    quantile(t.encode, 0.5), quantile(t.encode, 0.99), quantile(t.decode, 0.5), quantile(t.decode, 0.99),
                    quantile(t.both, 0.5), quantile(t.both, 0.99), t.bytes / t.steps);
        }
        System.out.printf(Locale.ROOT, "JDK / libjpeg-turbo: encode %.1fx, decode %.1fx, both %.1fx (medians); both %.1fx (p99)%n",
                quantile(jdk.encode, 0.5) / quantile(nat.encode, 0.5), quantile(jdk.decode, 0.5) / quantile(nat.decode, 0.5),
                quantile(jdk.both, 0.5) / quantile(nat.both, 0.5), quantile(jdk.both, 0.99) / quantile(nat.both, 0.99));
    }
}
