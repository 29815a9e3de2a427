package org.webpolicy.transport;

import java.time.Instant;

/**
 * The server could not be reached within the connect timeout: the message says since when and
 * why ("unreachable since T: refused"), so a robot that stops can say the server is gone rather
 * than that a request is slow. The typed fields let a controller report the outage without
 * parsing the text.
 */
public final class ServerUnreachableException extends PolicyConnectionException {

    /** When the outage began. */
    private final Instant since;
    /** Why the last attempt failed. */
    private final String lastCause;

    /**
     * Made by the client when its connect timeout ran out during an outage.
     *
     * @param message the whole story, for people
     * @param since when the outage began
     * @param lastCause why the last attempt failed
     */
    public ServerUnreachableException(String message, Instant since, String lastCause) {
        super(message);
        this.since = since;
        this.lastCause = lastCause;
    }

    /**
     * When the outage began: the connection was lost, or the first failed attempt of the row.
     *
     * @return the start of the outage, on the wall clock
     */
    public Instant since() {
        return since;
    }

    /**
     * Why the last attempt failed, e.g. {@code refused (Connection refused)}.
     *
     * @return the last attempt's failure
     */
    public String lastCause() {
        return lastCause;
    }
}
