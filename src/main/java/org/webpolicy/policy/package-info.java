/**
 * The one interface every part shares: {@link org.webpolicy.policy.Policy Policy} (observation in,
 * action out; reset and metadata), implemented by local models, remote servers' clients and the
 * brokers alike; and {@link org.webpolicy.policy.ObservationSpec ObservationSpec}, what a policy
 * expects in each
 * observation, checked by servers and advertised to clients.
 */
package org.webpolicy.policy;
