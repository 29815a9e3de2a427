package org.webpolicy.cli;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.webpolicy.mcap.ChunkCompression;
import org.webpolicy.record.Recorder;
import org.webpolicy.record.RecorderStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code webpolicy record}: a proxy between robots and a policy server that records every exchange. */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = "Proxy robots to an upstream policy server and record every exchange into an MCAP file, until interrupted.")
final class RecordCommand implements Callable<Integer> {

    @Option(names = "--listen", required = true, description = "Port robots connect to (0 picks a free one).")
    int listen;

    @Option(names = "--host", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host = "0.0.0.0";

    @Option(names = "--upstream", required = true, description = "The policy server, ws://HOST:PORT.")
    String upstream;

    @Option(names = "--out", required = true, description = "The recording to write (.mcap).")
    Path out;

    @Option(names = "--no-cameras", description = "Do not add camera images as foxglove.CompressedImage channels.")
    boolean noCameras;

    @Option(names = "--camera-period-ms", description = "At most one image per camera this often on the camera channels"
            + " (default: ${DEFAULT-VALUE}).")
    long cameraPeriodMs = 1000;

    @Option(names = "--uncompressed", description = "Store chunks uncompressed instead of zstd.")
    boolean uncompressed;

    @Option(names = "--max-message-bytes", description = "Refuse (close 1009) a message longer than this"
            + " (default: ${DEFAULT-VALUE}, the policy server's default).")
    int maxMessageBytes = MessageLimit.DEFAULT_BYTES;

    @Option(names = "--max-connections", description = "Robots held at once, connected or in their handshake; one more is refused (default: ${DEFAULT-VALUE}).")
    int maxConnections = ToolSockets.DEFAULT_MAX_CONNECTIONS;

    @Spec
    CommandSpec spec;

    /** Counted down once the proxy listens (tests wait on it). */
    final CountDownLatch listening = new CountDownLatch(1);
    volatile RecordingProxy proxy;
    private final CountDownLatch stop = new CountDownLatch(1);

    /** Ends {@link #call()}: the recording is finished (tests; the command line ends on a signal). */
    void stop() {
        stop.countDown();
    }

    @Override
    public Integer call() throws Exception {
        new Arguments(spec).port("--listen", listen, true).webSocketUri("--upstream", upstream)
                .atLeast("--camera-period-ms", cameraPeriodMs, 0).atLeast("--max-message-bytes", maxMessageBytes, 1024)
                .atLeast("--max-connections", maxConnections, 1);
        Recorder recorder = Recorder.builder(out)
                .compression(uncompressed ? ChunkCompression.NONE : ChunkCompression.ZSTD)
                .cameraImages(!noCameras, java.time.Duration.ofMillis(cameraPeriodMs)).build();
        RecordingProxy server = new RecordingProxy(new InetSocketAddress(host, listen), URI.create(upstream), recorder,
                maxMessageBytes, Runtime.getRuntime().availableProcessors(), maxConnections,
                RecordingProxy.DEFAULT_UPSTREAM_TIMEOUT);
        Thread hook = new Thread(() -> finish(server, recorder));
        Runtime.getRuntime().addShutdownHook(hook);
        server.start();
        proxy = server;
        waitForPort(server);
        System.out.println("Recording ws://" + host + ":" + server.getPort() + " -> " + upstream + " into " + out);
        System.out.flush();
        listening.countDown();
        stop.await();
        Runtime.getRuntime().removeShutdownHook(hook);
        finish(server, recorder);
        return 0;
    }

    private static void waitForPort(RecordingProxy server) throws InterruptedException {
        if (!server.started.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new IllegalStateException("the proxy did not start listening within 30 s");
        }
        if (server.startFailure != null) {
            throw new IllegalStateException("the proxy cannot listen: " + server.startFailure.getMessage(), server.startFailure);
        }
    }

    private void finish(RecordingProxy server, Recorder recorder) {
        try {
            server.stop(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        recorder.close();
        RecorderStats stats = recorder.stats();
        System.err.println("webpolicy record: " + stats.exchangesRecorded() + " exchange(s) recorded, "
                + stats.exchangesDropped() + " dropped, " + stats.bytesWritten() + " bytes in " + out
                + (stats.failure() == null ? "" : "; the writer failed: " + stats.failure()));
    }
}
