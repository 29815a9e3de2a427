package org.webpolicy.broker;

import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.RemotePolicyException;
import org.webpolicy.transport.RequestTimeoutException;

/** Why a {@link ChunkScheduler} ran out of actions, as {@link ChunkStarvationException#starvationCause()} tells it. */
public enum StarvationCause {
    /**
     * The policy server could not be reached or the connection kept failing (a
     * {@link PolicyConnectionException}), or a {@code PolicyClient} is still reconnecting to it
     * with the request under way.
     */
    SERVER_UNREACHABLE,
    /** The server took longer than the client's request timeout to answer (a {@link RequestTimeoutException}). */
    REQUEST_TIMED_OUT,
    /** The server answered with an error ({@link RemotePolicyException}); its text is in the message. */
    SERVER_ERROR,
    /** A policy in this process threw, or its reply was not a usable chunk. */
    POLICY_FAILED,
    /** No request failed: the policy simply answers more slowly than the chunk lasts. */
    POLICY_TOO_SLOW;

    /** The cause a failed request points to. */
    static StarvationCause of(Throwable failure) {
        if (failure instanceof RemotePolicyException) {
            return SERVER_ERROR;
        }
        if (failure instanceof RequestTimeoutException) {
            return REQUEST_TIMED_OUT;
        }
        if (failure instanceof PolicyConnectionException) {
            return SERVER_UNREACHABLE;
        }
        return POLICY_FAILED;
    }
}
