package org.webpolicy.check;

/**
 * The outcome of one case of the conformance check.
 *
 * @param name the case, e.g. {@code step} or {@code malformed-request}
 * @param verdict passed, failed or not run
 * @param detail what was seen, or why the case failed or was skipped
 */
public record CaseResult(String name, Verdict verdict, String detail) {

    /** Whether a case held. */
    public enum Verdict {
        /** The server did what the protocol asks. */
        PASS,
        /** It did not: the detail says what came instead. */
        FAIL,
        /** The case does not apply to this server (an extension it does not offer, the other form) or could not run. */
        SKIP
    }

    /**
     * One line for a terminal: verdict, name, detail.
     *
     * @return for example {@code PASS  step               a map came back: actions, server_timing}
     */
    public String line() {
        return String.format("%-5s %-20s %s", verdict, name, detail);
    }
}
