package org.webpolicy.record;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;
import org.webpolicy.mcap.McapWriter;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.WireForm;

/**
 * The writer thread's side of a {@link Recorder}: turns queued entries into MCAP messages on the
 * channels of {@link Topics}. Owned by that one thread.
 */
final class RecordingWriter {

    /** JSON schema of the exchange records, so a viewer can plot their fields. */
    private static final String EXCHANGE_SCHEMA = "{\"title\":\"webpolicy.Exchange\",\"type\":\"object\",\"properties\":{"
            + "\"connection\":{\"type\":\"integer\"},\"index\":{\"type\":\"integer\"},\"form\":{\"type\":\"string\"},"
            + "\"op\":{\"type\":\"string\"},\"request_bytes\":{\"type\":\"integer\"},\"reply_bytes\":{\"type\":\"integer\"},"
            + "\"request_time_ns\":{\"type\":\"integer\"},\"reply_time_ns\":{\"type\":\"integer\"},"
            + "\"latency_ms\":{\"type\":\"number\"},\"server_timing\":{\"type\":\"object\"},\"failure\":{\"type\":\"string\"},"
            + "\"sent\":{\"type\":\"boolean\"}}}";

    private static final String EVENT_SCHEMA = "{\"title\":\"webpolicy.Event\",\"type\":\"object\",\"properties\":{"
            + "\"event\":{\"type\":\"string\"},\"connection\":{\"type\":\"integer\"},\"robot\":{\"type\":\"string\"},"
            + "\"code\":{\"type\":\"integer\"},\"reason\":{\"type\":\"string\"},\"dropped\":{\"type\":\"integer\"}}}";

    /** foxglove.CompressedImage in its JSON form (data as base64), as the Foxglove schemas define it. */
    private static final String COMPRESSED_IMAGE_SCHEMA = "{\"title\":\"foxglove.CompressedImage\",\"type\":\"object\","
            + "\"properties\":{\"timestamp\":{\"type\":\"object\",\"title\":\"time\",\"properties\":{"
            + "\"sec\":{\"type\":\"integer\",\"minimum\":0},\"nsec\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999999999}}},"
            + "\"frame_id\":{\"type\":\"string\"},\"data\":{\"type\":\"string\",\"contentEncoding\":\"base64\"},"
            + "\"format\":{\"type\":\"string\"}},\"required\":[\"timestamp\",\"frame_id\",\"data\",\"format\"]}";

    private static final ImageCodec CAMERA_JPEG = ImageCodec.jpeg(80);

    private final Supplier<McapWriter> opener;
    private McapWriter mcap;
    private final MsgpackCodec codec = new MsgpackCodec();
    private final boolean cameraImages;
    private final long cameraPeriodNanos;
    /** epoch ns = {@code epochBase + (nanoTime - nanoBase)}: one clock for the whole file. */
    private final long epochBase = System.currentTimeMillis() * 1_000_000L;
    private final long nanoBase = System.nanoTime();
    private int request;
    private int reply;
    private int exchange;
    private int metadata;
    private int event;
    private int imageSchema;
    private final Map<String, Integer> cameraChannels = new HashMap<>();
    private final Map<String, Long> cameraLast = new HashMap<>();
    private final Map<Long, Long> exchangesPerConnection = new HashMap<>();
    private long sequence;
    /** When the last request was decoded for camera frames ({@link System#nanoTime()}). */
    private long lastCameraScan = Long.MIN_VALUE / 2;
    private long eventSequence;
    private volatile long bytesWritten;

    RecordingWriter(Supplier<McapWriter> opener, boolean cameraImages, long cameraPeriodNanos) {
        this.opener = opener;
        this.cameraImages = cameraImages;
        this.cameraPeriodNanos = cameraPeriodNanos;
    }

    /** Opens the file and adds the fixed channels: on the writer thread, first thing. */
    void start() {
        mcap = opener.get();
        request = mcap.addChannel(0, Topics.REQUEST, Topics.MSGPACK, Map.of());
        reply = mcap.addChannel(0, Topics.REPLY, Topics.MSGPACK, Map.of());
        exchange = mcap.addChannel(mcap.addSchema("webpolicy.Exchange", "jsonschema", utf8(EXCHANGE_SCHEMA)),
                Topics.EXCHANGE, "json", Map.of());
        metadata = mcap.addChannel(0, Topics.METADATA, Topics.MSGPACK, Map.of());
        event = mcap.addChannel(mcap.addSchema("webpolicy.Event", "jsonschema", utf8(EVENT_SCHEMA)),
                Topics.EVENT, "json", Map.of());
        bytesWritten = mcap.bytesWritten();
    }

