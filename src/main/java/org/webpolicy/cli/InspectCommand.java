package org.webpolicy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.webpolicy.record.RecordedConnection;
import org.webpolicy.record.RecordedExchange;
import org.webpolicy.record.RecordingReader;
import org.webpolicy.transport.protocol.Envelope;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code webpolicy inspect}: what a recording holds: exchanges, robots, sizes, latency percentiles over time. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Summarize a recording: exchanges, robots, sizes, latency percentiles over time; optionally plot latency.")
final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "The recording (.mcap).")
    Path file;

    @Option(names = "--plot", description = "Write a latency plot (PNG) here.")
    Path plot;

    @Option(names = "--windows", description = "Time windows for the percentiles over time (default: ${DEFAULT-VALUE}).")
    int windows = 10;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        new Arguments(spec).require(Files.isRegularFile(file), "no such recording: " + file).between("--windows", windows, 1, 1000);
        List<RecordedExchange> exchanges = new ArrayList<>();
        Map<Long, RecordedConnection> connections;
        String truncation;
        long dropped;
        try (RecordingReader reader = RecordingReader.open(file)) {
            for (RecordedExchange x = reader.next(); x != null; x = reader.next()) {
                exchanges.add(x.withoutRequest());
            }
            connections = reader.connections();
            truncation = reader.truncation();
            dropped = reader.dropped();
        }
        System.out.print(summary(file, Files.size(file), exchanges, connections, truncation, dropped, windows));
        if (plot != null) {
            LatencyPlot.write(exchanges, plot);
            System.out.println("plot:          " + plot);
        }
        return 0;
    }

    static String summary(Path file, long fileBytes, List<RecordedExchange> xs, Map<Long, RecordedConnection> connections,
            String truncation, long dropped, int windows) {
        StringBuilder out = new StringBuilder();
        line(out, "recording", file + " (" + bytes(fileBytes) + "), " + (truncation == null ? "complete" : "cut short: " + truncation));
        line(out, "connections", connections.size() + " (" + String.join(", ",
                connections.values().stream().map(RecordedConnection::robot).distinct().toList()) + ")");
        long steps = xs.stream().filter(x -> Envelope.OP_STEP.equals(x.op())).count();
        long resets = xs.stream().filter(x -> Envelope.OP_RESET.equals(x.op())).count();
        long failed = xs.stream().filter(x -> x.failure() != null).count();
        long unsent = xs.stream().filter(x -> !x.sent()).count();
        Map<String, Long> forms = new TreeMap<>();
        xs.forEach(x -> forms.merge(String.valueOf(x.form()), 1L, Long::sum));
        line(out, "exchanges", xs.size() + " (steps " + steps + ", resets " + resets + ", failed " + failed
                + (unsent == 0 ? "" : " (" + unsent + " before sending)") + "; forms " + forms + ")");
        line(out, "dropped", dropped + " exchange(s) the recorder could not keep up with");
        if (xs.isEmpty()) {
            return out.toString();
        }
        long start = xs.stream().mapToLong(RecordedExchange::requestTimeNs).min().orElse(0);
        long end = xs.stream().mapToLong(RecordedExchange::replyTimeNs).max().orElse(0);
        line(out, "span", String.format(Locale.ROOT, "%.3f s", (end - start) / 1e9));
        long[] requests = xs.stream().mapToLong(RecordedExchange::requestSize).toArray();
        long[] replies = xs.stream().filter(x -> x.reply() != null).mapToLong(x -> x.reply().length).toArray();
        line(out, "request bytes", sizes(requests));
        line(out, "reply bytes", sizes(replies));
        double[] latency = xs.stream().filter(x -> x.failure() == null).mapToDouble(RecordedExchange::latencyMs).toArray();
        line(out, "latency ms", percentiles(latency));
        double[] infer = xs.stream().filter(x -> x.serverTiming().containsKey("infer_ms"))
                .mapToDouble(x -> x.serverTiming().get("infer_ms")).toArray();
        if (infer.length > 0) {
            line(out, "server infer_ms", percentiles(infer));
        }
        out.append("latency over time (ms):\n");
        long span = Math.max(1, end - start);
        for (int w = 0; w < windows; w++) {
            long from = start + span * w / windows;
            long to = start + span * (w + 1) / windows;
            boolean last = w == windows - 1;
            double[] in = xs.stream().filter(x -> x.failure() == null && x.requestTimeNs() >= from
                    && (x.requestTimeNs() < to || last)).mapToDouble(RecordedExchange::latencyMs).toArray();
            out.append(String.format(Locale.ROOT, "  %8.2f s  n=%-6d %s%n", (from - start) / 1e9, in.length,
                    in.length == 0 ? "" : percentiles(in)));
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String name, String value) {
        out.append(String.format(Locale.ROOT, "%-15s%s%n", name + ":", value));
    }

    static String percentiles(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return String.format(Locale.ROOT, "p50 %.3f  p90 %.3f  p99 %.3f  max %.3f", at(v, 0.50), at(v, 0.90), at(v, 0.99),
                v[v.length - 1]);
    }

    /** The nearest-rank percentile of sorted values. */
    static double at(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static String sizes(long[] values) {
        if (values.length == 0) {
            return "none";
        }
        long total = Arrays.stream(values).sum();
        return "mean " + bytes(total / values.length) + ", max " + bytes(Arrays.stream(values).max().orElse(0))
                + ", total " + bytes(total);
    }

    static String bytes(long n) {
        if (n < 10_000) {
            return n + " B";
        }
        if (n < 10_000_000) {
            return String.format(Locale.ROOT, "%.1f KB", n / 1e3);
        }
        return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
    }
}
