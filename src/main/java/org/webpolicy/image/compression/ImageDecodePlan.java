package org.webpolicy.image.compression;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageLayout;

/**
 * The compressed images of one observation, every one of them checked and its header and
 * structure read, before any pixel is decoded ({@link #of}); then what decoding them costs
 * ({@link #imageCount}, {@link #decodedBytes}, {@link #peakBytes}), so a server can charge it
 * before the work starts; then the decoding itself ({@link #decode}), which can be stopped.
 *
 * <p>Every image decoder ({@code javax.imageio}, and libjpeg-turbo for JPEG when the native
 * library has it) is reached only
 * through a plan, so each meets the same checks: the declared shape, the pixel and image limits,
 * and a header and structure of the kind our encoder writes ({@link ImageHeader}). Immutable;
 * {@link #decode} may run on any thread, once or more.
 */
public final class ImageDecodePlan {

    /**
     * What a decoder holds beside its output while it decodes one image, per image: its state
     * and stream buffers (the JPEG reader's native buffers, PNG's inflater window)...
     */
    static final long WORKING_BYTES_PER_IMAGE = 256 << 10;
    /** ...and per sample of a row: row buffers (a JPEG decoder keeps up to 16 rows of every component). */
    static final long WORKING_BYTES_PER_ROW_SAMPLE = 64;

    private static final Set<String> KEYS = Set.of(ImageCompression.MARKER, "codec", "dtype", "shape", "layout", "data");

    /** One checked image: where it is, what it declares, its bytes. */
    private record Image(String path, ImageCodec.Kind kind, int height, int width, int channels, boolean chw,
            long[] dims, byte[] data) {

        long decodedBytes() {
            return (long) height * width * channels;
        }

        /** Decoded HWC, then moved to CHW when declared so: a CHW image is held twice for a moment. */
        long peakBytes() {
            return (chw ? 2 : 1) * decodedBytes() + workingBytes(width, channels);
        }

        NdArray decode(BooleanSupplier stop) {
            byte[] pixels;
            try {
                pixels = kind == ImageCodec.Kind.JPEG && NativeJpegCodec.active()
                        ? NativeJpegCodec.decode(data, height, width, channels, stop)
                        : ImageIoCodec.decode(data, kind, height, width, channels, stop);
            } catch (IllegalArgumentException e) {
                throw bad(path, e.getMessage());
            }
            NdArray hwc = NdArray.wrap(DType.UINT8, Shape.of(height, width, channels), ByteBuffer.wrap(pixels));
            return chw ? ImageLayout.hwcToChw(hwc) : hwc;
        }
    }

    /** A compressed image found in the observation: the map that carried it, and what it declares. */
    private record Found(Object map, Image image) {
    }

    private final Map<String, Object> observation;
    /** The compressed images, in the order met. */
    private final List<Found> images;
    private final long decodedBytes;
    private final long peakBytes;

    private ImageDecodePlan(Map<String, Object> observation, List<Found> images) {
        this.observation = observation;
        this.images = images;
        long decoded = 0;
        long peak = 0;
        for (Found found : images) {
            Image image = found.image;
            decoded += image.decodedBytes();
            peak += image.peakBytes();
        }
        this.decodedBytes = decoded;
        this.peakBytes = peak;
    }

    /**
     * What a decoder holds beside its output while decoding an image of this width and channels.
     *
     * @param width pixels per row
     * @param channels samples per pixel
     * @return the bytes
     */
    public static long workingBytes(int width, int channels) {
        return WORKING_BYTES_PER_IMAGE + WORKING_BYTES_PER_ROW_SAMPLE * width * channels;
    }

    /**
     * Checks every compressed image of {@code observation} (its fields, its declared shape
     * against {@code limits}, its header and structure against the shape) without decoding a
     * pixel.
     *
     * @param observation a decoded message
     * @param limits the largest image, and the most images, accepted
     * @return the plan
     * @throws IllegalArgumentException naming the key path and the problem for the first image
     *     that is malformed, disagrees with its declared shape, is over a limit, or is not of a
     *     kind our encoder writes; or when there are more images than {@link ImageCompression.Limits#maxImages()}
     * @throws NullPointerException if an argument is null
     */
    public static ImageDecodePlan of(Map<String, Object> observation, ImageCompression.Limits limits) {
        Objects.requireNonNull(observation, "observation");
        Objects.requireNonNull(limits, "limits");
        if (observation.containsKey(ImageCompression.MARKER)) {
            // An observation is a map of named values, never a bare image.
            throw new IllegalArgumentException("The observation itself is marked as a compressed image ("
                    + ImageCompression.MARKER + " at the top level); images must be values inside the observation map");
        }
        List<Found> found = new ArrayList<>();
        collect(observation, limits, "", found);
        return new ImageDecodePlan(observation, List.copyOf(found));
    }

