package org.webpolicy.image.compression;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * PNG and JPEG through the JDK's {@code javax.imageio}: no native library to load, so every user
 * of the library has it. Streams are in memory (never ImageIO's temporary files). Readers and
 * writers are made per call (they are not thread-safe). Thread-safe.
 */
final class ImageIoCodec {

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
     * Decodes an image whose header was already checked to be {@code h x w x c}, into HWC bytes.
     *
     * @throws IllegalArgumentException when the data does not decode, or decodes to other sizes
     */
    static byte[] decode(byte[] data, ImageCodec.Kind kind, int h, int w, int c) {
        String format = kind == ImageCodec.Kind.JPEG ? "jpeg" : "png";
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IllegalStateException("this JDK has no " + format + " reader in javax.imageio");
        }
        ImageReader reader = readers.next();
        BufferedImage image;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(in, true, true); // seek forward only, ignore metadata (no thumbnails, no text chunks)
            if (reader.getWidth(0) != w || reader.getHeight(0) != h) {
                throw new IllegalArgumentException(format + " decoder sees " + reader.getHeight(0) + "x"
                        + reader.getWidth(0) + ", the header said " + h + "x" + w);
            }
            image = reader.read(0);
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
                    && iae.getMessage().startsWith(format + " decoder sees")) {
                throw iae;
            }
            throw new IllegalArgumentException(format + " data does not decode: " + e, e);
        } finally {
            reader.dispose();
        }
        Raster raster = image.getRaster();
        if (raster.getWidth() != w || raster.getHeight() != h || raster.getNumBands() != c) {
            throw new IllegalArgumentException(format + " decoded to " + raster.getHeight() + "x" + raster.getWidth()
                    + "x" + raster.getNumBands() + ", expected " + h + "x" + w + "x" + c);
        }
        return interleaved(image, h, w, c);
    }

    /** The image's samples as HWC bytes in its colour model's band order (R, G, B, A; or grey, alpha). */
    private static byte[] interleaved(BufferedImage image, int h, int w, int c) {
        byte[] out = new byte[h * w * c];
        Raster raster = image.getRaster();
        if (image.getType() == BufferedImage.TYPE_3BYTE_BGR && c == 3
                && raster.getDataBuffer() instanceof DataBufferByte db && db.getData().length == out.length
                && raster.getMinX() == 0 && raster.getMinY() == 0) {
            byte[] bgr = db.getData();
            for (int j = 0; j < out.length; j += 3) {
                out[j] = bgr[j + 2];
                out[j + 1] = bgr[j + 1];
                out[j + 2] = bgr[j];
            }
            return out;
        }
        int[] band = new int[h * w];
        for (int b = 0; b < c; b++) {
            raster.getSamples(raster.getMinX(), raster.getMinY(), w, h, b, band);
            for (int i = 0, j = b; i < band.length; i++, j += c) {
                out[j] = (byte) band[i];
            }
        }
        return out;
    }
}
