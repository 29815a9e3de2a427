package org.webpolicy.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.opencv.opencv_videoio.VideoWriter;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.Histogram;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.camera.Camera;
import org.webpolicy.camera.CameraGroup;
import org.webpolicy.camera.CameraSource;
import org.webpolicy.camera.Frame;
import org.webpolicy.camera.FrameConverter;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * The camera pipeline benchmark (scripts/bench_pipeline): per-step image work native vs Java in
 * one run, bytes on the wire raw vs JPEG vs PNG with their transfer times at 50 Mbit/s, 300 Mbit/s
 * and 1 Gbit/s, and capture-to-send latency through real cameras (three 480x640 MJPG files played
 * at 30 Hz). Writes a table to stdout and a PNG plot (latency histogram, stacked stage times).
 */
public final class PipelineBenchTable {

    private static final double[] LINKS_MBIT = {50, 300, 1000};

    private PipelineBenchTable() {
    }

    /** Camera-like content: gradients, a few hard-edged boxes, mild noise (BGR or RGB alike). */
    static byte[] cameraLike(Random rng, int h, int w) {
        byte[] b = new byte[h * w * 3];
        int cx = rng.nextInt(w);
        int cy = rng.nextInt(h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean box = Math.abs(x - cx) < w / 6 && Math.abs(y - cy) < h / 5;
                int i = (y * w + x) * 3;
                int n = rng.nextInt(5) - 2;
                b[i] = (byte) clamp((box ? 200 : x * 255 / w) + n);
                b[i + 1] = (byte) clamp((box ? 40 : y * 255 / h) + n);
                b[i + 2] = (byte) clamp((box ? 60 : 128 + (int) (60 * Math.sin(x / 17.0 + y / 23.0))) + n);
            }
        }
        return b;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static NdArray directFrame(byte[] bytes, int h, int w) {
        ByteBuffer d = ByteBuffer.allocateDirect(bytes.length);
        d.put(bytes).flip();
        return NdArray.wrap(DType.UINT8, Shape.of(h, w, 3), d);
    }

    public static void main(String[] args) throws Exception {
        NativeLibrary.requireLoaded();
        Path plot = Path.of(args.length > 0 ? args[0] : "target/pipeline.png");
        Random rng = new Random(42);
        FrameConverter toChw = new FrameConverter(224, 224, FrameConverter.Layout.CHW);

        // ---- A: the per-step image work, three 480x640 BGR frames in direct memory (as OpenCV's)
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            frames.add(new Frame("cam" + i, 1, System.nanoTime(), directFrame(cameraLike(rng, 480, 640), 480, 640)));
        }
        System.out.println("A. Image work per step: 3 cameras 480x640 BGR -> RGB CHW 224x224 (resizeWithPad), one thread");
        System.out.printf(Locale.ROOT, "%-34s %9s %10s %8s%n", "case", "Java ms", "native ms", "J/N");
        double oneJ = ImageBenchTable.medianMs("off", () -> toChw.convert(frames.get(0)));
        double oneN = ImageBenchTable.medianMs("on", () -> toChw.convert(frames.get(0)));
        System.out.printf(Locale.ROOT, "%-34s %9.3f %10.3f %7.1fx%n", "per camera", oneJ, oneN, oneJ / oneN);
        Runnable step = () -> frames.forEach(toChw::convert);
        double stepJ = ImageBenchTable.medianMs("off", () -> {
            step.run();
            return null;
        });
        double stepN = ImageBenchTable.medianMs("on", () -> {
            step.run();
            return null;
        });
        System.out.printf(Locale.ROOT, "%-34s %9.3f %10.3f %7.1fx%n", "per step (3 cameras)", stepJ, stepN, stepJ / stepN);
        System.out.println();

