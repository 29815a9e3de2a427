package org.webpolicy.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.WebSocketServer;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Our client against a server that is not ours: a plain Java-WebSocket {@code WebSocketServer}
 * that sends an empty metadata map, then answers every binary message with one fixed action (the
 * size of a 50x14 float32 chunk), as an openpi server answers, with the library's own framing. So
 * the client's latency and CPU show without our server's data path in them. The server runs in a
 * JVM of its own (started here, on the same class path), so its garbage collection and threads do
 * not land in the client's percentiles, as with a Python server; the raw-socket floor of the same
 * sizes runs in the client's process for comparison. Run with
 * {@code java -cp <cli jar> org.webpolicy.cli.ForeignServerBench}.
 */
@Command(name = "bench-foreign-server", mixinStandardHelpOptions = true,
        description = "Measure our client against a plain Java-WebSocket server, next to the raw-socket floor.")
public final class ForeignServerBench implements Callable<Integer> {

    @Option(names = "--steps", description = "Measured round trips per observation size (default: ${DEFAULT-VALUE}).")
    int steps = 2000;

    @Option(names = "--warmup", description = "Unmeasured round trips of each size first (default: ${DEFAULT-VALUE}).")
    int warmup = 2000;

    @Option(names = "--serve", description = "Only run the plain server and print its port (what the benchmark starts).")
    boolean serve;

    @Option(names = "--in-process", description = "Run the plain server in this JVM instead of a JVM of its own.")
    boolean inProcess;

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * Runs the benchmark.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ForeignServerBench()).execute(args));
    }

    /**
     * Runs the benchmark and prints one row per observation size.
     *
     * @return 0
     * @throws Exception when the server or a client fails
     */
    @Override
    public Integer call() throws Exception {
        Random random = new Random(0);
        byte[] reply = CODEC.pack(Map.of("actions", Observations.pixels(random, 50, 14 * 4)));
        if (serve) {
            PlainServer server = startPlainServer(reply);
            System.out.println("port " + server.getPort());
            System.out.flush();
            System.in.read(); // until the benchmark closes our input (or ends)
            server.stop(1000);
            return 0;
        }
        PlainServer local = inProcess ? startPlainServer(reply) : null;
        Process child = inProcess ? null : new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ForeignServerBench.class.getName(), "--serve")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            int port = local != null ? local.getPort() : childPort(child);
            System.out.println("Our client <-> plain Java-WebSocket server (" + (inProcess ? "in this JVM" : "a JVM of its own")
                    + ", fixed reply of " + reply.length + " bytes), loopback, raw form; floor: raw TCP ping-pong of the same"
                    + " frame sizes, same run");
            System.out.printf("%-20s %9s %9s %9s %9s %9s %9s%n", "observation", "median ms", "p99 ms", "max ms", "caller us",
                    "floor med", "floor clr");
            Map<String, Map<String, Object>> sizes = new LinkedHashMap<>();
            sizes.put("tiny (state only)", Map.of("state", Observations.doubles(random, 14)));
            sizes.put("ALOHA (~600 KB)", Observations.ALOHA.random(random));
            for (Map.Entry<String, Map<String, Object>> size : sizes.entrySet()) {
                Map<String, Object> observation = size.getValue();
                int request = frameBytes(CODEC.pack(observation).length, true);
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port)
                        .protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10)).build().connect();
                        RawSocketFloor floor = new RawSocketFloor(request, frameBytes(reply.length, false));
                        RawSocketFloor.Client raw = floor.client()) {
                    Runnable ours = () -> client.step(observation);
                    measure(ours, warmup);
                    double[] o = measure(ours, steps);
                    measure(raw::roundTrip, warmup);
                    double[] f = measure(raw::roundTrip, steps);
                    System.out.printf("%-20s %9.3f %9.3f %9.3f %9.0f %9.3f %9.0f%n", size.getKey(), o[0], o[1], o[2], o[3], f[0],
                            f[3]);
                }
            }
        } finally {
            if (local != null) {
                local.stop(1000);
            }
            if (child != null) {
                child.getOutputStream().close();
                if (!child.waitFor(10, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            }
        }
        return 0;
    }

    private static PlainServer startPlainServer(byte[] reply) throws InterruptedException {
        PlainServer server = new PlainServer(CODEC.pack(Map.of()), reply);
        server.start();
        if (!server.started.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the plain server did not start");
        }
        return server;
    }

    /** The port the child JVM's server printed first. */
    private static int childPort(Process child) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("port ")) {
                return Integer.parseInt(line.substring(5).trim());
            }
        }
        throw new IllegalStateException("the plain server's JVM ended without printing its port");
    }

    /** Median, p99 and maximum in ms, and the calling thread's CPU per round trip in µs. */
    private static double[] measure(Runnable step, int n) {
        Latencies latencies = new Latencies();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step.run();
            latencies.add(System.nanoTime() - t0);
        }
        double cpu = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e3 / Math.max(1, n);
        var summary = latencies.summary();
        return new double[] {Latencies.millis(summary.p50()), Latencies.millis(summary.p99()), Latencies.millis(summary.max()),
            cpu};
    }

    /** Bytes of a WebSocket frame carrying {@code payload} bytes (RFC 6455 5.2). */
    private static int frameBytes(int payload, boolean masked) {
        return 2 + (payload <= 125 ? 0 : payload <= 65535 ? 2 : 8) + (masked ? 4 : 0) + payload;
    }

    /** The library's server with nothing of ours in its data path: metadata, then one fixed reply per message. */
    private static final class PlainServer extends WebSocketServer {
        private final byte[] metadata;
        private final byte[] reply;
        private final CountDownLatch started = new CountDownLatch(1);

        PlainServer(byte[] metadata, byte[] reply) {
            super(new InetSocketAddress("127.0.0.1", 0));
            this.metadata = metadata;
            this.reply = reply;
            setTcpNoDelay(true);
            setReuseAddr(true);
        }

        @Override
        public void onStart() {
            started.countDown();
        }

        @Override
        public void onOpen(WebSocket conn, ClientHandshake handshake) {
            conn.send(metadata);
        }

        @Override
        public void onMessage(WebSocket conn, ByteBuffer message) {
            conn.send(reply);
        }

        @Override
        public void onMessage(WebSocket conn, String message) {
            conn.close(1003, "binary frames only");
        }

        @Override
        public void onClose(WebSocket conn, int code, String reason, boolean remote) {
            // nothing kept per connection
        }

        @Override
        public void onError(WebSocket conn, Exception e) {
            if (conn == null) {
                System.err.println("plain server: " + e);
            }
        }
    }
}
