package org.webpolicy.transport;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.webpolicy.image.compression.ImageCompression;

/**
 * The server's side of compressed images: on a connection whose handshake accepted a codec, an
 * observation's compressed images become arrays again before the observation check and the
 * policy. Decoding is held to the server's own bounds, checked on the declared shapes before any
 * pixel is decoded: the arrays one observation declares hold at most the largest message the
 * server accepts (so a compressed observation never costs more memory than a raw one could),
 * and their bytes are taken from the inbound budget until the request is answered. Thread-safe.
 */
final class ImageInflation {

    private final long maxDecodedBytes;
    private final ImageCompression.Limits limits;

    /** @param maxDecodedBytes the most bytes the arrays of one observation may declare in all */
    ImageInflation(long maxDecodedBytes) {
        this.maxDecodedBytes = maxDecodedBytes;
        // One image of one channel can be no larger than the whole bound.
        this.limits = new ImageCompression.Limits(Math.min(ImageCompression.Limits.DEFAULT.maxPixels(), maxDecodedBytes));
    }

    /**
     * Runs {@code use} on {@code observation} with its compressed images decoded, holding their
     * bytes in {@code budget} meanwhile.
     *
     * @throws RequestFailure naming the image and the problem when one is malformed or over a
     *     bound, or when the budget cannot hold the decoded bytes now
     */
    <T> T inflated(Map<String, Object> observation, InboundBudget budget, Function<Map<String, Object>, T> use) {
        if (observation.containsKey(ImageCompression.MARKER)) {
            throw new RequestFailure("Observation rejected: an observation is a map of values; this one is marked as a"
                    + " compressed image itself (key " + ImageCompression.MARKER + ")");
        }
        long declared = declaredBytes(observation);
        if (declared == 0) {
            return use.apply(observation); // nothing compressed: nothing to decode or to hold
        }
        if (declared > maxDecodedBytes) {
            throw new RequestFailure("Compressed images rejected: they declare " + declared
                    + " bytes of arrays, more than this server's limit of " + maxDecodedBytes + " bytes per message");
        }
        if (!budget.tryReserve(declared, declared)) {
            throw new RequestFailure("Compressed images rejected: the server's inbound memory budget cannot hold their "
                    + declared + " decoded bytes now; try again later");
        }
        try {
            Map<String, Object> decoded;
            try {
                decoded = ImageCompression.decompress(observation, limits);
            } catch (IllegalArgumentException e) {
                throw new RequestFailure("Observation rejected: " + ClientText.quote(e.getMessage(), 4 * ClientText.MAX_QUOTED_CHARS));
            }
            return use.apply(decoded);
        } finally {
            budget.release(declared);
        }
    }

    /**
     * The bytes the compressed images in {@code value} declare (the product of each shape), or
     * {@link Long#MAX_VALUE} once past any bound; 0 when there is none. A malformed shape counts
     * 1, so that decoding runs and {@link ImageCompression#decompress} refuses it with its own
     * message. (Nesting is already bounded by the codec's depth limit.)
     */
    static long declaredBytes(Object value) {
        if (value instanceof Map<?, ?> m) {
            if (m.containsKey(ImageCompression.MARKER)) {
                return shapeBytes(m.get("shape"));
            }
            long total = 0;
            for (Object v : m.values()) {
                total = saturatedAdd(total, declaredBytes(v));
            }
            return total;
        }
        if (value instanceof List<?> l) {
            long total = 0;
            for (Object v : l) {
                total = saturatedAdd(total, declaredBytes(v));
            }
            return total;
        }
        return 0;
    }

    private static long shapeBytes(Object shape) {
        if (!(shape instanceof List<?> dims)) {
            return 1;
        }
        long product = 1;
        for (Object d : dims) {
            if (!(d instanceof Long || d instanceof Integer) || ((Number) d).longValue() < 1) {
                return 1;
            }
            long n = ((Number) d).longValue();
            if (product > Long.MAX_VALUE / n) {
                return Long.MAX_VALUE;
            }
            product *= n;
        }
        return product;
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }
}
