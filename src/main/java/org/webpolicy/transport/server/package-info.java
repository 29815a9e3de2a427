/**
 * The server side behind {@link org.webpolicy.transport.PolicyServer}: a connection's WebSocket
 * after its upgrade ({@link org.webpolicy.transport.server.ServerWire}: frames, ping and pong, the
 * close handshake), its conversation
 * (protocol form, request ids, images), running requests on the worker pool, batching, and the
 * limits that keep one client from costing the others (connection slots, pending handshakes,
 * image decoding, reply memory, log lines).
 */
package org.webpolicy.transport.server;
