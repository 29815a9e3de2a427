package org.webpolicy.transport.protocol;

/** A request failed for a reason the client is told in plain words (no stack trace). */
public final class RequestFailure extends RuntimeException {

    /** What the metrics count this failure as. */
    public final FailureKind kind;

    /**
     * A request that could not be read, counted as {@link FailureKind#DECODE}.
     *
     * @param message what was wrong, in words the client is shown
     */
    public RequestFailure(String message) {
        this(FailureKind.DECODE, message);
    }

    /**
     * A request that failed for the given reason.
     *
     * @param kind what the metrics count it as
     * @param message what was wrong, in words the client is shown
     */
    public RequestFailure(FailureKind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    /**
     * How the metrics count {@code failure}: its own kind, or a policy or JVM error.
     *
     * @param failure what a request failed with
     * @return the kind to count
     */
    public static FailureKind kindOf(Throwable failure) {
        if (failure instanceof RequestFailure rf) {
            return rf.kind;
        }
        return failure instanceof Error ? FailureKind.INTERNAL : FailureKind.POLICY;
    }
}
