package org.webpolicy.cli;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Checks of option values that picocli's types cannot express (ranges, URI schemes). Every
 * command runs them before it starts anything, so a bad value never leaves a server or a
 * connection half made; a failure prints the message and the command's usage and exits with 2.
 */
final class Arguments {

    private final CommandSpec spec;

    Arguments(CommandSpec spec) {
        this.spec = spec;
    }

    /** Refuses the command line with {@code message} unless {@code ok}. */
    Arguments require(boolean ok, String message) {
        if (!ok) {
            throw refuse(message);
        }
        return this;
    }

    /** The refusal of the command line with {@code message}, for the caller to throw. */
    ParameterException refuse(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code option} at least {@code min}. */
    Arguments atLeast(String option, long value, long min) {
        return require(value >= min, option + " must be at least " + min + ", got " + value);
    }

    /** {@code option} within {@code [min, max]}. */
    Arguments between(String option, long value, long min, long max) {
        return require(value >= min && value <= max, option + " must be from " + min + " to " + max + ", got " + value);
    }

    /** A TCP port: 1-65535, or 0 (a free one) where {@code zeroAllowed}. */
    Arguments port(String option, int port, boolean zeroAllowed) {
        return between(option, port, zeroAllowed ? 0 : 1, 65535);
    }

    /** A ws:// or wss:// URI with a host, or null (the option was not given). */
    Arguments webSocketUri(String option, String uri) {
        if (uri == null) {
            return this;
        }
        try {
            URI parsed = new URI(uri);
            String scheme = parsed.getScheme();
            return require(("ws".equals(scheme) || "wss".equals(scheme)) && parsed.getHost() != null,
                    option + " must be a ws:// or wss:// URI with a host, got '" + uri + "'");
        } catch (URISyntaxException e) {
            throw refuse(option + " is not a URI: " + e.getMessage());
        }
    }
}