    long bytesWritten() {
        return bytesWritten;
    }

    private long epoch(long nanos) {
        return epochBase + (nanos - nanoBase);
    }

    void write(Recorder.Entry entry) {
        if (entry instanceof Recorder.Opened o) {
            long t = epoch(o.nanos());
            mcap.addMessage(metadata, o.connection(), t, t, o.metadata());
            Json handshake = new Json();
            new java.util.TreeMap<>(o.handshake()).forEach(handshake::put);
            writeEvent(t, new Json().put("event", "open").put("connection", o.connection()).put("robot", o.robot())
                    .put("handshake", handshake));
        } else if (entry instanceof Recorder.Closed c) {
            writeEvent(epoch(c.nanos()), new Json().put("event", "close").put("connection", c.connection())
                    .put("code", c.code()).put("reason", c.reason()));
        } else if (entry instanceof Recorder.Exchanged x) {
            writeExchange(x);
        }
        bytesWritten = mcap.bytesWritten();
    }

    void dropped(long total, long nanos) {
        writeEvent(epoch(nanos), new Json().put("event", "dropped").put("dropped", total));
    }

    private void writeEvent(long t, Json json) {
        mcap.addMessage(event, eventSequence++, t, t, utf8(json.toString()));
    }

    private void writeExchange(Recorder.Exchanged x) {
        long seq = ++sequence;
        long index = exchangesPerConnection.merge(x.connection(), 1L, Long::sum) - 1;
        long t0 = epoch(x.requestNanos());
        long t1 = epoch(x.replyNanos());
        List<ByteBuffer> message = x.captured() != null ? x.captured().payload() : x.request();
        long requestBytes = 0;
        for (ByteBuffer b : message) {
            requestBytes += b.remaining();
        }
        // Read before the request is added: once its chunk is written, a captured buffer goes back
        // to its client. The head is read in place; the whole request is decoded (copied) only
        // when a camera frame is due, not at every step.
        MessageHead.Head head = MessageHead.of(message);
        Json json = new Json().put("connection", x.connection()).put("index", index);
        if (head.map()) {
            json.put("form", form(head.op() == null ? WireForm.RAW : WireForm.ENVELOPE))
                    .put("op", head.op() == null ? Envelope.OP_STEP : head.op());
        } else {
            json.put("form", "unknown").put("op", (String) null);
        }
        List<CameraImage> images = new ArrayList<>();
        boolean step = head.map() && (head.op() == null || Envelope.OP_STEP.equals(head.op()));
        if (cameraImages && step && x.requestNanos() - lastCameraScan >= cameraPeriodNanos) {
            lastCameraScan = x.requestNanos();
            Object requestValue = decodeOrNull(ByteBuffer.wrap(contiguous(message)));
            if (requestValue instanceof Map<?, ?> map) {
                Map<?, ?> observation = head.op() == null ? map : map.get(Envelope.OBS) instanceof Map<?, ?> obs ? obs : null;
                if (observation != null) {
                    findCameras(observation, "", x.requestNanos(), images);
                }
            }
        }
        // Copied before the request is added: a server's reply may be a view of the request's
        // buffer, which goes back to its pool once the request is written.
        byte[] replyData = x.reply() != null ? contiguous(x.reply()) : null;
        mcap.addMessage(request, seq, t0, t0, message, x::release);
        long replyBytes = 0;
        Object replyValue = null;
        if (replyData != null) {
            replyBytes = replyData.length;
            mcap.addMessage(reply, seq, t1, t1, replyData);
            // Decoded from the reply's own array, which nothing changes: the chunk may keep a reference.
            replyValue = decodeOrNull(ByteBuffer.wrap(replyData));
        }
        json.put("request_bytes", requestBytes).put("reply_bytes", replyBytes)
                .put("request_time_ns", t0).put("reply_time_ns", t1)
                .put("latency_ms", (x.replyNanos() - x.requestNanos()) / 1e6);
        if (replyValue instanceof Map<?, ?> r && r.get(Envelope.SERVER_TIMING) instanceof Map<?, ?> timing) {
            Json st = new Json();
            for (Map.Entry<?, ?> e : timing.entrySet()) {
                if (e.getValue() instanceof Number n) {
                    st.put(String.valueOf(e.getKey()), n.doubleValue());
                }
            }
            json.put("server_timing", st);
        }
        if (x.failure() != null) {
            json.put("failure", x.failure());
        }
        if (!x.sent()) {
            json.put("sent", false);
        }
        mcap.addMessage(exchange, seq, t0, t0, utf8(json.toString()));
        for (CameraImage image : images) {
            writeImage(image.key(), image.data(), image.format(), t0);
        }
    }

