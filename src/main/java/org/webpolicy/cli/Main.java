package org.webpolicy.cli;

import org.webpolicy.demo.DemoCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code webpolicy} command line: serve a policy, drive one, measure the pair, run a simulated robot. */
@Command(name = "webpolicy", mixinStandardHelpOptions = true, version = "webpolicy-java 0.1.0",
        description = "Serve robot policies over WebSocket, wire-compatible with openpi and webpolicy.",
        subcommands = {ServeCommand.class, ClientCommand.class, BenchCommand.class, DemoCommand.class,
            CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /**
     * The configured command line, for callers that want a subcommand's object after running it
     * ({@code getSubcommands().get("demo").getCommand()}) or their own output streams.
     */
    public static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                // A failure is the user's to read, not a stack trace: bad JSON, no server, a remote error.
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("webpolicy " + cmd.getCommandName() + ": " + e.getMessage());
                    return 1;
                });
    }
}
