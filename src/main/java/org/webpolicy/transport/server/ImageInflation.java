package org.webpolicy.transport.server;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.image.compression.ImageDecodePlan;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.protocol.RequestFailure;

/**
 * The server's side of compressed images: on a connection whose handshake accepted a codec, an
 * observation's compressed images become arrays again before the observation check and the
 * policy. Every piece of work and memory this costs is bounded and charged before it is spent:
 * <ol>
 *   <li>every image is checked on the calling worker without decoding a pixel
 *       ({@link ImageDecodePlan}): fields, declared shape, header, and a structure of the kind our
 *       encoder writes (no progressive JPEG, nothing truncated), at most
 *       {@link ImageCompression.Limits#maxImages()} images; the arrays one observation declares
 *       hold at most the largest message the server accepts;</li>
 *   <li>the decode's real peak (the arrays plus each decoder's working memory) is taken from the
 *       inbound budget, and given back only when the arrays are no longer used and the decode
 *       has really ended;</li>
 *   <li>the decoding runs on the {@link ImageDecodePool} (a bounded share of workers and cores,
 *       an observation's images side by side),
 *       within the request's deadline (the server's policy timeout when set, else
 *       {@link #DEFAULT_DEADLINE}), and stops when the client leaves.</li>
 * </ol>
 * Thread-safe.
 */
public final class ImageInflation {

    /** How long an observation's images may take to decode when the server has no policy timeout. */
    static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

    private final long maxDecodedBytes;
    private final ImageCompression.Limits limits;
    private final ImageDecodePool pool;
    private final Duration deadline;

    /**
     * @param maxDecodedBytes the most bytes the arrays of one observation may declare in all
     * @param pool where decoding runs
     * @param deadline the longest an observation's decoding may take, from when it is checked
     */
    ImageInflation(long maxDecodedBytes, ImageDecodePool pool, Duration deadline) {
        this.maxDecodedBytes = maxDecodedBytes;
        // One image of one channel can be no larger than the whole bound.
        this.limits = new ImageCompression.Limits(Math.min(ImageCompression.Limits.DEFAULT.maxPixels(), maxDecodedBytes));
        this.pool = pool;
        this.deadline = deadline;
    }

    ImageDecodePool pool() {
        return pool;
    }

    /**
     * Runs {@code use} on {@code observation} with its compressed images decoded, holding their
     * peak memory in {@code budget} meanwhile.
     *
     * @param gone true once the client has left: its decoding stops
     * @throws RequestFailure naming the image and the problem when one is malformed or over a
     *     bound, when the budget cannot hold the decode now, when every decode slot is taken, or
     *     when the decode passed its deadline or its client left
     */
    <T> T inflated(Map<String, Object> observation, InboundBudget budget, BooleanSupplier gone,
            Function<Map<String, Object>, T> use) {
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
        long start = System.nanoTime();
        ImageDecodePlan plan;
        try {
            plan = ImageDecodePlan.of(observation, limits);
        } catch (IllegalArgumentException e) {
            throw rejected(e);
        }
        long charge = plan.peakBytes();
        if (!budget.tryReserve(charge, charge)) {
            throw new RequestFailure(FailureKind.LIMIT, "Compressed images rejected: the server's inbound memory budget"
                    + " cannot hold the " + charge + " bytes decoding them takes now; try again later");
        }
        // Two holders: this worker (until the arrays are no longer used) and the decode (until it has ended).
        AtomicInteger holders = new AtomicInteger(2);
        Runnable letGo = () -> {
            if (holders.decrementAndGet() == 0) {
                budget.release(charge);
            }
        };
        try {
            Map<String, Object> decoded;
            try {
                decoded = pool.run(stop -> plan.decode(stop, pool.helpers()), start + deadline.toNanos(), gone, letGo);
            } catch (IllegalArgumentException e) {
                throw rejected(e);
            } catch (ImageDecodePool.Stopped e) {
                throw switch (e.why) {
                    case BUSY -> new RequestFailure(FailureKind.LIMIT, "Compressed images rejected: the server is"
                            + " decoding the images of " + pool.slotCount() + " observations already, its limit; try"
                            + " again later");
                    case DEADLINE -> new RequestFailure(FailureKind.DEADLINE, "Decoding the compressed images exceeded"
                            + " its deadline of " + deadline.toMillis() + " ms and was abandoned");
                    case GONE -> new RequestFailure(FailureKind.SHUTDOWN, "The client left; its images were not decoded");
                    case SHUTDOWN -> new RequestFailure(FailureKind.SHUTDOWN, "The server is shutting down; images not decoded");
                };
            }
            return use.apply(decoded);
        } finally {
            letGo.run();
        }
    }

    private static RequestFailure rejected(IllegalArgumentException e) {
        return new RequestFailure("Observation rejected: "
                + ClientText.quote(e.getMessage(), 4 * ClientText.MAX_QUOTED_CHARS));
    }

    /**
     * The bytes the compressed images in {@code value} declare (the product of each shape), or
     * {@link Long#MAX_VALUE} once past any bound; 0 when there is none. A malformed shape counts
     * 1, so that the plan refuses it with its own message. (Nesting is already bounded by the
     * codec's depth limit.)
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