    /** The exchange record's name of a form: the enum's, in lower case. */
    static String form(WireForm form) {
        return form.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A message's bytes in one array of their own. */
    private static byte[] contiguous(List<ByteBuffer> segments) {
        long n = 0;
        for (ByteBuffer b : segments) {
            n += b.remaining();
        }
        byte[] all = new byte[Math.toIntExact(n)];
        int at = 0;
        for (ByteBuffer b : segments) {
            int len = b.remaining();
            b.duplicate().get(all, at, len);
            at += len;
        }
        return all;
    }

    /** A camera image ready to write, its bytes its own (not a view of the chunk buffer). */
    private record CameraImage(String key, byte[] data, String format) {
    }

    private void findCameras(Map<?, ?> map, String path, long nanos, List<CameraImage> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = path + e.getKey();
            Object v = e.getValue();
            if (v instanceof NdArray a && looksLikeImage(a)) {
                if (dueForCamera(key, nanos)) {
                    Object compressed = ImageCompression.compress(Map.of("image", a), CAMERA_JPEG).get("image");
                    if (compressed instanceof Map<?, ?> c && c.get("data") instanceof byte[] jpeg) {
                        out.add(new CameraImage(key, jpeg, "jpeg"));
                    }
                }
            } else if (v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get(ImageCompression.MARKER))) {
                if (m.get("data") instanceof byte[] data && m.get("codec") instanceof String format && dueForCamera(key, nanos)) {
                    out.add(new CameraImage(key, data, format));
                }
            } else if (v instanceof Map<?, ?> nested) {
                findCameras(nested, key + "/", nanos, out);
            }
        }
    }

    private boolean dueForCamera(String key, long nanos) {
        Long last = cameraLast.get(key);
        if (last != null && nanos - last < cameraPeriodNanos) {
            return false;
        }
        cameraLast.put(key, nanos);
        return true;
    }

    /** What {@link ImageCompression} treats as an image: uint8, rank 3, HWC with 1/3/4 channels or CHW with 1/3. */
    private static boolean looksLikeImage(NdArray a) {
        if (!a.dtype().equals(DType.UINT8) || a.shape().rank() != 3) {
            return false;
        }
        long d0 = a.shape().dim(0);
        long d2 = a.shape().dim(2);
        boolean hwc = d2 == 1 || d2 == 3;
        boolean chw = (d0 == 1 || d0 == 3) && d2 > 4;
        return (hwc || chw) && a.shape().size() / Math.max(1, Math.min(d0, d2)) >= ImageCompression.MIN_PIXELS;
    }

    private void writeImage(String key, byte[] data, String format, long epochNs) {
        Integer channel = cameraChannels.get(key);
        if (channel == null) {
            if (imageSchema == 0) {
                imageSchema = mcap.addSchema("foxglove.CompressedImage", "jsonschema", utf8(COMPRESSED_IMAGE_SCHEMA));
            }
            channel = mcap.addChannel(imageSchema, Topics.CAMERA_PREFIX + key, "json", Map.of());
            cameraChannels.put(key, channel);
        }
        Json stamp = new Json().put("sec", epochNs / 1_000_000_000L).put("nsec", epochNs % 1_000_000_000L);
        Json json = new Json().put("timestamp", stamp).put("frame_id", key).putBase64("data", data).put("format", format);
        mcap.addMessage(channel, sequence, epochNs, epochNs, utf8(json.toString()));
    }

    private Object decodeOrNull(ByteBuffer bytes) {
        try {
            return codec.unpack(bytes);
        } catch (RuntimeException e) {
            return null; // recorded as it came; a request that does not decode is shown as form "unknown"
        }
    }

    void flush() {
        mcap.flushChunk();
        bytesWritten = mcap.bytesWritten();
    }

    void close() {
        if (mcap == null) {
            return;
        }
        mcap.close();
        bytesWritten = mcap.bytesWritten();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
