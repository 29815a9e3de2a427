package org.webpolicy.transport.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.transport.protocol.ClientText;

/**
 * Every line the server logs about something a client did goes through here, under one rate
 * limit: a client failing requests or breaking the protocol in a loop must not be able to fill
 * the server's log at the rate it can open connections. Lines over the limit are counted, and the
 * count is given with the next line logged.
 */
public final class ClientLog {

    /** Lines about clients logged at most this often. */
    public static final int LINES_PER_SECOND = 20;

    private static final Logger log = LoggerFactory.getLogger(ClientLog.class);
    private final LogBudget budget = new LogBudget(LINES_PER_SECOND, System::nanoTime);

    /**
     * Logs a warning when the budget allows; arguments quoted from a client must already be {@link ClientText}.
     *
     * @param format the SLF4J format
     * @param args its arguments
     */
    public void warn(String format, Object... args) {
        long suppressed = budget.admit();
        if (suppressed < 0) {
            return;
        }
        if (suppressed == 0) {
            log.warn(format, args);
        } else {
            log.warn(format + " ({} more lines about clients not logged)", append(args, suppressed));
        }
    }

    private static Object[] append(Object[] args, Object last) {
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = last;
        return all;
    }
}
