package org.webpolicy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code webpolicy} command line: serve a policy, drive one, measure the pair, run a simulated
 * robot, record the exchanges between robots and a server, replay and inspect recordings, check a server against the
 * wire protocol. Shipped as its own runnable jar ({@code java -jar webpolicy-java-<version>-cli.jar}), not
 * in the library's.
 *
 * <p>Exit codes: 0 when the command did what it was asked, 1 when it failed while running (no
 * server, a failed step, a remote error), 2 for a bad command line (the message and the usage are
 * printed first, before anything starts).
 */
@Command(name = "webpolicy", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Serve robot policies over WebSocket, wire-compatible with openpi and webpolicy.",
        subcommands = {ServeCommand.class, ClientCommand.class, CheckCommand.class, BenchCommand.class, DemoCommand.class,
            RecordCommand.class, ReplayCommand.class, InspectCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    private Main() {
    }

    /** {@code --version}: the version the jar's manifest names, so it cannot fall behind the pom. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"webpolicy-java " + (version == null ? "(built from source, no jar manifest)" : version)};
        }
    }

    /**
     * Runs the command line and ends the JVM with its exit code.
     *
     * @param args the command line, e.g. {@code serve --port 8000}
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line without ending the JVM.
     *
     * @param args the command line
     * @return the exit code: 0, 1 (failed while running) or 2 (bad command line)
     */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /**
     * The configured command line, for tests that want a subcommand's object after running it
     * ({@code getSubcommands().get("demo").getCommand()}) or their own output streams.
     */
    static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                // A failure is the user's to read, not a stack trace: bad JSON, no server, a remote error.
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("webpolicy " + cmd.getCommandName() + ": " + e.getMessage());
                    return 1;
                });
    }
}
