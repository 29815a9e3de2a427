package org.webpolicy.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.ApproximateFilter;
import org.webpolicy.image.ImageTools;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * One-command image benchmark (scripts/bench_image): the median of repeated runs after a
 * warm-up, Java and native side by side, and how far OpenCV's approximate mode is from Pillow.
 * A quick table for humans; {@link ImageBench} is the careful JMH version.
 */
public final class ImageBenchTable {

    private ImageBenchTable() {
    }

    static NdArray noise(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        byte[] b = new byte[(int) n];
        new Random(42).nextBytes(b);
        return NdArray.ofUint8(b, shape);
    }

    /** A smooth synthetic "photo": where resize filters differ least. */
    static NdArray smooth(int h, int w) {
        byte[] b = new byte[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    b[(y * w + x) * 3 + c] = (byte) (int) (127.5 + 120 * Math.sin(x / 37.0 + c) * Math.cos(y / 23.0));
                }
            }
        }
        return NdArray.ofUint8(b, h, w, 3);
    }

    static NdArray unitFloats(int n) {
        float[] f = new float[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            f[i] = r.nextFloat();
        }
        return NdArray.ofFloat32(f, n / 3 / 640, 640, 3);
    }

    /** Median milliseconds of {@code op} under {@code webpolicy.native=mode}. */
    static double medianMs(String mode, Supplier<?> op) {
        System.setProperty(NativeLibrary.PROPERTY, mode);
        long warmEnd = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < warmEnd) {
            op.get();
        }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + 2_000_000_000L;
        while (times.size() < 15 || (System.nanoTime() < end && times.size() < 2000)) {
            long t0 = System.nanoTime();
            op.get();
            times.add((System.nanoTime() - t0) / 1e6);
        }
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    public static void main(String[] args) {
        NativeLibrary.requireLoaded();
        NdArray vga = noise(480, 640, 3);
        NdArray hd = noise(720, 1280, 3);
        NdArray batch4 = noise(4, 480, 640, 3);
        NdArray floats = unitFloats(480 * 640 * 3);
        Object[][] cases = {
            {"resize 480x640x3 -> 224x224", (Supplier<?>) () -> ImageTools.resizeWithPad(vga, 224, 224), 2.1},
            {"resize 720x1280x3 -> 224x224", (Supplier<?>) () -> ImageTools.resizeWithPad(hd, 224, 224), 6.0},
            {"resize batch 4x480x640x3 -> 224", (Supplier<?>) () -> ImageTools.resizeWithPad(batch4, 224, 224), 9.0},
            {"convertToUint8 float32 480x640x3", (Supplier<?>) () -> ImageTools.convertToUint8(floats), Double.NaN},
        };
        System.out.printf(Locale.ROOT, "%-34s %9s %10s %8s %11s %13s %11s%n", "case", "Java ms", "native ms",
                "J/N", "Pillow ms", "Pillow/native", "Pillow/Java");
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Supplier<?> op = (Supplier<?>) c[1];
            double java = medianMs("off", op);
            double nat = medianMs("on", op);
            double pillow = (double) c[2];
            System.out.printf(Locale.ROOT, "%-34s %9.3f %10.3f %7.1fx %11s %13s %11s%n", c[0], java, nat, java / nat,
                    Double.isNaN(pillow) ? "-" : String.format(Locale.ROOT, "%.1f", pillow),
                    Double.isNaN(pillow) ? "-" : String.format(Locale.ROOT, "%.1fx", pillow / nat),
                    Double.isNaN(pillow) ? "-" : String.format(Locale.ROOT, "%.2fx", pillow / java));
        }
        System.out.println();
        // The codec's large-array work has no native path: packing is one bulk copy of the array's
        // bytes, which Java does at memcpy speed; the plain copy is what native code could reach.
        int rows = (64 << 20) / Float.BYTES / (640 * 3); // 64 MiB of float32, in 640x3 rows
        NdArray big = unitFloats(rows * 640 * 3);
        MsgpackCodec codec = new MsgpackCodec();
        byte[] bigBytes = big.toByteArray();
        byte[] copyTarget = new byte[bigBytes.length];
        double packMs = medianMs("off", () -> codec.pack(Map.of("a", big)));
        double copyMs = medianMs("off", () -> {
            System.arraycopy(bigBytes, 0, copyTarget, 0, bigBytes.length);
            return copyTarget;
        });
        System.out.printf(Locale.ROOT, "pack %.0f MB float32: Java %.3f ms; no native path (a plain copy of the same bytes,"
                + " what native code could reach at best: %.3f ms, %.0f%% of it)%n", bigBytes.length / 1e6, packMs, copyMs,
                100 * copyMs / packMs);
        System.out.println();
        System.out.println("OpenCV approximate mode (native), 480x640x3 -> 224x224, vs the Pillow-exact output:");
        System.out.printf(Locale.ROOT, "%-8s %9s %22s %22s%n", "filter", "ms", "max|diff| noise", "max|diff| smooth (mean)");
        NdArray smooth = smooth(480, 640);
        NdArray exactNoise = ImageTools.resizeWithPad(vga, 224, 224);
        NdArray exactSmooth = ImageTools.resizeWithPad(smooth, 224, 224);
        for (ApproximateFilter f : ApproximateFilter.values()) {
            double ms = medianMs("on", () -> ImageTools.resizeWithPadApproximate(vga, 224, 224, f));
            int[] dn = diff(exactNoise, ImageTools.resizeWithPadApproximate(vga, 224, 224, f));
            NdArray s = ImageTools.resizeWithPadApproximate(smooth, 224, 224, f);
            int[] ds = diff(exactSmooth, s);
            System.out.printf(Locale.ROOT, "%-8s %9.3f %22d %15d (%.3f)%n", f, ms, dn[0], ds[0], ds[1] / (double) ds[2]);
        }
        System.out.println("native SIMD level: " + org.webpolicy.internal.nativelib.ImageNative.wp_simd_level()
                + ", cores: " + Runtime.getRuntime().availableProcessors());
    }

    /** {max |a-b|, sum |a-b|, count}. */
    static int[] diff(NdArray a, NdArray b) {
        byte[] x = a.toByteArray();
        byte[] y = b.toByteArray();
        int max = 0;
        int sum = 0;
        for (int i = 0; i < x.length; i++) {
            int d = Math.abs((x[i] & 0xff) - (y[i] & 0xff));
            max = Math.max(max, d);
            sum += d;
        }
        return new int[] {max, sum, x.length};
    }

}
