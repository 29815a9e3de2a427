/**
 * Action chunk brokers: policies that answer with a chunk of actions (say 50 steps) turned into
 * one action per control tick. {@link org.webpolicy.broker.ActionChunkBroker ActionChunkBroker} asks
 * for a chunk
 * when the last one is used up;
 * {@link org.webpolicy.broker.AsyncActionChunkBroker AsyncActionChunkBroker} asks ahead in
 * the background so the robot does not wait at chunk boundaries. Both are built with
 * {@code builder(policy, actionHorizon)} and are themselves policies.
 */
package org.webpolicy.broker;
