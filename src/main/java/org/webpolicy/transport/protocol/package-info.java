/**
 * The protocol, both directions, in one place and with no socket: what a request and a reply are
 * ({@link org.webpolicy.transport.protocol.Request}, {@link org.webpolicy.transport.protocol.Reply}),
 * what a connection's handshake settles and the headers that settle it
 * ({@link org.webpolicy.transport.protocol.SessionTerms}, {@link org.webpolicy.transport.protocol.Headers}),
 * the one encoder and decoder of both ({@link org.webpolicy.transport.protocol.WireMessages}), the
 * client's half of a connection ({@link org.webpolicy.transport.protocol.ClientProtocol}; the
 * server's is {@code transport.server.ProtocolCore}), the envelope keys, the real-time chunking
 * fields, how a failed request is classified and how a peer's text is quoted in an error. What
 * the bytes mean, not how they move. The wire itself is described in {@code docs/PROTOCOL.md}.
 */
package org.webpolicy.transport.protocol;
