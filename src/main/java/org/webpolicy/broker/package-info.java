/**
 * Action chunk brokers: policies that answer with a chunk of actions (say 50 steps) turned into
 * one action per control tick. {@link org.webpolicy.broker.ChunkScheduler ChunkScheduler} is the
 * one a robot should use: it asks ahead by measured turnaround, sends the continuation to
 * policies that take one, switches only the future, and holds then faults (never inventing an
 * action) when the policy is gone. {@link org.webpolicy.broker.ActionChunkBroker ActionChunkBroker}
 * is openpi's synchronous broker, kept for compatibility and for comparison;
 * {@link org.webpolicy.broker.AsyncActionChunkBroker AsyncActionChunkBroker}, the scheduler's
 * predecessor, still works but waits (up to its timeout) instead of holding and asks at a fixed
 * threshold. All three are themselves policies.
 */
package org.webpolicy.broker;