    /**
     * The number of compressed images.
     *
     * @return the count; 0 when the observation has none
     */
    public int imageCount() {
        return images.size();
    }

    /**
     * The bytes of the arrays the images decode to.
     *
     * @return the sum of the declared shapes' products
     */
    public long decodedBytes() {
        return decodedBytes;
    }

    /**
     * The most memory decoding holds at once: the decoded arrays plus each image's decoder
     * working memory ({@link #workingBytes}); an image is decoded straight into its array, and
     * only a channels-first (CHW) one is held twice for a moment (decoded pixel-interleaved,
     * which decoders fill in bulk, then moved: faster than filling planes pixel by pixel).
     *
     * @return the bytes
     */
    public long peakBytes() {
        return peakBytes;
    }

    /**
     * A copy of the observation with arrays in place of its compressed images, in their declared
     * dtype, shape and layout; other values are shared. The images are decoded one after another
     * on the calling thread.
     *
     * @param stop asked at every read of the data and every decoded row; true stops the work
     * @return the observation with arrays
     * @throws IllegalArgumentException naming the key path and the problem when an image does not
     *     decode, or its decoder reports corrupt or missing data
     * @throws CancellationException when {@code stop} answered true
     */
    public Map<String, Object> decode(BooleanSupplier stop) {
        return decode(stop, null);
    }

    /**
     * {@link #decode(BooleanSupplier)} with the images decoded side by side: the calling thread
     * and helpers on {@code helpers} each take the next image not yet taken (each image is
     * decoded whole by one thread, into its own array). It returns once every helper that
     * started has stopped, so nothing it started still holds memory; a helper that has not started
     * by then does nothing when it runs. When an image fails, the others stop at their next
     * band or row and the error names the first image in order that failed. The memory held is
     * still at most {@link #peakBytes()}.
     *
     * @param stop asked at every read of the data and every decoded row, on every thread; true
     *     stops the work
     * @param helpers where helpers run (a few threads: one helper per image but the first is
     *     asked for); null decodes every image on the calling thread
     * @return the observation with arrays
     * @throws IllegalArgumentException naming the key path and the problem when an image does not
     *     decode, or its decoder reports corrupt or missing data
     * @throws CancellationException when {@code stop} answered true
     */
    public Map<String, Object> decode(BooleanSupplier stop, Executor helpers) {
        Objects.requireNonNull(stop, "stop");
        if (images.isEmpty()) {
            return observation;
        }
        long pixels = 0;
        for (Found found : images) {
            pixels += (long) found.image.height * found.image.width;
        }
        List<NdArray> arrays = ImageFanOut.run(images.size(), pixels, (i, imageStop) -> {
            if (imageStop.getAsBoolean()) {
                throw new CancellationException("decoding stopped");
            }
            return images.get(i).image.decode(imageStop);
        }, stop, helpers);
        Map<Object, NdArray> decoded = new IdentityHashMap<>();
        for (int i = 0; i < images.size(); i++) {
            decoded.put(images.get(i).map, arrays.get(i));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) replace(observation, decoded);
        return out;
    }

