/**
 * The client side behind {@link org.webpolicy.transport.PolicyClient}: connecting with retries and
 * failover, one connection's requests and replies, pipelined calls, and the health figures a
 * robot reads.
 */
package org.webpolicy.transport.client;
