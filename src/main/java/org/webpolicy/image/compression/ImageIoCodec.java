package org.webpolicy.image.compression;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.event.IIOReadUpdateListener;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStreamImpl;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * PNG and JPEG through the JDK's {@code javax.imageio}: no native library to load, so every user
 * of the library has it. Streams are in memory (never ImageIO's temporary files). Writers are
 * made per call; each thread keeps one reader per format (they are not thread-safe, and building
 * one per image made 20 000 tiny images cost seconds). Thread-safe.
 */
final class ImageIoCodec {

    /**
     * The colour model of a destination of 1 to 4 channels, made once: a grey model computes
     * lookup tables when built, which cost more than decoding a small image.
     */
    private static final ColorModel[] COLOR_MODELS = new ColorModel[5];

    static {
        for (int c = 1; c <= 4; c++) {
            ColorSpace space = ColorSpace.getInstance(c < 3 ? ColorSpace.CS_GRAY : ColorSpace.CS_sRGB);
            boolean alpha = c == 2 || c == 4;
            COLOR_MODELS[c] = new ComponentColorModel(space, alpha, false, alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE,
                    DataBuffer.TYPE_BYTE);
        }
    }

    private ImageIoCodec() {
    }

    /** The BufferedImage type holding {@code c} interleaved 8-bit channels (grey+alpha has none: PNG only, via a raster). */
    private static int imageType(int c) {
        return switch (c) {
            case 1 -> BufferedImage.TYPE_BYTE_GRAY;
            case 3 -> BufferedImage.TYPE_3BYTE_BGR;
            case 4 -> BufferedImage.TYPE_4BYTE_ABGR;
            default -> throw new IllegalArgumentException("cannot encode images of " + c + " channels");
        };
    }

    /**
     * Encodes one {@code h x w x c} image (HWC bytes; channel 0 is stored as red).
     *
     * @throws IllegalArgumentException for a channel count the format cannot hold
     */
    static byte[] encode(byte[] hwc, int h, int w, int c, ImageCodec codec) {
        BufferedImage image = new BufferedImage(w, h, imageType(c));
        byte[] px = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        int n = h * w;
        switch (c) {
            case 1 -> System.arraycopy(hwc, 0, px, 0, n);
            case 3 -> {
                for (int i = 0, j = 0; i < n; i++, j += 3) { // RGB -> BGR
                    px[j] = hwc[j + 2];
                    px[j + 1] = hwc[j + 1];
                    px[j + 2] = hwc[j];
                }
            }
            default -> {
                for (int i = 0, j = 0; i < n; i++, j += 4) { // RGBA -> ABGR
                    px[j] = hwc[j + 3];
                    px[j + 1] = hwc[j + 2];
                    px[j + 2] = hwc[j + 1];
                    px[j + 3] = hwc[j];
                }
            }
        }
        String format = codec.kind() == ImageCodec.Kind.JPEG ? "jpeg" : "png";
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
        if (!writers.hasNext()) {
            throw new IllegalStateException("this JDK has no " + format + " writer in javax.imageio");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(1024, n * c / 4));
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (codec.kind() == ImageCodec.Kind.JPEG) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionQuality(codec.quality() / 100f);
            }
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding an image as " + format + " failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes an image whose header and structure were already checked to be {@code h x w x c}
     * straight into the returned HWC array: the decoder writes each row into it (no whole-image
     * copy of any other kind is made), so the memory held is the result plus the decoder's row
     * buffers ({@link ImageDecodePlan#workingBytes}). Any warning of the decoder (corrupt or
     * missing data it would pad with grey) refuses the image.
     *
     * @param stop polled at every read of the data and every decoded row; when it answers true
     *     the decode stops and {@link CancellationException} is thrown
     * @throws IllegalArgumentException when the data does not decode, or decodes to other sizes
     * @throws CancellationException when {@code stop} asked for it
     */
    static byte[] decode(byte[] data, ImageCodec.Kind kind, int h, int w, int c, BooleanSupplier stop) {
        String format = kind == ImageCodec.Kind.JPEG ? "jpeg" : "png";
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(h, w), c)];
        BufferedImage destination = destination(out, h, w, c);
        CachedReader cached = CachedReader.take(format);
        boolean reusable = false;
        try {
            cached.watch(stop);
            ImageReader reader = cached.reader;
            reader.setInput(new ByteArrayImageInputStream(data, stop), true, true); // forward only, no metadata
            if (reader.getWidth(0) != w || reader.getHeight(0) != h) {
                throw new IllegalArgumentException(format + " decoder sees " + reader.getHeight(0) + "x"
                        + reader.getWidth(0) + ", the header said " + h + "x" + w);
            }
            ImageReadParam param = reader.getDefaultReadParam();
            param.setDestination(destination);
            BufferedImage image = reader.read(0, param);
            if (cached.stopped || stop.getAsBoolean()) {
                throw new CancellationException("decoding stopped");
            }
            if (cached.warning != null) {
                throw new IllegalArgumentException(format + " data is corrupt or truncated: " + cached.warning);
            }
            if (image != destination) {
                throw new IllegalArgumentException(format + " decoder did not decode into the image it was given");
            }
            reusable = true;
            return out;
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException || e instanceof CancellationException) {
                throw (RuntimeException) e;
            }
            if (cached.stopped || stop.getAsBoolean()) {
                throw new CancellationException("decoding stopped");
            }
            throw new IllegalArgumentException(format + " data does not decode: " + e, e);
        } finally {
            cached.give(reusable);
        }
    }

    /**
     * An image over {@code out} whose bands are in channel order (R, G, B, A, or grey), pixel
     * interleaved: whatever the decoder writes lands in our layout directly. A pixel-interleaved
     * raster is the one the decoders copy rows into in bulk; a planar (CHW) one is filled pixel
     * by pixel, three to five times slower (measured on 4096x4096 grey PNG and 1024x1024 JPEG).
     */
    private static BufferedImage destination(byte[] out, int h, int w, int c) {
        int[] offsets = new int[c];
        for (int b = 0; b < c; b++) {
            offsets[b] = b;
        }
        SampleModel model = new PixelInterleavedSampleModel(DataBuffer.TYPE_BYTE, w, h, c, w * c, offsets);
        WritableRaster raster = Raster.createWritableRaster(model, new DataBufferByte(out, out.length), null);
        return new BufferedImage(COLOR_MODELS[c], raster, false, null);
    }

    /**
     * A decode thread's own reader of one format, made once and used again (finding and building
     * a reader costs more than decoding a small image), with listeners that watch the current
     * decode: a warning is kept, and a stop request aborts the read from its own thread (the JPEG
     * reader refuses an abort from any other thread).
     */
    private static final class CachedReader implements IIOReadWarningListener, IIOReadUpdateListener {

        private static final ThreadLocal<Map<String, CachedReader>> CACHE = ThreadLocal.withInitial(HashMap::new);

        final ImageReader reader;
        private final String format;
        private BooleanSupplier stop = () -> false;
        String warning;
        boolean stopped;

        private CachedReader(String format) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
            if (!readers.hasNext()) {
                throw new IllegalStateException("this JDK has no " + format + " reader in javax.imageio");
            }
            this.format = format;
            this.reader = readers.next();
            reader.addIIOReadWarningListener(this);
            reader.addIIOReadUpdateListener(this);
        }

        /** This thread's reader of {@code format}, taken out of the cache while it is used. */
        static CachedReader take(String format) {
            CachedReader r = CACHE.get().remove(format);
            return r != null ? r : new CachedReader(format);
        }

        void watch(BooleanSupplier stop) {
            this.stop = stop;
            this.warning = null;
            this.stopped = false;
        }

        /** Back into the cache after a clean decode; a reader that failed is disposed of. */
        void give(boolean reusable) {
            stop = () -> false;
            try {
                reader.setInput(null);
            } catch (RuntimeException e) {
                reusable = false; // a reader in a state of its own: not used again
            }
            if (reusable) {
                CACHE.get().put(format, this);
            } else {
                reader.dispose();
            }
        }

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            if (this.warning == null) {
                this.warning = warning;
            }
        }

        @Override
        public void imageUpdate(ImageReader source, BufferedImage image, int minX, int minY, int width, int height,
                int periodX, int periodY, int[] bands) {
            if (!stopped && stop.getAsBoolean()) {
                stopped = true;
                source.abort();
            }
        }

        @Override
        public void passStarted(ImageReader source, BufferedImage image, int pass, int minPass, int maxPass, int minX,
                int minY, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void passComplete(ImageReader source, BufferedImage image) {
        }

        @Override
        public void thumbnailPassStarted(ImageReader source, BufferedImage thumbnail, int pass, int minPass, int maxPass,
                int minX, int minY, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void thumbnailUpdate(ImageReader source, BufferedImage thumbnail, int minX, int minY, int width,
                int height, int periodX, int periodY, int[] bands) {
        }

        @Override
        public void thumbnailPassComplete(ImageReader source, BufferedImage thumbnail) {
        }
    }

    /**
     * The compressed bytes as an image stream, read in place (the JDK's memory-cache stream
     * copies what it reads into a cache of its own); each read asks {@code stop} first.
     */
    private static final class ByteArrayImageInputStream extends ImageInputStreamImpl {

        private final byte[] data;
        private final BooleanSupplier stop;

        ByteArrayImageInputStream(byte[] data, BooleanSupplier stop) {
            this.data = data;
            this.stop = stop;
        }

        private void checkStop() throws IOException {
            if (stop.getAsBoolean()) {
                throw new IOException("decoding stopped");
            }
        }

        @Override
        public int read() throws IOException {
            checkStop();
            bitOffset = 0;
            return streamPos < data.length ? data[(int) streamPos++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            checkStop();
            Objects.checkFromIndexSize(off, len, b.length);
            bitOffset = 0;
            if (len == 0) {
                return 0;
            }
            if (streamPos >= data.length) {
                return -1;
            }
            int n = (int) Math.min(len, data.length - streamPos);
            System.arraycopy(data, (int) streamPos, b, off, n);
            streamPos += n;
            return n;
        }

        @Override
        public long length() {
            return data.length;
        }
    }
}
