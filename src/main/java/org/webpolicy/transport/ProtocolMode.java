package org.webpolicy.transport;

/** How a {@link PolicyClient} frames its requests. */
public enum ProtocolMode {
    /**
     * Bare observations and actions, as openpi servers expect. {@code reset} stays local:
     * openpi servers have no remote reset.
     */
    RAW,
    /**
     * webpolicy envelopes ({@code __webpolicy_op__}), which carry {@code reset} to the server.
     * openpi servers do not understand them.
     */
    ENVELOPE,
    /**
     * Envelopes when the server's handshake says it speaks them (our servers do), raw
     * otherwise, so an openpi server is never sent what it cannot read. The default.
     */
    AUTO
}
