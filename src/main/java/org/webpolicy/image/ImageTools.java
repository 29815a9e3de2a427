package org.webpolicy.image;

import java.nio.ByteBuffer;
import java.util.stream.IntStream;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.internal.nativelib.NativeLibrary;
import org.webpolicy.internal.nativelib.OpenCvLibrary;

/**
 * The Python clients' image preprocessing ({@code openpi_client.image_tools}), byte for byte:
 * {@link #convertToUint8} and {@link #resizeWithPad} with Pillow's BILINEAR filter.
 *
 * <h2>Native or Java</h2>
 * Both operations run in C++ when the native library loads and in Java otherwise, with the same
 * output bytes. The system property {@value #NATIVE_PROPERTY} selects: {@code auto} (default),
 * {@code on} (fail with {@link IllegalStateException} if the library cannot load) or {@code off}.
 * It is read at every call, so it can be changed at run time. {@link #backendName()} tells which
 * one runs and {@link #backendDetails()} why.
 *
 * <p>The native library is built for linux-x86_64 and linux-arm64 (glibc 2.28 or newer) and ships
 * in the jar. In {@code auto} mode a platform without a native build logs one INFO line, and a
 * native build that does not load (an older glibc, a damaged cache) one WARN line with the
 * loader's reason; neither is thrown.
 *
 * <h2>Threading</h2>
 * All methods are static and thread-safe. A batch of images is resized on the common
 * {@link java.util.concurrent.ForkJoinPool ForkJoinPool}, one image per task; a single image runs on the
 * calling thread.
 */
public final class ImageTools {

    /**
     * The system property choosing the implementation: {@code auto} (default), {@code on} or
     * {@code off}; any other value makes the image operations throw
     * {@link IllegalArgumentException} naming it.
     */
    public static final String NATIVE_PROPERTY = NativeLibrary.PROPERTY;

    /** Below this many input bytes, a batch is resized on the calling thread. */
    private static final long PARALLEL_MIN_BYTES = 1 << 16;

    private ImageTools() {
    }

    /**
     * Which implementation runs now, per {@code webpolicy.native}.
     *
     * @return {@code "native"} or {@code "java"}
     */
    public static String backendName() {
        return kernels().name();
    }

    /**
     * Which implementation runs now and why, for logs: {@code "native (linux-arm64, NEON
     * kernels)"}, {@code "java (webpolicy.native=off)"} or {@code "java (no native build for Mac OS
     * X aarch64 ...)"}.
     *
     * @return the implementation's name with the platform and kernels, or the reason for Java
     */
    public static String backendDetails() {
        ImageKernels k = kernels();
        if (k == NativeImageKernels.INSTANCE) {
            return k.name() + " (" + NativeLibrary.describe() + ")";
        }
        String why = NativeLibrary.Mode.fromSystemProperty() == NativeLibrary.Mode.OFF
                ? NativeLibrary.PROPERTY + "=off" : NativeLibrary.describe();
        return k.name() + " (" + why + ")";
    }

    static ImageKernels kernels() {
        return NativeLibrary.useNative() ? NativeImageKernels.INSTANCE : JavaImageKernels.INSTANCE;
    }

    /**
     * {@code convert_to_uint8}: a floating array becomes {@code (uint8) (255 * x)}, with the
     * product in the array's own precision (float16 stays float16) and truncated toward zero,
     * as numpy does on x86-64: NaN or a product outside the int32 range gives 0, anything else
     * wraps modulo 256 (-25.5 gives 231, 306 gives 50, 1e10 gives 0). Any other dtype, even
     * int32, comes back unchanged: the same object.
     *
     * @param image any array
     * @return a uint8 array of the same shape, or {@code image} itself when it is not floating
     */
    public static NdArray convertToUint8(NdArray image) {
        return convertToUint8(image, kernels());
    }

    static NdArray convertToUint8(NdArray image, ImageKernels kernels) {
        if (!image.dtype().isFloating()) {
            return image;
        }
        byte[] out = new byte[Math.toIntExact(image.size())];
        kernels.floatsToUint8(image, out);
        return NdArray.wrap(DType.UINT8, image.shape(), ByteBuffer.wrap(out));
    }

