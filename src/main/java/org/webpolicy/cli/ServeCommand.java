package org.webpolicy.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.webpolicy.demo.DemoPolicy;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a test policy until interrupted.")
final class ServeCommand implements Callable<Integer> {

    enum Kind { echo, random, fail_after, demo }

    @Option(names = "--host", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host = "0.0.0.0";

    @Option(names = "--port", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port = 8000;

    @Option(names = "--policy", description = "echo, random, fail-after or demo (the simulated robot's policy) (default: ${DEFAULT-VALUE}).",
            converter = KindConverter.class)
    Kind policy = Kind.random;

    @Option(names = "--fail-after", description = "For --policy fail-after: calls answered before failing (default: ${DEFAULT-VALUE}).")
    int failAfter = 1;

    @Option(names = "--action-horizon", description = "For --policy random: chunk length (default: ${DEFAULT-VALUE}).")
    int actionHorizon = 50;

    @Option(names = "--action-dim", description = "For --policy random: action size (default: ${DEFAULT-VALUE}).")
    int actionDim = 14;

    @Option(names = "--inference-ms", description = "For --policy demo: time each chunk takes (default: ${DEFAULT-VALUE}).")
    long inferenceMs = 30;

    @Option(names = "--api-key", description = "Require this API key (Authorization: Api-Key <key>).")
    String apiKey;

    @Option(names = "--metadata", description = "Metadata sent on connect, as a JSON object.")
    String metadataJson;

    @Option(names = "--max-message-mb", description = "Largest request accepted, MiB (default: ${DEFAULT-VALUE}).")
    int maxMessageMb = 256;

    @Option(names = "--policy-timeout-ms", description = "Fail policy calls that take longer (default: none).")
    Long policyTimeoutMs;

    static final class KindConverter implements picocli.CommandLine.ITypeConverter<Kind> {
        @Override
        public Kind convert(String value) {
            return Kind.valueOf(value.replace('-', '_').toLowerCase(java.util.Locale.ROOT));
        }
    }

    @Override
    public Integer call() throws Exception {
        Map<String, Object> metadata = metadata();
        Policy served = switch (policy) {
            case echo -> ServePolicies.echo(metadata);
            case random -> ServePolicies.random(actionHorizon, actionDim, metadata);
            case fail_after -> ServePolicies.failAfter(failAfter, metadata);
            case demo -> new DemoPolicy(Duration.ofMillis(inferenceMs));
        };
        PolicyServer.Builder builder = PolicyServer.builder(served).host(host).port(port).apiKey(apiKey)
                .maxMessageBytes((int) Math.min(Integer.MAX_VALUE - 8L, maxMessageMb * 1024L * 1024L));
        if (policy == Kind.demo) {
            builder.observationSpec(DemoPolicy.OBSERVATION_SPEC);
            if (metadataJson != null) {
                builder.metadata(metadata);
            }
        }
        if (policyTimeoutMs != null) {
            builder.policyTimeout(Duration.ofMillis(policyTimeoutMs));
        }
        PolicyServer server = builder.build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("Serving the " + policy.name().replace('_', '-') + " policy on ws://" + host + ":" + server.port()
                + " (GET /healthz for health checks)");
        System.out.flush();
        java.util.Optional<Throwable> failure = server.awaitClose();
        if (failure.isPresent()) {
            // Exit non-zero so that a supervisor restarts the server.
            System.err.println("The policy server failed: " + failure.get());
            return 3;
        }
        return 0;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> metadata() {
        if (metadataJson == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policy", policy.name().replace('_', '-'));
            if (policy == Kind.random) {
                m.put("action_horizon", (long) actionHorizon);
                m.put("action_dim", (long) actionDim);
            }
            return m;
        }
        Object parsed = Json.parse(metadataJson);
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("--metadata must be a JSON object");
        }
        return (Map<String, Object>) parsed;
    }
}
