package org.webpolicy.camera;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a camera's frames come from: a device index ({@code /dev/video0} is 0), a video file, a
 * URL (RTSP, HTTP MJPEG) or a GStreamer pipeline string. An immutable value.
 *
 * @param kind the kind of source
 * @param spec the index, path, URL or pipeline as OpenCV receives it
 */
public record CameraSource(Kind kind, String spec) {

    /** The kinds of source. */
    public enum Kind {
        /** A capture device by index. */
        DEVICE,
        /** A video file. */
        FILE,
        /** A network stream. */
        URL,
        /** A GStreamer pipeline ending in an appsink. */
        GSTREAMER
    }

    /**
     * Checks the value.
     *
     * @param kind the kind of source
     * @param spec the index, path, URL or pipeline
     * @throws IllegalArgumentException for an empty spec or a device spec that is not an index
     * @throws NullPointerException if an argument is null
     */
    public CameraSource {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(spec, "spec");
        if (spec.isBlank()) {
            throw new IllegalArgumentException("Camera source " + kind + " needs a value");
        }
        if (kind == Kind.DEVICE && !spec.matches("\\d{1,4}")) {
            throw new IllegalArgumentException("A camera device is an index such as 0, got '" + spec + "'");
        }
    }

    /**
     * A capture device.
     *
     * @param index the device index, 0 for the first
     * @return the source
     * @throws IllegalArgumentException for a negative index
     */
    public static CameraSource device(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("A camera device index is 0 or more, got " + index);
        }
        return new CameraSource(Kind.DEVICE, Integer.toString(index));
    }

    /**
     * A video file.
     *
     * @param file the file
     * @return the source
     */
    public static CameraSource file(Path file) {
        return new CameraSource(Kind.FILE, file.toString());
    }

    /**
     * Reads a command-line value: digits are a device index, a value with {@code !} a GStreamer
     * pipeline, a value with {@code ://} a URL, anything else a file path.
     *
     * @param text the value
     * @return the source
     * @throws IllegalArgumentException for an empty value
     */
    public static CameraSource parse(String text) {
        String t = text.strip();
        if (t.matches("\\d{1,4}")) {
            return new CameraSource(Kind.DEVICE, t);
        }
        if (t.contains("!")) {
            return new CameraSource(Kind.GSTREAMER, t);
        }
        if (t.contains("://")) {
            return new CameraSource(Kind.URL, t);
        }
        return new CameraSource(Kind.FILE, t);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + spec;
    }
}