    /**
     * {@code resize_with_pad}: resizes uint8 images to fit {@code height x width} with Pillow's
     * BILINEAR filter, keeping the aspect ratio, and pads them with zeros (centred).
     *
     * <p>{@code images} is {@code [..., h, w, c]} with {@code c} = 3 (RGB), 4 (RGBA) or 2 (LA;
     * alpha images are resized premultiplied, as Pillow does), or a single grayscale {@code [h, w]}.
     * Leading dimensions are a batch and are kept: {@code [n, h, w, c]} gives
     * {@code [n, height, width, c]}.
     *
     * <p>When {@code (h, w)} already equals {@code (height, width)} the input itself is returned,
     * whatever its dtype or channel count (as in Python).
     *
     * <p><b>Grayscale quirk, kept on purpose:</b> a 2-D {@code [h, w]} input comes back as
     * {@code [1, height, width]}, exactly as the Python function returns it (it reshapes to a
     * batch of one and never removes that dimension). It is also never returned unchanged, since
     * Python compares the wrong two dimensions for a 2-D input. Byte and shape compatibility with
     * the Python clients wins over tidiness here; {@code reshape(height, width)} drops the extra
     * dimension without copying.
     *
     * <p>The sizes are Python's, in double: {@code ratio = max(w / width, h / height)},
     * resized to {@code (int) (h / ratio) x (int) (w / ratio)} (which can lose a row or column:
     * 40x58 to 224x224 gives 154x223), pasted at {@code ((int) ((height - rh) / 2.0),
     * (int) ((width - rw) / 2.0))}.
     *
     * @param images {@code [..., h, w, c]} uint8 images (c = 2, 3 or 4) or one grayscale {@code [h, w]}
     * @param height the output height
     * @param width the output width
     * @return the resized and padded images, {@code [..., height, width, c]} (see above for 2-D
     *     input), or {@code images} itself when it already has that size
     * @throws IllegalArgumentException naming the problem for: a rank below 2, a non-uint8 array,
     *     {@code [h, w, 1]} (use {@code [h, w]} for grayscale), more than 4 channels, a target side
     *     of 0 or less, or a resized side of 0 (a 1x1000 image fitted to 224x224), or an output
     *     too large for one array
     */
    public static NdArray resizeWithPad(NdArray images, int height, int width) {
        return resizeWithPad(images, height, width, kernels());
    }

    /**
     * The same geometry as {@link #resizeWithPad} with OpenCV's {@code cv::resize} instead of
     * Pillow's filter: faster, but NOT the bytes the Python clients produce (see docs/IMAGE.md
     * for how far it is). Never chosen automatically. Runs OpenCV through the
     * {@code org.bytedeco:opencv} preset (its linux-x86_64 and linux-arm64 natives, glibc 2.35 or
     * newer), whatever {@code webpolicy.native} says; the Pillow-exact path never needs OpenCV.
     *
     * @param images {@code [..., h, w, c]} uint8 images (c = 2, 3 or 4) or one grayscale {@code [h, w]}
     * @param height the output height
     * @param width the output width
     * @param filter OpenCV's interpolation
     * @return the resized and padded images, shaped as {@link #resizeWithPad} shapes them
     * @throws IllegalStateException when OpenCV's natives cannot be loaded
     * @throws IllegalArgumentException as {@link #resizeWithPad}
     * @throws NullPointerException if {@code filter} is null
     */
    public static NdArray resizeWithPadApproximate(NdArray images, int height, int width, ApproximateFilter filter) {
        java.util.Objects.requireNonNull(filter, "filter");
        OpenCvLibrary.requireLoaded();
        return resize(images, height, width, null, (in, count, c, g, out) ->
                OpenCvResize.resizeWithPad(in, count, c, g, out.array(), filter));
    }

    /**
     * {@link #resizeWithPad(NdArray, int, int)} into the caller's memory: the result is written
     * into {@code out} from its position (which does not move), so a stream of frames needs no
     * new output array per call, and the native code writes there directly (a direct buffer in
     * place, a heap buffer's array pinned for the call). Unlike the allocating form, an image
     * already of the target size is copied into {@code out} too.
     *
     * @param images {@code [..., h, w, c]} uint8 images (c = 2, 3 or 4) or one grayscale {@code [h, w]}
     * @param height the output height
     * @param width the output width
     * @param out where the result goes: at least {@link #resizeWithPadShape} bytes remaining, writable
     * @return the result: an array over {@code out}'s bytes (no copy), valid while they are not changed
     * @throws IllegalArgumentException as {@link #resizeWithPad(NdArray, int, int)}, or when
     *     {@code out} is read-only or has too few bytes remaining
     * @throws NullPointerException if {@code images} or {@code out} is null
     */
    public static NdArray resizeWithPad(NdArray images, int height, int width, ByteBuffer out) {
        java.util.Objects.requireNonNull(out, "out");
        return resizeWithPad(images, height, width, out, kernels());
    }

    /**
     * The shape {@link #resizeWithPad(NdArray, int, int)} returns for images of {@code shape}, to
     * size an output buffer: {@code [..., height, width, c]}, or {@code [1, height, width]} for a
     * 2-D grayscale shape.
     *
     * @param shape the input shape, {@code [..., h, w, c]} or {@code [h, w]}
     * @param height the output height
     * @param width the output width
     * @return the output shape (its byte count is its size: uint8)
     * @throws IllegalArgumentException for a rank below 2
     */
    public static Shape resizeWithPadShape(Shape shape, int height, int width) {
        int rank = shape.rank();
        if (rank < 2) {
            throw new IllegalArgumentException("resizeWithPad needs images of shape [..., h, w, c] or [h, w], got " + shape);
        }
        if (rank == 2) {
            return Shape.of(1L, height, width);
        }
        long[] dims = shape.toArray();
        dims[rank - 3] = height;
        dims[rank - 2] = width;
        return Shape.of(dims);
    }

