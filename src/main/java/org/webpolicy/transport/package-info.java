/**
 * Policies over WebSocket, byte-compatible with the Python openpi and webpolicy peers:
 * {@link org.webpolicy.transport.PolicyServer PolicyServer} serves a policy, and
 * {@link org.webpolicy.transport.PolicyClient PolicyClient} is a policy served elsewhere. Framing, the
 * handshake and the protocol's envelopes are this package's business; the wire contract is
 * docs/PROTOCOL.md.
 */
package org.webpolicy.transport;
