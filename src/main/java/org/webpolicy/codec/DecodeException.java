package org.webpolicy.codec;

import org.webpolicy.WebPolicyException;

/**
 * A message could not be decoded. The message says what was wrong and where; {@link #problem()}
 * tells the kinds apart for code that reacts to them.
 */
public final class DecodeException extends WebPolicyException {

    /** The ways a message can be wrong. */
    public enum Problem {
        /** The bytes end in the middle of a value. */
        TRUNCATED,
        /** Bytes follow the one value a message holds. */
        TRAILING_BYTES,
        /** Not msgpack: a never-used format byte, or a str that is not UTF-8. */
        MALFORMED,
        /** A msgpack type the wire format does not use (extension types). */
        UNSUPPORTED_TYPE,
        /** A map key that is neither str nor bin. */
        BAD_MAP_KEY,
        /** Nesting deeper than the codec's limit. */
        TOO_DEEP,
        /** An {@code __ndarray__} map with a missing field or a field of the wrong type. */
        BAD_ARRAY,
        /** A dtype string that is malformed or of a kind that cannot be sent. */
        BAD_DTYPE,
        /** A shape that is not a list of non-negative ints, or too large. */
        BAD_SHAPE,
        /** Array data whose length is not product(shape) × itemsize. */
        DATA_LENGTH_MISMATCH,
        /** An {@code __npgeneric__} map that does not make a numpy scalar. */
        BAD_SCALAR,
        /**
         * The decoded value would take more memory than the codec's limit per message (its maps,
         * lists and strings, estimated as they are built; see {@link MsgpackCodec#maxDecodedBytes()}).
         */
        TOO_LARGE
    }

    /** Which kind of problem this is. */
    private final Problem problem;

    /**
     * @param problem which kind of problem
     * @param message what is wrong, and where in the message
     */
    public DecodeException(Problem problem, String message) {
        super(message);
        this.problem = problem;
    }

    /**
     * @param problem which kind of problem
     * @param message what is wrong, and where in the message
     * @param cause the lower-level failure
     */
    public DecodeException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
    }

    /**
     * Which kind of problem this is, for callers that handle some differently.
     *
     * @return the problem
     */
    public Problem problem() {
        return problem;
    }
}