    static NdArray resizeWithPad(NdArray images, int height, int width, ImageKernels kernels) {
        return resize(images, height, width, null, kernels::resizeWithPad);
    }

    static NdArray resizeWithPad(NdArray images, int height, int width, ByteBuffer out, ImageKernels kernels) {
        return resize(images, height, width, out, kernels::resizeWithPad);
    }

    /** A batch resize, as {@link ImageKernels#resizeWithPad}. */
    @FunctionalInterface
    private interface BatchResize {
        void apply(NdArray images, int count, int channels, ResizeGeometry g, ByteBuffer out);
    }

    /**
     * Runs {@code op} for images {@code 0..count-1}: on the common fork-join pool, one image per
     * task, when there are several and enough bytes to be worth it; on this thread otherwise.
     */
    static void forEachImage(int count, long totalInputBytes, java.util.function.IntConsumer op) {
        if (count > 1 && totalInputBytes >= PARALLEL_MIN_BYTES) {
            IntStream.range(0, count).parallel().forEach(op);
        } else {
            for (int i = 0; i < count; i++) {
                op.accept(i);
            }
        }
    }

    private static NdArray resize(NdArray images, int height, int width, ByteBuffer into, BatchResize op) {
        java.util.Objects.requireNonNull(images, "images");
        Shape shape = images.shape();
        int rank = shape.rank();
        if (rank < 2) {
            throw new IllegalArgumentException("resizeWithPad needs images of shape [..., h, w, c] or [h, w], got "
                    + shape);
        }
        boolean gray = rank == 2;
        if (!gray && shape.dim(-3) == height && shape.dim(-2) == width && into == null) {
            return images;
        }
        if (!images.dtype().equals(DType.UINT8)) {
            throw new IllegalArgumentException("resizeWithPad needs uint8 images, got " + images.dtype().name()
                    + " of shape " + shape + " (convert floats with convertToUint8 first)");
        }
        int channels = gray ? 1 : toInt(shape.dim(-1), "channel count");
        if (!gray && channels > 4 && shape.dim(-3) >= 1 && shape.dim(-3) <= 4) {
            throw new IllegalArgumentException("resizeWithPad takes channels-last images [..., h, w, c], got " + shape
                    + ", which looks channels-first (CHW, " + shape.dim(-3) + " channels of " + shape.dim(-2) + "x"
                    + shape.dim(-1) + "): convert with ImageLayout.chwToHwc first (and hwcToChw after)");
        }
        if (!gray && channels == 1) {
            throw new IllegalArgumentException("Single-channel images of shape " + shape
                    + " are not supported (Pillow refuses [h, w, 1]): pass grayscale as [h, w]");
        }
        if (!gray && (channels < 2 || channels > 4)) {
            throw new IllegalArgumentException("Images must have 2 (LA), 3 (RGB) or 4 (RGBA) channels, got "
                    + channels + " in shape " + shape + " (channels-last: [..., h, w, c])");
        }
        int h = toInt(shape.dim(gray ? 0 : -3), "height");
        int w = toInt(shape.dim(gray ? 1 : -2), "width");
        ResizeGeometry g = ResizeGeometry.of(h, w, height, width);

        long count = 1;
        for (int i = 0; i < rank - 3; i++) {
            count *= shape.dim(i);
        }
        Shape outShape = resizeWithPadShape(shape, height, width);
        long outBytes = NdArray.byteSize(DType.UINT8, outShape);
        if (outBytes > NdArray.MAX_BYTES) {
            throw new IllegalArgumentException("Output of shape " + outShape + " is too large");
        }
        ByteBuffer out;
        if (into == null) {
            out = ByteBuffer.wrap(new byte[(int) outBytes]);
        } else {
            if (into.isReadOnly()) {
                throw new IllegalArgumentException("The output buffer is read-only");
            }
            if (into.remaining() < outBytes) {
                throw new IllegalArgumentException("The output buffer has " + into.remaining() + " bytes remaining, "
                        + "the result of shape " + outShape + " needs " + outBytes);
            }
            out = into.slice(into.position(), (int) outBytes);
        }
        if (count > 0) {
            op.apply(images, (int) count, channels, g, out);
        }
        return NdArray.wrap(DType.UINT8, outShape, out);
    }

    private static int toInt(long value, String what) {
        if (value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Image " + what + " " + value + " is too large");
        }
        return (int) value;
    }
}
