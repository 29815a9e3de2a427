package org.webpolicy.transport;

/** A request failed for a reason the client is told in plain words (no stack trace). */
final class RequestFailure extends RuntimeException {

    /** What the metrics count this failure as. */
    final FailureKind kind;

    RequestFailure(String message) {
        this(FailureKind.DECODE, message);
    }

    RequestFailure(FailureKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    /** How the metrics count {@code failure}: its own kind, or a policy or JVM error. */
    static FailureKind kindOf(Throwable failure) {
        if (failure instanceof RequestFailure rf) {
            return rf.kind;
        }
        return failure instanceof Error ? FailureKind.INTERNAL : FailureKind.POLICY;
    }
}
