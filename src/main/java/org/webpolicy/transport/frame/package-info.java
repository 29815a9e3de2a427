/**
 * WebSocket framing (RFC 6455) as this library needs it: decoding frames within bounds charged
 * to an {@link org.webpolicy.transport.frame.InboundBudget}, masking at memory speed, and building a
 * client's request frame without a second copy of the payload.
 */
package org.webpolicy.transport.frame;
