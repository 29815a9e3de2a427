package org.webpolicy.cli;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Send random observations of a robot's format to a policy server and report latency.")
final class ClientCommand implements Callable<Integer> {

    @Option(names = "--host", description = "Server host, or a ws:// / wss:// URI (default: ${DEFAULT-VALUE}).")
    String host = "localhost";

    @Option(names = "--port", description = "Server port (default: ${DEFAULT-VALUE}).")
    int port = 8000;

    @Option(names = "--uri", description = "Full ws:// or wss:// URI (instead of --host/--port).")
    String uri;

    @Option(names = "--env", description = "aloha, aloha_sim, droid or libero (default: ${DEFAULT-VALUE}).")
    String env = "aloha";

    @Option(names = "--num-steps", description = "Steps to send (default: ${DEFAULT-VALUE}).")
    int numSteps = 20;

    @Option(names = "--api-key", description = "API key to send with the handshake.")
    String apiKey;

    @Option(names = "--protocol", description = "auto, raw or envelope (default: ${DEFAULT-VALUE}).")
    ProtocolMode protocol = ProtocolMode.AUTO;

    @Option(names = "--connect-timeout-s", description = "Give up connecting after this many seconds (default: wait forever).")
    Integer connectTimeoutSeconds;

    @Override
    public Integer call() {
        Observations format = Observations.parse(env);
        PolicyClient.Builder builder = PolicyClient.builder().apiKey(apiKey).protocolMode(protocol);
        if (uri != null) {
            builder.uri(uri);
        } else {
            builder.host(host).port(port);
        }
        if (connectTimeoutSeconds != null) {
            builder.connectTimeout(Duration.ofSeconds(connectTimeoutSeconds));
        }
        Random random = new Random(0);
        try (PolicyClient client = builder.build()) {
            System.out.println("Server metadata: " + client.metadata());
            Latencies latencies = new Latencies();
            long start = System.nanoTime();
            Map<String, Object> action = null;
            for (int i = 0; i < numSteps; i++) {
                Map<String, Object> obs = format.random(random);
                long t0 = System.nanoTime();
                action = client.step(obs);
                latencies.add(System.nanoTime() - t0);
            }
            double totalS = (System.nanoTime() - start) / 1e9;
            System.out.printf("Sent %d %s observations to %s (%s form) in %.3f s%n", numSteps, env, client.uri(),
                    client.usesEnvelope() ? "envelope" : "raw", totalS);
            System.out.printf("Latency ms: mean %.3f, p50 %.3f, p99 %.3f%n", latencies.meanMs(),
                    latencies.percentileMs(50), latencies.percentileMs(99));
            if (action != null) {
                System.out.println("Last action keys: " + action.keySet());
            }
        }
        return 0;
    }
}
