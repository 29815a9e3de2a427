package org.webpolicy.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.webpolicy.codec.EncodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.demo.DemoPolicy;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.PolicyServerBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code webpolicy serve}: serves a test policy (or the demo robot's) until the process ends. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a test policy until interrupted.")
final class ServeCommand implements Callable<Integer> {

    /** The policies served; {@code --policy} writes them in lower case, {@code fail-after} with a hyphen. */
    enum Kind { ECHO, RANDOM, FAIL_AFTER, DEMO }

    @Option(names = "--host", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host = "0.0.0.0";

    @Option(names = "--port", description = "Port, 0-65535 (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port = 8000;

    @Option(names = "--policy", converter = Choices.ServedPolicies.class, completionCandidates = Choices.ServedPolicies.class,
            description = "Policy to serve: ${COMPLETION-CANDIDATES} (demo: the simulated robot's) (default: random).")
    Kind policy = Kind.RANDOM;

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

    @Option(names = "--max-message-mb", description = "Largest request accepted, 1-2047 MiB (default: ${DEFAULT-VALUE}).")
    int maxMessageMb = 256;

    @Option(names = "--policy-timeout-ms", description = "Fail policy calls that take longer (default: none).")
    Long policyTimeoutMs;

    @Option(names = "--drain-ms", description = "On stop (SIGTERM), answer /healthz with 503 for this long, still serving,"
            + " before closing (default: ${DEFAULT-VALUE}).")
    long drainMs = 0;

    @Option(names = "--health-port", description = "Also answer GET /healthz on this port, on a thread of its own, for"
            + " the load balancer's probes (default: none; /healthz is always answered on --port too).")
    Integer healthPort;

    @Option(names = "--reuse-buffers", description = "Keep request buffers in a pool and reuse them once answered, instead of"
            + " a new array per message (PolicyServerBuilder.reuseMessageBuffers; the served policies keep no views).")
    boolean reuseBuffers;

    @Option(names = "--answer-on-workers", description = "Hand every request to a worker thread instead of answering it on"
            + " the I/O loop's thread that read it (PolicyServerBuilder.answerOnLoopThreads(false)): less CPU per request"
            + " for many clients saturating the cores, a longer tail for each.")
    boolean answerOnWorkers;

    @Option(names = "--warm-up", description = "Synthetic requests run through the server before it says ready"
            + " (GET /readyz 200), the policy not called; 0 for none (default: ${DEFAULT-VALUE}).")
    int warmUp = PolicyServerBuilder.DEFAULT_WARM_UP_REQUESTS;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Arguments check = new Arguments(spec).port("--port", port, true).atLeast("--fail-after", failAfter, 0)
                .atLeast("--action-horizon", actionHorizon, 1).atLeast("--action-dim", actionDim, 1)
                .atLeast("--inference-ms", inferenceMs, 0).between("--max-message-mb", maxMessageMb, 1, 2047).atLeast("--drain-ms", drainMs, 0)
                .atLeast("--warm-up", warmUp, 0);
        if (policyTimeoutMs != null) {
            check.atLeast("--policy-timeout-ms", policyTimeoutMs, 1);
        }
        if (healthPort != null) {
            check.port("--health-port", healthPort, true);
        }
        Map<String, Object> metadata = metadata(check);
        Policy served = switch (policy) {
            case ECHO -> ServePolicies.echo(metadata);
            case RANDOM -> ServePolicies.random(actionHorizon, actionDim, metadata);
            case FAIL_AFTER -> ServePolicies.failAfter(failAfter, metadata);
            case DEMO -> new DemoPolicy(Duration.ofMillis(inferenceMs));
        };
        PolicyServerBuilder builder = PolicyServer.builder(served).host(host).port(port).apiKey(apiKey)
                .maxMessageBytes((int) Math.min(Integer.MAX_VALUE - 8L, maxMessageMb * 1024L * 1024L))
                .drainTime(Duration.ofMillis(drainMs)).warmUp(warmUp).reuseMessageBuffers(reuseBuffers)
                .answerOnLoopThreads(!answerOnWorkers);
        if (healthPort != null) {
            builder.healthPort(healthPort);
        }
        if (policy == Kind.DEMO) {
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
        System.out.println("Serving the " + new Choices.ServedPolicies().display(policy) + " policy on ws://" + host + ":" + server.port()
                + " (GET /healthz for liveness, GET /readyz for readiness)");
        System.out.flush();
        java.util.Optional<Throwable> failure = server.awaitClose();
        if (failure.isPresent()) {
            // Exit non-zero so that a supervisor restarts the server.
            System.err.println("The policy server failed: " + failure.get());
            return 3;
        }
        return 0;
    }

    /** The metadata to send: {@code --metadata}, checked to be a JSON object the wire can carry, or a default. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> metadata(Arguments check) {
        if (metadataJson == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policy", new Choices.ServedPolicies().display(policy));
            if (policy == Kind.RANDOM) {
                m.put("action_horizon", (long) actionHorizon);
                m.put("action_dim", (long) actionDim);
            }
            return m;
        }
        Object parsed;
        try {
            parsed = JsonValues.parse(metadataJson);
        } catch (IllegalArgumentException e) {
            throw check.refuse("--metadata: " + e.getMessage());
        }
        check.require(parsed instanceof Map, "--metadata must be a JSON object, got " + JsonValues.print(parsed));
        try {
            new MsgpackCodec().pack(parsed); // sent on every connect: refuse now what could not be sent then
        } catch (EncodeException e) {
            throw check.refuse("--metadata cannot be sent: " + e.getMessage());
        }
        return (Map<String, Object>) parsed;
    }
}
