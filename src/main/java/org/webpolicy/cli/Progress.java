package org.webpolicy.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of a long run, on standard error so that standard output stays the report: at most
 * one line a second, the first after a second (a short run prints nothing), for example
 * {@code client: 1200/5000 steps (24%), 3.0 s, about 9.5 s left}. On a terminal the line is
 * rewritten in place and ended when the run ends; elsewhere (a log, CI) each is a line of its own.
 */
final class Progress {

    private static final long INTERVAL_NANOS = 1_000_000_000L;

    private final String label;
    private final long total;
    private final PrintWriter out;
    private final boolean inPlace;
    private final LongSupplier nanoTime;
    private final long start;
    private long lastPrint;
    private boolean printed;
    /** The first update: the rate for the time left is measured from there, not from a slow start. */
    private long firstUpdateNanos = -1;
    private long firstUpdateDone;

    /**
     * @param label what runs, e.g. {@code client}
     * @param total steps the run makes
     * @param out where the lines go
     * @param inPlace rewrite one line ({@code \r}) instead of printing a line each time
     * @param nanoTime the clock ({@code System::nanoTime}; tests pass their own)
     */
    Progress(String label, long total, PrintWriter out, boolean inPlace, LongSupplier nanoTime) {
        this.label = label;
        this.total = total;
        this.out = out;
        this.inPlace = inPlace;
        this.nanoTime = nanoTime;
        this.start = nanoTime.getAsLong();
        this.lastPrint = start;
    }

    /** Progress on {@code err} (the command's standard error), in place when the JVM has a terminal. */
    static Progress on(PrintWriter err, String label, long total) {
        return new Progress(label, total, err, System.console() != null, System::nanoTime);
    }

    /** Reports that {@code done} of the total steps are done; prints when a second has passed since the last line. */
    void update(long done) {
        long now = nanoTime.getAsLong();
        if (firstUpdateNanos < 0) {
            firstUpdateNanos = now;
            firstUpdateDone = done;
        }
        if (now - lastPrint < INTERVAL_NANOS) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1e9;
        String line = String.format(Locale.ROOT, "%s: %d/%d steps (%d%%), %.1f s", label, done, total,
                total == 0 ? 100 : done * 100 / total, elapsed);
        if (done > firstUpdateDone && done < total) {
            double perStep = (now - firstUpdateNanos) / 1e9 / (done - firstUpdateDone);
            line += String.format(Locale.ROOT, ", about %.1f s left", perStep * (total - done));
        }
        if (inPlace) {
            out.print("\r" + line + "\u001b[K");
        } else {
            out.println(line);
        }
        out.flush();
        printed = true;
    }

    /** Ends the line rewritten in place, if any, so that what follows starts on a line of its own. */
    void finish() {
        if (inPlace && printed) {
            out.println();
            out.flush();
        }
    }
}