    private static Object replace(Object value, Map<Object, NdArray> decoded) {
        NdArray array = decoded.get(value);
        if (array != null) {
            return array;
        }
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, replace(v, decoded)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(replace(v, decoded)));
            return out;
        }
        return value;
    }

    private static void collect(Object value, ImageCompression.Limits limits, String path, List<Found> found) {
        if (value instanceof Map<?, ?> m) {
            if (m.containsKey(ImageCompression.MARKER)) {
                if (found.size() >= limits.maxImages()) {
                    throw new IllegalArgumentException("Compressed image at " + path + ": more than "
                            + limits.maxImages() + " compressed images in one observation");
                }
                found.add(new Found(m, check(m, limits, path)));
                return;
            }
            m.forEach((k, v) -> collect(v, limits, path.isEmpty() ? String.valueOf(k) : path + "/" + k, found));
            return;
        }
        if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collect(l.get(i), limits, path + "[" + i + "]", found);
            }
        }
    }

    static IllegalArgumentException bad(String path, String problem) {
        return new IllegalArgumentException("Compressed image at " + path + ": " + problem);
    }

    private static Image check(Map<?, ?> m, ImageCompression.Limits limits, String path) {
        if (!Boolean.TRUE.equals(m.get(ImageCompression.MARKER))) {
            throw bad(path, ImageCompression.MARKER + " must be true, got " + m.get(ImageCompression.MARKER));
        }
        for (Object k : m.keySet()) {
            if (!KEYS.contains(k)) {
                throw bad(path, "unexpected key '" + k + "' (keys are " + KEYS + ")");
            }
        }
        ImageCodec.Kind kind;
        Object codec = m.get("codec");
        if ("png".equals(codec)) {
            kind = ImageCodec.Kind.PNG;
        } else if ("jpeg".equals(codec)) {
            kind = ImageCodec.Kind.JPEG;
        } else {
            throw bad(path, "codec must be \"png\" or \"jpeg\", got " + describe(codec));
        }
        if (!DType.UINT8.str().equals(m.get("dtype"))) {
            throw bad(path, "dtype must be \"|u1\" (uint8), got " + describe(m.get("dtype")));
        }
        Object layout = m.get("layout");
        if (!"hwc".equals(layout) && !"chw".equals(layout)) {
            throw bad(path, "layout must be \"hwc\" or \"chw\", got " + describe(layout));
        }
        boolean chw = "chw".equals(layout);
        long[] dims = shape(m.get("shape"), path);
        long h = chw ? dims[1] : dims[0];
        long w = chw ? dims[2] : dims[1];
        long c = chw ? dims[0] : dims[2];
        if (c != 1 && c != 3 && c != 4) {
            throw bad(path, "shape " + Shape.of(dims) + " has " + c + " channels (1, 3 or 4)");
        }
        if (h < 1 || w < 1 || h * w > limits.maxPixels()) {
            throw bad(path, "declared " + h + "x" + w + " pixels, outside 1 to " + limits.maxPixels());
        }
        if (!(m.get("data") instanceof byte[] data)) {
            throw bad(path, "data must be bytes, got " + describe(m.get("data")));
        }
        long rawBytes = h * w * c;
        if (data.length > 4 * rawBytes + 65536) {
            throw bad(path, data.length + " bytes of " + kind.token() + " for a " + rawBytes + "-byte image is too many");
        }
        ImageHeader header;
        try {
            header = ImageHeader.read(data, kind);
        } catch (IllegalArgumentException e) {
            throw bad(path, e.getMessage());
        }
        if (header.height() != h || header.width() != w || header.channels() != c) {
            throw bad(path, "the " + kind.token() + " header says " + header.height() + "x" + header.width() + "x"
                    + header.channels() + ", the shape " + Shape.of(dims) + " (" + layout + ") says " + h + "x" + w
                    + "x" + c);
        }
        return new Image(path, kind, (int) h, (int) w, (int) c, chw, dims, data);
    }

    private static long[] shape(Object value, String path) {
        if (!(value instanceof List<?> list) || list.size() != 3) {
            throw bad(path, "shape must be a list of 3 integers, got " + describe(value));
        }
        long[] dims = new long[3];
        for (int i = 0; i < 3; i++) {
            Object d = list.get(i);
            if (!(d instanceof Long || d instanceof Integer) || ((Number) d).longValue() < 1
                    || ((Number) d).longValue() > Integer.MAX_VALUE) {
                throw bad(path, "shape must be 3 positive integers, got " + describe(value));
            }
            dims[i] = ((Number) d).longValue();
        }
        return dims;
    }

    private static String describe(Object v) {
        if (v == null) {
            return "nothing";
        }
        if (v instanceof byte[] b) {
            return b.length + " bytes";
        }
        String s = String.valueOf(v);
        return v.getClass().getSimpleName() + " " + (s.length() > 40 ? s.substring(0, 40) + "..." : s);
    }
}
