package org.webpolicy.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.runtime.LatencySummary;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyClientBuilder;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code webpolicy client}: sends random observations of a robot's format to a server, as the
 * Python client script does, and reports the latency. Exits 1 at the first step that fails,
 * after saying which step and why; 2 for bad arguments.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Send random observations of a robot's format to a policy server and report latency.")
final class ClientCommand implements Callable<Integer> {

    @Option(names = "--host", description = "Server host, or a ws:// / wss:// URI (default: ${DEFAULT-VALUE}).")
    String host = "localhost";

    @Option(names = "--port", description = "Server port, 1-65535 (default: ${DEFAULT-VALUE}).")
    int port = 8000;

    @Option(names = "--uri", description = "Full ws:// or wss:// URI (instead of --host/--port).")
    String uri;

    @Option(names = "--env", converter = Choices.Environments.class, completionCandidates = Choices.Environments.class,
            description = "Observation format: ${COMPLETION-CANDIDATES} (default: aloha).")
    Observations env = Observations.ALOHA;

    @Option(names = "--num-steps", description = "Steps to send, at least 1 (default: ${DEFAULT-VALUE}).")
    int numSteps = 20;

    @Option(names = "--api-key", description = "API key to send with the handshake.")
    String apiKey;

    @Option(names = "--protocol", converter = Choices.Protocols.class, completionCandidates = Choices.Protocols.class,
            description = "Request framing: ${COMPLETION-CANDIDATES} (default: auto).")
    ProtocolMode protocol = ProtocolMode.AUTO;

    @Option(names = "--image-codec", converter = ImageCodecs.class, completionCandidates = ImageCodecs.class,
            description = ImageCodecs.DESCRIPTION)
    ImageCodec imageCodec = ImageCodec.RAW;

    @Option(names = "--connect-timeout-s", description = "Give up connecting after this many seconds (default: 30).")
    Integer connectTimeoutSeconds;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Arguments check = new Arguments(spec).atLeast("--num-steps", numSteps, 1).webSocketUri("--uri", uri);
        if (uri == null && !host.contains("://")) {
            check.port("--port", port, false);
        }
        if (connectTimeoutSeconds != null) {
            check.atLeast("--connect-timeout-s", connectTimeoutSeconds, 1);
        }
        PolicyClientBuilder builder = PolicyClient.builder().apiKey(apiKey).protocolMode(protocol)
                .imageCodec(imageCodec);
        if (uri != null) {
            builder.uri(uri);
        } else {
            builder.host(host).port(port);
        }
        if (connectTimeoutSeconds != null) {
            builder.connectTimeout(Duration.ofSeconds(connectTimeoutSeconds));
        }
        Random random = new Random(0);
        String name = new Choices.Environments().display(env);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (PolicyClient client = builder.build()) {
            out.println("Server metadata: " + JsonValues.print(client.metadata()));
            out.flush();
            Latencies latencies = new Latencies();
            Progress progress = Progress.on(err, "client", numSteps);
            long start = System.nanoTime();
            Map<String, Object> action = null;
            RuntimeException failure = null;
            for (int i = 0; i < numSteps && failure == null; i++) {
                Map<String, Object> obs = env.random(random);
                long t0 = System.nanoTime();
                try {
                    action = client.step(obs);
                    latencies.add(System.nanoTime() - t0);
                } catch (RuntimeException e) {
                    failure = e;
                }
                progress.update(latencies.count());
            }
            progress.finish();
            double totalS = (System.nanoTime() - start) / 1e9;
            LatencySummary summary = latencies.summary();
            out.printf("Sent %d of %d %s observations to %s (%s form) in %.3f s%n", latencies.count(), numSteps,
                    name, client.uri(), client.usesEnvelope() ? "envelope" : "raw", totalS);
            if (imageCodec != ImageCodec.RAW) {
                out.println(client.imageCodecInUse() == imageCodec ? "Images sent as " + imageCodec + " (the server accepted it)"
                        : "Images sent raw: the server did not accept " + imageCodec);
            }
            if (latencies.count() > 0) {
                out.printf("Latency ms: mean %.3f, p50 %.3f, p99 %.3f%n", latencies.meanMs(),
                        Latencies.millis(summary.p50()), Latencies.millis(summary.p99()));
            }
            if (action != null) {
                out.println("Last action keys: " + JsonValues.print(action.keySet()));
            }
            if (failure != null) {
                err.println("webpolicy client: step " + (latencies.count() + 1) + " of " + numSteps + " failed: "
                        + failure.getMessage());
                return 1;
            }
        } finally {
            out.flush();
            err.flush();
        }
        return 0;
    }
}
