package org.webpolicy.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.ImageLayout;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyServer;

/**
 * Compressed images on the wire, end to end (scripts/bench_wire_images): the 4-camera ALOHA
 * observation (4 x 3x224x224 uint8 camera-like images, state, prompt) sent raw, as PNG and as
 * JPEG q90 from a {@link PolicyClient} to a {@link PolicyServer} on loopback. Per codec: bytes of
 * the request message, round trip (the codecs take turns in rounds, so drift on a shared machine
 * hits all alike), CPU of the client's encode (compress + pack) and of the server's decode
 * (unpack + decompress) per step, transfer time at 50/300/1000 Mbit/s, and the link speed below
 * which the codec pays for its CPU.
 */
public final class WireImageBenchTable {

    private static final double[] LINKS_MBIT = {50, 300, 1000};
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private WireImageBenchTable() {
    }

    /** The observation openpi's ALOHA client sends, with camera-like content. */
    static Map<String, Object> alohaObservation(Random rng) {
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : List.of("cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist")) {
            images.put(cam, ImageLayout.hwcToChw(NdArray.ofUint8(PipelineBenchTable.cameraLike(rng, 224, 224), 224, 224, 3)));
        }
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("images", images);
        obs.put("state", NdArray.ofFloat64(rng.doubles(14).toArray()));
        obs.put("prompt", "fold the towel");
        return obs;
    }

    /** Median thread CPU milliseconds of {@code op}, after a warm-up. */
    private static double medianCpuMs(Runnable op) {
        for (long end = System.nanoTime() + 1_500_000_000L; System.nanoTime() < end; ) {
            op.run();
        }
        List<Double> ms = new ArrayList<>();
        long end = System.nanoTime() + 3_000_000_000L;
        while (ms.size() < 20 || (System.nanoTime() < end && ms.size() < 2000)) {
            long t0 = CPU.getCurrentThreadCpuTime();
            op.run();
            ms.add((CPU.getCurrentThreadCpuTime() - t0) / 1e6);
        }
        return median(ms);
    }

    private static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[s.length / 2];
    }

    private static double percentile(List<Double> xs, double p) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[Math.min(s.length - 1, (int) (s.length * p))];
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int stepsPerRound = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        Map<String, Object> obs = alohaObservation(new Random(7));
        List<ImageCodec> codecs = List.of(ImageCodec.RAW, ImageCodec.PNG, ImageCodec.jpeg(90));
        MsgpackCodec codec = new MsgpackCodec();

        // CPU per step: the client's compress + pack, the server's unpack + decompress.
        double[] bytes = new double[codecs.size()];
        double[] encodeMs = new double[codecs.size()];
        double[] decodeMs = new double[codecs.size()];
        for (int i = 0; i < codecs.size(); i++) {
            ImageCodec c = codecs.get(i);
            byte[] packed = codec.pack(ImageCompression.compress(obs, c));
            bytes[i] = packed.length;
            encodeMs[i] = medianCpuMs(() -> codec.pack(ImageCompression.compress(obs, c)));
            @SuppressWarnings("unchecked")
            Runnable decode = () -> ImageCompression.decompress((Map<String, Object>) codec.unpack(packed));
            decodeMs[i] = medianCpuMs(decode);
        }

        // Round trips on loopback through the real client and server; the action is a 50x14 chunk.
        Map<String, Object> action = Map.of("actions", NdArray.ofFloat32(new float[50 * 14], 50, 14));
        List<List<Double>> rtt = new ArrayList<>();
        codecs.forEach(c -> rtt.add(new ArrayList<>()));
        try (PolicyServer server = PolicyServer.builder(o -> action).host("127.0.0.1").port(0).build().start()) {
            List<PolicyClient> clients = new ArrayList<>();
            for (ImageCodec c : codecs) {
                PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).imageCodec(c)
                        .connectTimeout(Duration.ofSeconds(10)).build();
                client.connect();
                if (!client.imageCodecInUse().equals(c)) {
                    throw new IllegalStateException("the server did not accept " + c);
                }
                for (int w = 0; w < 100; w++) {
                    client.step(obs);
                }
                clients.add(client);
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < codecs.size(); i++) {
                    PolicyClient client = clients.get(i);
                    for (int s = 0; s < stepsPerRound; s++) {
                        long t0 = System.nanoTime();
                        client.step(obs);
                        rtt.get(i).add((System.nanoTime() - t0) / 1e6);
                    }
                }
            }
            clients.forEach(PolicyClient::close);
        }

        System.out.printf(Locale.ROOT, "4-camera ALOHA observation (4 x 3x224x224 uint8, camera-like) on loopback;"
                + " %d rounds x %d steps per codec, interleaved; %d cores%n%n", rounds, stepsPerRound,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| codec | bytes | ratio | round trip p50 ms | p90 ms | encode CPU ms | decode CPU ms"
                + " | 50 Mbit/s | 300 Mbit/s | 1 Gbit/s | break-even |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (int i = 0; i < codecs.size(); i++) {
            StringBuilder link = new StringBuilder();
            for (double mbit : LINKS_MBIT) {
                link.append(String.format(Locale.ROOT, " %.1f ms |", bytes[i] * 8 / (mbit * 1e3)));
            }
            String breakEven = "-";
            if (i > 0) {
                // Below this link speed the transfer time saved exceeds the CPU spent beyond raw.
                double extraMs = encodeMs[i] + decodeMs[i] - encodeMs[0] - decodeMs[0];
                double savedBits = (bytes[0] - bytes[i]) * 8;
                breakEven = savedBits <= 0 ? "never" : String.format(Locale.ROOT, "%.0f Mbit/s", savedBits / (extraMs * 1e3));
            }
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.1fx | %.2f | %.2f | %.2f | %.2f |%s %s |%n", codecs.get(i), bytes[i],
                    bytes[0] / bytes[i], median(rtt.get(i)), percentile(rtt.get(i), 0.9), encodeMs[i], decodeMs[i], link,
                    breakEven);
        }
        System.out.println();
        System.out.println("Round trip on loopback includes encode and decode; the link columns are the request's"
                + " transfer time alone. Break-even: the link speed at which the transfer time saved equals the"
                + String.format(Locale.ROOT, " codec's encode + decode CPU beyond raw packing (raw: %.3f + %.3f ms).",
                        encodeMs[0], decodeMs[0]));
    }
}
