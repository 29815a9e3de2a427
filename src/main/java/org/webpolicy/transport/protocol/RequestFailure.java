package org.webpolicy.transport.protocol;

/** A request failed for a reason the client is told in plain words (no stack trace). */
public final class RequestFailure extends RuntimeException {

    /** What the metrics count this failure as. */
    public final FailureKind kind;

    public RequestFailure(String message) {
        this(FailureKind.DECODE, message);
    }

    public RequestFailure(FailureKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    /** How the metrics count {@code failure}: its own kind, or a policy or JVM error. */
    public static FailureKind kindOf(Throwable failure) {
        if (failure instanceof RequestFailure rf) {
            return rf.kind;
        }
        return failure instanceof Error ? FailureKind.INTERNAL : FailureKind.POLICY;
    }
}
