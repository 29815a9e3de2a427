package org.webpolicy.cli;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code webpolicy replay}: serves a recording's replies, so robot code and CI run against a real session without a GPU. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Serve the replies of a recording (webpolicy record, or a server's recorder) until interrupted.")
final class ReplayCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "The recording (.mcap).")
    Path file;

    @Option(names = "--port", description = "Port, 0-65535 (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port = 8000;

    @Option(names = "--host", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host = "0.0.0.0";

    @Option(names = "--match", converter = MatchChoices.class, completionCandidates = MatchChoices.class,
            description = "How a request finds its reply: ${COMPLETION-CANDIDATES}: the next one recorded on the connection,"
                    + " or the one recorded for the same observation (default: order).")
    ReplayServer.Match match = ReplayServer.Match.ORDER;

    @Option(names = "--timing", description = "Wait the recorded latency before each reply.")
    boolean timing;

    @Option(names = "--max-message-bytes", description = "Refuse (close 1009) a message longer than this"
            + " (default: ${DEFAULT-VALUE}, the policy server's default).")
    int maxMessageBytes = MessageLimit.DEFAULT_BYTES;

    @Option(names = "--max-connections", description = "Robots held at once, connected or in their handshake; one more is refused (default: ${DEFAULT-VALUE}).")
    int maxConnections = ToolSockets.DEFAULT_MAX_CONNECTIONS;

    @Spec
    CommandSpec spec;

    final CountDownLatch listening = new CountDownLatch(1);
    volatile ReplayServer server;
    private final CountDownLatch stop = new CountDownLatch(1);

    /** {@code --match}'s values. */
    static final class MatchChoices extends Choices<ReplayServer.Match> {
        MatchChoices() {
            super(ReplayServer.Match.class);
        }
    }

    void stop() {
        stop.countDown();
    }

    @Override
    public Integer call() throws Exception {
        new Arguments(spec).port("--port", port, true).require(Files.isRegularFile(file), "no such recording: " + file)
                .atLeast("--max-message-bytes", maxMessageBytes, 1024)
                .atLeast("--max-connections", maxConnections, 1);
        ReplayServer replay = new ReplayServer(new InetSocketAddress(host, port), file, match, timing, maxMessageBytes,
                maxConnections);
        replay.start();
        Thread hook = new Thread(() -> {
            try {
                replay.stop(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        if (!replay.started.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new IllegalStateException("the replay server did not start listening within 30 s");
        }
        if (replay.startFailure != null) {
            throw new IllegalStateException("the replay server cannot listen: " + replay.startFailure.getMessage(),
                    replay.startFailure);
        }
        server = replay;
        System.out.println("Replaying " + replay.exchanges + " exchange(s) of " + file + " on ws://" + host + ":" + replay.getPort()
                + " (" + new MatchChoices().display(match) + (timing ? ", recorded timing" : "") + ")"
                + (replay.truncation == null ? "" : "; the recording is cut short: " + replay.truncation));
        System.out.flush();
        listening.countDown();
        stop.await();
        Runtime.getRuntime().removeShutdownHook(hook);
        replay.stop(1000);
        return 0;
    }
}
