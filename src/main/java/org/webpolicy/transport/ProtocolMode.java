package org.webpolicy.transport;

/** How a {@link PolicyClient} frames its requests. */
public enum ProtocolMode {
    /**
     * Bare observations and actions, as openpi servers expect. openpi servers have no remote
     * reset: {@code reset} with an empty payload stays local, and one with a payload is refused
     * (the payload could not arrive).
     */
    RAW,
    /**
     * webpolicy envelopes ({@code __webpolicy_op__}), which carry {@code reset} and its payload
     * to the server. Use it for Python webpolicy servers, whose handshake does not announce the
     * envelope form. openpi servers do not understand envelopes.
     */
    ENVELOPE,
    /**
     * Envelopes when the server's handshake says it speaks them (our servers do), raw
     * otherwise, so an openpi server is never sent what it cannot read. The default.
     */
    AUTO
}
