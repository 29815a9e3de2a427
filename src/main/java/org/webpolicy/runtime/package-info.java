/**
 * The robot side's episode loop: {@link org.webpolicy.runtime.ControlLoop ControlLoop} drives an
 * {@link org.webpolicy.runtime.Environment Environment} and an
 * {@link org.webpolicy.runtime.Agent Agent} at a fixed
 * rate, by deadlines, telling {@link org.webpolicy.runtime.Subscriber Subscriber}s of every step
 * ({@link org.webpolicy.runtime.LatencySubscriber LatencySubscriber} summarises the action latencies).
 * Nothing here
 * knows about msgpack or sockets; {@link org.webpolicy.runtime.PolicyAgent PolicyAgent} adapts any policy.
 */
package org.webpolicy.runtime;
