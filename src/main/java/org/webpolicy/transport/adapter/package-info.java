/**
 * Where this library meets the Java-WebSocket library: the HTTP upgrade on both ends, the
 * server's health and metrics answers, and the hand-over of a connection's socket to this
 * library's own I/O loop and frame writer once its handshake is done. Every byte after the upgrade
 * goes to the connection's {@link org.webpolicy.transport.server.ServerWire}: the library runs no
 * frame semantics. Java-WebSocket types appear here and nowhere else.
 */
package org.webpolicy.transport.adapter;
