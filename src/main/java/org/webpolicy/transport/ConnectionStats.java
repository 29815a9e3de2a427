package org.webpolicy.transport;

import java.time.Instant;

/**
 * What a {@link PolicyClient} has been through with its server(s), at one moment: for a robot's
 * dashboard, or a control loop that wants to say why it holds. Counts only grow.
 *
 * @param connections connections opened (handshake and metadata frame done)
 * @param reconnects connections opened after the first: each a reconnection
 * @param failedAttempts connection attempts that failed (refused, server full, handshake failed)
 * @param outages times the server became unreachable: a connection lost without the client
 *     closing it, or a first attempt failing while there was none
 * @param unreachableSince when the current outage began (the connection was lost, or the first
 *     attempt of a row failed); null while connected, or before the client first tried
 * @param lastFailure why the last connection was lost or the last attempt failed; null before any
 */
public record ConnectionStats(long connections, long reconnects, long failedAttempts, long outages,
        Instant unreachableSince, String lastFailure) {
}
