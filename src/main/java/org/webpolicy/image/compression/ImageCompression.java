package org.webpolicy.image.compression;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.ImageLayout;

/**
 * Replaces the images of an observation with PNG or JPEG bytes ({@link #compress}) and back
 * ({@link #decompress}), for links where raw pixels cost more time than encoding them.
 *
 * <h2>Which arrays are images</h2>
 * A uint8 array of rank 3 with at least {@value #MIN_PIXELS} pixels, in one of two layouts:
 * <ul>
 *   <li>channels-last {@code [h, w, c]} with c = 1, 3 or 4 (grey, RGB, RGBA), tried first;</li>
 *   <li>channels-first {@code [c, h, w]} with c = 1 or 3 and a last dimension above 4 (openpi's
 *       ALOHA images, {@code [3, 224, 224]}).</li>
 * </ul>
 * JPEG has no alpha: 4-channel images stay raw under JPEG. Everything else (other dtypes, batches of
 * rank 4, two channels, tiny arrays) stays as it is. Images are found in nested maps and lists.
 *
 * <h2>The compressed value</h2>
 * A map that msgpack carries as it is: {@value #MARKER}: true, {@code "codec"}: "png" or "jpeg",
 * {@code "dtype"}: "|u1", {@code "shape"}: the array's shape, {@code "layout"}: "hwc" or "chw",
 * {@code "data"}: the encoded bytes (channel 0 stored as red). PNG gives back the exact bytes;
 * JPEG at quality 90 differs by a few levels on camera-like content (docs/IMAGE.md has the numbers).
 *
 * <h2>Bounded decoding</h2>
 * Before any pixel is decoded, the PNG or JPEG header is read and must agree with the declared
 * shape, the declared image must have at most {@link Limits#maxPixels()} pixels, and the data at
 * most four times the raw size plus 64 KiB; a decoder never allocates for a size an attacker
 * chose. Every refusal is an {@link IllegalArgumentException} naming the key path and the problem.
 *
 * <p>Stateless and thread-safe; uses only {@code javax.imageio}, so no native library.
 */
public final class ImageCompression {

    /** The key that marks a compressed image. */
    public static final String MARKER = "__webpolicy_image__";

    /** Smaller arrays stay raw: headers would cost more than the pixels. */
    public static final int MIN_PIXELS = 64;

    private static final Set<String> KEYS = Set.of(MARKER, "codec", "dtype", "shape", "layout", "data");

    /**
     * How large a decoded image may be.
     *
     * @param maxPixels the most pixels (height times width) of one image
     */
    public record Limits(long maxPixels) {

        /** 16 megapixels (4096 x 4096): far above any camera we serve, far below memory trouble. */
        public static final Limits DEFAULT = new Limits(4096L * 4096L);

        /**
         * Checks the limit.
         *
         * @param maxPixels the most pixels of one image, at least 1
         * @throws IllegalArgumentException if {@code maxPixels} is below 1
         */
        public Limits {
            if (maxPixels < 1) {
                throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
            }
        }
    }

    private ImageCompression() {
    }

    /**
     * A copy of {@code observation} whose images (see the class comment) are compressed with
     * {@code codec}; other values are shared, not copied. {@link ImageCodec#RAW} returns
     * {@code observation} itself.
     *
     * @param observation an observation: a map of arrays, values and nested maps and lists
     * @param codec PNG or JPEG (or RAW: nothing changes)
     * @return the observation with compressed images
     * @throws NullPointerException if an argument is null
     */
    public static Map<String, Object> compress(Map<String, Object> observation, ImageCodec codec) {
        Objects.requireNonNull(observation, "observation");
        Objects.requireNonNull(codec, "codec");
        if (codec.kind() == ImageCodec.Kind.RAW) {
            return observation;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) compressValue(observation, codec);
        return out;
    }

    /**
     * A copy of {@code observation} whose compressed images are arrays again, in their declared
     * dtype, shape and layout; other values are shared. Decodes with {@link Limits#DEFAULT}.
     *
     * @param observation a decoded message
     * @return the observation with arrays in place of compressed images
     * @throws IllegalArgumentException naming the key path and the problem for a compressed image
     *     that is malformed, does not match its declared shape, or is over the limits
     * @throws NullPointerException if {@code observation} is null
     */
    public static Map<String, Object> decompress(Map<String, Object> observation) {
        return decompress(observation, Limits.DEFAULT);
    }

