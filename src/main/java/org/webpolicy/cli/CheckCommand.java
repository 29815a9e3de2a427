package org.webpolicy.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.webpolicy.check.CaseResult;
import org.webpolicy.check.ConformanceCheck;
import org.webpolicy.check.Form;
import org.webpolicy.check.Target;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code webpolicy check ws://HOST:PORT}: runs the protocol's cases against any policy server (docs/PROTOCOL.md). */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Check a policy server against the wire protocol (docs/PROTOCOL.md): one line per case,"
                + " PASS, FAIL or SKIP with the reason; exit 1 when a case fails.",
            "Extensions (request ids, image codec, rtc) are checked only when the server offers them."})
final class CheckCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "URI", description = "The server, ws://HOST:PORT or wss://HOST:PORT.")
    String uri;

    @Option(names = "--api-key", description = "Sent as 'Authorization: Api-Key KEY'; also checks that the server refuses"
            + " a handshake without it (401).")
    String apiKey;

    @Option(names = "--form", converter = FormChoices.class, completionCandidates = FormChoices.class,
            description = "${COMPLETION-CANDIDATES}: the envelope form when the handshake carries"
                    + " X-Webpolicy-Protocol: envelope, otherwise openpi's raw form (default: auto).")
    Form form = Form.AUTO;

    @Option(names = "--observation", paramLabel = "FILE", description = "The observation to send, one packed msgpack map"
            + " (default: from the server's observation_spec, else a small ALOHA-like one).")
    Path observation;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long a connect or one answer may take"
            + " (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 30;

    @Spec
    CommandSpec spec;

    /** {@code --form}'s values. */
    static final class FormChoices extends Choices<Form> {
        FormChoices() {
            super(Form.class);
        }
    }

    @Override
    public Integer call() throws Exception {
        Arguments args = new Arguments(spec).webSocketUri("URI", uri).atLeast("--timeout", timeoutSeconds, 1);
        Target target;
        try {
            target = Target.parse(uri, apiKey, Duration.ofSeconds(timeoutSeconds));
        } catch (IllegalArgumentException e) {
            throw args.refuse(e.getMessage());
        }
        Map<String, Object> given = null;
        if (observation != null) {
            args.require(Files.isRegularFile(observation), "--observation: no such file: " + observation);
            try {
                given = ConformanceCheck.observationFromFile(observation);
            } catch (IllegalArgumentException e) {
                throw args.refuse("--observation: " + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("Checking " + target + (apiKey != null ? " with an API key" : ""));
        out.flush();
        List<CaseResult> results = new ConformanceCheck(target, form, given).onResult(r -> {
            out.println(r.line());
            out.flush();
        }).run();
        long failed = results.stream().filter(r -> r.verdict() == CaseResult.Verdict.FAIL).count();
        long passed = results.stream().filter(r -> r.verdict() == CaseResult.Verdict.PASS).count();
        out.println(passed + " passed, " + failed + " failed, " + (results.size() - passed - failed) + " skipped");
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
