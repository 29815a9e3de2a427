/**
 * The conformance check behind {@code webpolicy check ws://HOST:PORT}: the cases of
 * docs/PROTOCOL.md run against any policy server (ours, openpi's, Python webpolicy's), spoken
 * byte by byte over a socket of its own (an HTTP upgrade and RFC 6455 frames, no WebSocket
 * library) so that what the server really sends is what is judged. {@link
 * org.webpolicy.check.ConformanceCheck} runs the cases; {@link org.webpolicy.check.WireConnection}
 * is the client side of one connection. Shipped in the command-line jar with
 * {@code org.webpolicy.cli}, not in the library jar.
 */
package org.webpolicy.check;
