/**
 * The protocol's vocabulary, shared by both ends: the envelope keys, the real-time chunking
 * fields, how a failed request is classified and how a peer's text is quoted in an error. No
 * socket here: what the bytes mean, not how they move. The wire itself is described in
 * {@code docs/PROTOCOL.md}.
 */
package org.webpolicy.transport.protocol;