        // ---- B: bytes on the wire for the 4-camera ALOHA observation, 3x224x224 each
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : List.of("cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist")) {
            NdArray hwc = NdArray.ofUint8(cameraLike(rng, 224, 224), 224, 224, 3);
            images.put(cam, org.webpolicy.image.ImageLayout.hwcToChw(hwc));
        }
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("images", images);
        obs.put("state", NdArray.ofFloat64(new double[14], 14));
        MsgpackCodec codec = new MsgpackCodec();
        System.out.println("B. Bytes per step, 4-camera ALOHA observation (4 x 3x224x224 uint8 + state), and transfer time");
        System.out.printf(Locale.ROOT, "%-10s %9s %7s %10s %10s %8s %9s %9s%n", "codec", "bytes", "ratio", "encode ms",
                "decode ms", "50 Mb/s", "300 Mb/s", "1 Gb/s");
        int rawBytes = codec.pack(obs).length;
        double[] saved = new double[2];
        int row = 0;
        for (ImageCodec c : List.of(ImageCodec.RAW, ImageCodec.jpeg(90), ImageCodec.PNG)) {
            byte[] packed = codec.pack(ImageCompression.compress(obs, c));
            double enc = ImageBenchTable.medianMs("on", () -> codec.pack(ImageCompression.compress(obs, c)));
            @SuppressWarnings("unchecked")
            double dec = ImageBenchTable.medianMs("on",
                    () -> ImageCompression.decompress((Map<String, Object>) codec.unpack(packed)));
            StringBuilder link = new StringBuilder();
            for (double mbit : LINKS_MBIT) {
                link.append(String.format(Locale.ROOT, " %8.2f", packed.length * 8 / (mbit * 1e3)));
            }
            System.out.printf(Locale.ROOT, "%-10s %9d %6.1fx %10.3f %10.3f%s  (ms)%n", c, packed.length,
                    (double) rawBytes / packed.length, enc, dec, link);
            if (row == 0) {
                saved[0] = enc + dec;
            } else if (row == 1) {
                double codecMs = enc + dec - saved[0];
                double savedBits = (rawBytes - packed.length) * 8.0;
                System.out.printf(Locale.ROOT, "  JPEG q90 pays off below %.0f Mbit/s (its %.2f ms of encode+decode beyond raw"
                        + " packing equals the transfer time it saves there)%n", savedBits / (codecMs * 1e3), codecMs);
            }
            row++;
        }
        System.out.println();

        // ---- C: capture-to-send latency through real cameras
        Path dir = Files.createTempDirectory("webpolicy-pipeline");
        Map<String, CameraSource> sources = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            sources.put("cam" + i, CameraSource.file(writeVideo(dir.resolve("cam" + i + ".avi"), rng, 240)));
        }
        System.out.println("C. Capture to send: 3 cameras (480x640 MJPG files at 30 Hz) -> RGB CHW 224 -> JPEG q90 -> msgpack");
        System.out.printf(Locale.ROOT, "%-7s %6s %11s %11s %11s %11s %11s %9s%n", "path", "steps", "convert ms",
                "jpeg ms", "pack ms", "latency p50", "latency p99", "skew p50");
        CategoryChart stages = new CategoryChartBuilder().width(900).height(420)
                .title("Per-step stages, mean ms (3 cameras)").xAxisTitle("path").yAxisTitle("ms").build();
        stages.getStyler().setStacked(true);
        CategoryChart histogram = new CategoryChartBuilder().width(900).height(420)
                .title("Capture-to-send latency (oldest frame of the step to message packed), ms; last bin: p99 and beyond").xAxisTitle("ms").yAxisTitle("steps").build();
        List<String> paths = List.of("java", "native");
        double[][] stageMeans = new double[3][2];
        List<List<Double>> latencies = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            System.setProperty(NativeLibrary.PROPERTY, p == 0 ? "off" : "on");
            List<Double> latency = new ArrayList<>();
            List<Double> skew = new ArrayList<>();
            double[] sums = new double[3];
            int steps = 0;
            try (CameraGroup group = CameraGroup.open(sources, Camera.Options.DEFAULT)) {
                for (int s = 0; s < 150; s++) {
                    CameraGroup.Step st;
                    try {
                        st = group.next(Duration.ofSeconds(5));
                    } catch (org.webpolicy.camera.CameraException end) {
                        break;
                    }
                    long t0 = System.nanoTime();
                    Map<String, NdArray> arrays = toChw.convert(st);
                    long t1 = System.nanoTime();
                    Map<String, Object> o = ImageCompression.compress(Map.of("images", new LinkedHashMap<>(arrays)),
                            ImageCodec.jpeg(90));
                    long t2 = System.nanoTime();
                    codec.pack(o);
                    long t3 = System.nanoTime();
                    long oldest = st.frames().values().stream().mapToLong(Frame::captureNanos).min().orElseThrow();
                    if (s >= 10) { // after warm-up
                        sums[0] += (t1 - t0) / 1e6;
                        sums[1] += (t2 - t1) / 1e6;
                        sums[2] += (t3 - t2) / 1e6;
                        latency.add((t3 - oldest) / 1e6);
                        skew.add(st.skewNanos() / 1e6);
                        steps++;
                    }
                }
            }
            for (int k = 0; k < 3; k++) {
                stageMeans[k][p] = sums[k] / Math.max(1, steps);
            }
            System.out.printf(Locale.ROOT, "%-7s %6d %11.3f %11.3f %11.3f %11.3f %11.3f %9.3f%n", paths.get(p), steps,
                    stageMeans[0][p], stageMeans[1][p], stageMeans[2][p], pct(latency, 50), pct(latency, 99), pct(skew, 50));
            latencies.add(latency);
        }
        // Common bins up to the larger p99 (the rare stalls beyond it are in the table's p99).
        double top = Math.max(1, Math.max(pct(latencies.get(0), 99), pct(latencies.get(1), 99)));
        for (int p = 0; p < 2; p++) {
            List<Double> clipped = latencies.get(p).stream().map(v -> Math.min(v, top)).toList();
            Histogram h = new Histogram(clipped, 20, 0, top);
            histogram.addSeries(paths.get(p), h.getxAxisData(), h.getyAxisData());
        }
        String[] names = {"convert+resize", "JPEG encode", "msgpack pack"};
        for (int k = 0; k < 3; k++) {
            stages.addSeries(names[k], paths, List.of(stageMeans[k][0], stageMeans[k][1]));
        }
        histogram.getStyler().setXAxisDecimalPattern("0.0");
        histogram.getStyler().setXAxisLabelRotation(45);
        Files.createDirectories(plot.toAbsolutePath().getParent());
        String base = plot.toString().replaceFirst("\\.png$", "");
        BitmapEncoder.saveBitmap(stages, base + "-stages", BitmapEncoder.BitmapFormat.PNG);
        BitmapEncoder.saveBitmap(histogram, base + "-latency", BitmapEncoder.BitmapFormat.PNG);
        System.out.println("plots: " + base + "-stages.png, " + base + "-latency.png; cores: "
                + Runtime.getRuntime().availableProcessors());
    }

    private static double pct(List<Double> xs, int p) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1 < 0 ? 0
                : (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    private static Path writeVideo(Path file, Random rng, int frames) throws IOException {
        VideoWriter writer = new VideoWriter(file.toString(), VideoWriter.fourcc((byte) 'M', (byte) 'J', (byte) 'P',
                (byte) 'G'), 30.0, new Size(640, 480), true);
        if (!writer.isOpened()) {
            throw new IOException("VideoWriter cannot write MJPG/AVI to " + file);
        }
        byte[] base = cameraLike(rng, 480, 640);
        for (int n = 0; n < frames; n++) {
            Mat m = new Mat(480, 640, org.bytedeco.opencv.global.opencv_core.CV_8UC3);
            byte[] px = base.clone();
            for (int i = 0; i < 640 * 3 * 8; i++) { // a moving band: every frame differs
                px[(n % 60) * 640 * 3 * 8 / 8 + i] = (byte) 255;
            }
            m.data().put(px);
            writer.write(m);
            m.close();
        }
        writer.release();
        writer.close();
        return file;
    }
}