    /**
     * {@link #decompress(Map)} with explicit limits.
     *
     * @param observation a decoded message
     * @param limits the largest image accepted
     * @return the observation with arrays in place of compressed images
     * @throws IllegalArgumentException naming the key path and the problem for a compressed image
     *     that is malformed, does not match its declared shape, or is over the limits
     * @throws NullPointerException if an argument is null
     */
    public static Map<String, Object> decompress(Map<String, Object> observation, Limits limits) {
        Objects.requireNonNull(observation, "observation");
        Objects.requireNonNull(limits, "limits");
        Object out = decompressValue(observation, limits, "");
        if (!(out instanceof Map<?, ?>)) {
            // The observation itself was marked as one compressed image: an observation is a map
            // of named values, never a bare image.
            throw new IllegalArgumentException("The observation itself is marked as a compressed image ("
                    + MARKER + " at the top level); images must be values inside the observation map");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) out;
        return map;
    }

    // ---------------------------------------------------------------- compress

    private static Object compressValue(Object value, ImageCodec codec) {
        if (value instanceof NdArray a) {
            return compressArray(a, codec);
        }
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, compressValue(v, codec)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(compressValue(v, codec)));
            return out;
        }
        return value;
    }

    /** "hwc", "chw", or null when {@code a} is not an image {@code codec} can carry. */
    static String layoutOf(NdArray a, ImageCodec codec) {
        if (!a.dtype().equals(DType.UINT8) || a.rank() != 3) {
            return null;
        }
        Shape s = a.shape();
        boolean jpeg = codec.kind() == ImageCodec.Kind.JPEG;
        long last = s.dim(2);
        long first = s.dim(0);
        String layout = null;
        long pixels = 0;
        if (last == 1 || last == 3 || (last == 4 && !jpeg)) {
            layout = "hwc";
            pixels = s.dim(0) * s.dim(1);
        } else if ((first == 1 || first == 3) && last > 4) {
            layout = "chw";
            pixels = s.dim(1) * s.dim(2);
        }
        return layout != null && pixels >= MIN_PIXELS && pixels <= Integer.MAX_VALUE / 4 ? layout : null;
    }

    private static Object compressArray(NdArray a, ImageCodec codec) {
        String layout = layoutOf(a, codec);
        if (layout == null) {
            return a;
        }
        NdArray hwc = layout.equals("chw") ? ImageLayout.chwToHwc(a) : a;
        int h = (int) hwc.shape().dim(0);
        int w = (int) hwc.shape().dim(1);
        int c = (int) hwc.shape().dim(2);
        byte[] data = ImageIoCodec.encode(hwc.toByteArray(), h, w, c, codec);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(MARKER, Boolean.TRUE);
        out.put("codec", codec.kind().token());
        out.put("dtype", DType.UINT8.str());
        out.put("shape", List.of(a.shape().dim(0), a.shape().dim(1), a.shape().dim(2)));
        out.put("layout", layout);
        out.put("data", data);
        return out;
    }

    // ---------------------------------------------------------------- decompress

    private static Object decompressValue(Object value, Limits limits, String path) {
        if (value instanceof Map<?, ?> m) {
            if (m.containsKey(MARKER)) {
                return decompressImage(m, limits, path.isEmpty() ? "(top level)" : path);
            }
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, decompressValue(v, limits, path.isEmpty() ? String.valueOf(k) : path + "/" + k)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (int i = 0; i < l.size(); i++) {
                out.add(decompressValue(l.get(i), limits, path + "[" + i + "]"));
            }
            return out;
        }
        return value;
    }

    private static IllegalArgumentException bad(String path, String problem) {
        return new IllegalArgumentException("Compressed image at " + path + ": " + problem);
    }

    private static NdArray decompressImage(Map<?, ?> m, Limits limits, String path) {
        if (!Boolean.TRUE.equals(m.get(MARKER))) {
            throw bad(path, MARKER + " must be true, got " + m.get(MARKER));
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
        byte[] pixels;
        try {
            pixels = ImageIoCodec.decode(data, kind, (int) h, (int) w, (int) c);
        } catch (IllegalArgumentException e) {
            throw bad(path, e.getMessage());
        }
        NdArray hwc = NdArray.wrap(DType.UINT8, Shape.of(h, w, c), ByteBuffer.wrap(pixels));
        return chw ? ImageLayout.hwcToChw(hwc) : hwc;
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
