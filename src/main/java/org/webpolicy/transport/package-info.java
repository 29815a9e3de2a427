/**
 * Policies over WebSocket, byte-compatible with the Python openpi and webpolicy peers:
 * {@link org.webpolicy.transport.PolicyServer PolicyServer} serves a policy, and
 * {@link org.webpolicy.transport.PolicyClient PolicyClient} is a policy served elsewhere. This
 * package is the API: the two of them, their options, what they report and the exceptions they
 * throw. The machinery lives in sub-packages a user never needs: {@code frame} (WebSocket
 * framing), {@code protocol} (the vocabulary both ends share), {@code server}, {@code client},
 * {@code adapter} (the one place the WebSocket library is used) and {@code metrics}. The wire
 * contract is {@code docs/PROTOCOL.md}.
 */
package org.webpolicy.transport;
