package org.webpolicy.transport.protocol;

/** Why a request failed, as the metrics count it ({@code webpolicy_request_errors_total{kind=...}}). */
public enum FailureKind {
    /** The message was not a request we can read: bad msgpack, not a map, unknown op. */
    DECODE("decode"),
    /** The observation check or spec refused the observation. */
    REJECTED("rejected"),
    /** The policy threw, or returned no action. */
    POLICY("policy"),
    /** The policy call passed its deadline, or too many calls were stuck past theirs. */
    DEADLINE("deadline"),
    /** The policy's action could not be encoded. */
    ENCODE("encode"),
    /** The server was shutting down. */
    SHUTDOWN("shutdown"),
    /** The connection passed one of its bounds (queue, unread replies, memory budget). */
    LIMIT("limit"),
    /** An error of the JVM (e.g. out of memory) while answering. */
    INTERNAL("internal");

    /** The kind's label in the metrics. */
    public final String label;

    FailureKind(String label) {
        this.label = label;
    }
}
