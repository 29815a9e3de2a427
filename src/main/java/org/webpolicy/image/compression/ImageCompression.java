package org.webpolicy.image.compression;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
 * Before any pixel is decoded ({@link ImageDecodePlan}), the PNG or JPEG header is read and must
 * agree with the declared shape, its structure must be one our encoder writes (sequential JPEG,
 * one scan per component; PNG without interlace or palette) and complete, the declared image must
 * have at most {@link Limits#maxPixels()} pixels, an observation at most {@link Limits#maxImages()}
 * images, and the data at most four times the raw size plus 64 KiB; a decoder never allocates for
 * a size an attacker chose, and its work is proportional to the declared pixels. Every refusal is
 * an {@link IllegalArgumentException} naming the key path and the problem.
 *
 * <h2>Codecs</h2>
 * JPEG goes through libjpeg-turbo in our native library when it loads and carries it (see
 * {@link #jpegCodecName()}), through {@code javax.imageio} otherwise ({@code -Dwebpolicy.native=off}
 * forces it); both write the same kind of baseline JPEG and read each other's. PNG always goes
 * through {@code javax.imageio}.
 *
 * <h2>Side by side</h2>
 * The images of one observation are independent: {@link #compress} and {@link #decompress} code
 * them on the calling thread and on up to three helper threads of the library (daemons, one
 * fewer than the cores, let go after 30 s idle), each image whole on one thread, the results in
 * their places; observations of under 65536 pixels in all stay on the calling thread. The system
 * property {@code webpolicy.image.parallel=false} keeps every image on the calling thread. A
 * server decodes on its own bounded decode threads instead ({@link ImageDecodePlan#decode(
 * java.util.function.BooleanSupplier, java.util.concurrent.Executor)}).
 *
 * <p>Stateless and thread-safe.
 */
public final class ImageCompression {

    /** The key that marks a compressed image. */
    public static final String MARKER = "__webpolicy_image__";

    /** Smaller arrays stay raw: headers would cost more than the pixels. */
    public static final int MIN_PIXELS = 64;


    /**
     * How large a decoded image may be, and how many one observation may hold.
     *
     * @param maxPixels the most pixels (height times width) of one image
     * @param maxImages the most compressed images in one observation
     */
    public record Limits(long maxPixels, int maxImages) {

        /** A robot has a few cameras; each image costs a decoder's set-up, whatever its size. */
        public static final int DEFAULT_MAX_IMAGES = 64;

        /** 16 megapixels (4096 x 4096): far above any camera we serve, far below memory trouble. */
        public static final Limits DEFAULT = new Limits(4096L * 4096L);

        /**
         * Checks the limits.
         *
         * @param maxPixels the most pixels of one image, at least 1
         * @param maxImages the most images in one observation, at least 1
         * @throws IllegalArgumentException if either is below 1
         */
        public Limits {
            if (maxPixels < 1) {
                throw new IllegalArgumentException("maxPixels must be at least 1, got " + maxPixels);
            }
            if (maxImages < 1) {
                throw new IllegalArgumentException("maxImages must be at least 1, got " + maxImages);
            }
        }

        /**
         * At most {@code maxPixels} per image and {@value #DEFAULT_MAX_IMAGES} images.
         *
         * @param maxPixels the most pixels of one image, at least 1
         * @throws IllegalArgumentException if {@code maxPixels} is below 1
         */
        public Limits(long maxPixels) {
            this(maxPixels, DEFAULT_MAX_IMAGES);
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
        Map<NdArray, Integer> index = new IdentityHashMap<>();
        List<NdArray> images = new ArrayList<>();
        long[] pixels = {0};
        findImages(observation, codec, index, images, pixels);
        List<byte[]> data = ImageFanOut.run(images.size(), pixels[0],
                (i, stop) -> encode(images.get(i), codec), () -> false, ImageFanOut.sharedHelpers());
        Map<NdArray, byte[]> encoded = new IdentityHashMap<>();
        for (int i = 0; i < images.size(); i++) {
            encoded.put(images.get(i), data.get(i));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) compressValue(observation, codec, encoded);
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
        return ImageDecodePlan.of(observation, limits).decode(() -> false, ImageFanOut.sharedHelpers());
    }

    /**
     * Which JPEG codec runs now: libjpeg-turbo in our native library, or the JDK's.
     *
     * @return {@code "libjpeg-turbo"} or {@code "javax.imageio"}
     */
    public static String jpegCodecName() {
        return NativeJpegCodec.describe();
    }

    // ---------------------------------------------------------------- compress

    /** The images of {@code value} in the order met, each array once, and their pixels in all. */
    private static void findImages(Object value, ImageCodec codec, Map<NdArray, Integer> index, List<NdArray> images,
            long[] pixels) {
        if (value instanceof NdArray a) {
            String layout = layoutOf(a, codec);
            if (layout != null && index.putIfAbsent(a, images.size()) == null) {
                images.add(a);
                pixels[0] += a.shape().size() / (layout.equals("chw") ? a.shape().dim(0) : a.shape().dim(2));
            }
        } else if (value instanceof Map<?, ?> m) {
            for (Object v : m.values()) {
                findImages(v, codec, index, images, pixels);
            }
        } else if (value instanceof List<?> l) {
            for (Object v : l) {
                findImages(v, codec, index, images, pixels);
            }
        }
    }

    private static Object compressValue(Object value, ImageCodec codec, Map<NdArray, byte[]> encoded) {
        if (value instanceof NdArray a) {
            byte[] data = encoded.get(a);
            return data == null ? a : compressedImage(a, layoutOf(a, codec), codec, data);
        }
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, compressValue(v, codec, encoded)));
            return out;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(compressValue(v, codec, encoded)));
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

    /** The image's bytes in {@code codec}: HWC pixels read where they lie (a CHW image is moved first). */
    private static byte[] encode(NdArray a, ImageCodec codec) {
        NdArray hwc = layoutOf(a, codec).equals("chw") ? ImageLayout.chwToHwc(a) : a;
        int h = (int) hwc.shape().dim(0);
        int w = (int) hwc.shape().dim(1);
        int c = (int) hwc.shape().dim(2);
        return codec.kind() == ImageCodec.Kind.JPEG && NativeJpegCodec.active()
                ? NativeJpegCodec.encode(hwc.data(), h, w, c, codec)
                : ImageIoCodec.encode(hwc.toByteArray(), h, w, c, codec);
    }

    private static Map<String, Object> compressedImage(NdArray a, String layout, ImageCodec codec, byte[] data) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(MARKER, Boolean.TRUE);
        out.put("codec", codec.kind().token());
        out.put("dtype", DType.UINT8.str());
        out.put("shape", List.of(a.shape().dim(0), a.shape().dim(1), a.shape().dim(2)));
        out.put("layout", layout);
        out.put("data", data);
        return out;
    }
}
