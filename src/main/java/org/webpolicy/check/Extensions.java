package org.webpolicy.check;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.check.Wire.CaseFailure;
import org.webpolicy.check.Wire.NotApplicable;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.image.compression.ImageCompression;

/**
 * The cases of our extensions, each run only when the server offers it in its handshake:
 * request ids ({@code X-Webpolicy-Request-Id: echo}), real-time chunking
 * ({@code X-Webpolicy-Continuation: 1}, docs/RTC_WIRE.md) and compressed images
 * ({@code X-Webpolicy-Image-Codec}, answered to the check's offer of {@code png}).
 */
final class Extensions {

    /** Numbers no step of the conversation uses, so an echo cannot match by chance. */
    private static final long REQUEST_ID = 4242;
    private static final long CURSOR = 57;
    private static final long GENERATION = 3;

    private final ConformanceCheck check;
    private final Wire wire;

    Extensions(ConformanceCheck check, Wire wire) {
        this.check = check;
        this.wire = wire;
    }

    String requestId(WireConnection c, HttpAnswer handshake) throws IOException, CaseFailure, NotApplicable {
        requireEnvelope("request ids");
        String echo = handshake.header(Wire.REQUEST_ID_HEADER);
        if (echo == null || !echo.trim().equalsIgnoreCase("echo")) {
            throw new NotApplicable("not offered (no " + Wire.REQUEST_ID_HEADER + ": echo in the handshake)");
        }
        Map<?, ?> reply = wire.exchange(c, Wire.step(check.form, check.observation, Map.of(Wire.REQUEST_ID, REQUEST_ID)));
        Wire.action(check.form, reply);
        Object id = reply.get(Wire.REQUEST_ID);
        if (!Long.valueOf(REQUEST_ID).equals(id)) {
            throw new CaseFailure("a step with " + Wire.REQUEST_ID + " " + REQUEST_ID + " was answered with "
                    + (id == null ? "no id" : "id " + id));
        }
        return "the reply carries the request's id " + REQUEST_ID;
    }

    String continuation(WireConnection c, HttpAnswer handshake) throws IOException, CaseFailure, NotApplicable {
        requireEnvelope("the rtc fields");
        String version = handshake.header(Wire.CONTINUATION_HEADER);
        if (version == null || !version.trim().equals("1")) {
            throw new NotApplicable("not offered (no " + Wire.CONTINUATION_HEADER + ": 1 in the handshake)");
        }
        NdArray actions = continuationActions(check.lastAction);
        Map<String, Object> rtc = new LinkedHashMap<>();
        rtc.put("delay", Math.min(1L, actions.shape().dim(0)));
        rtc.put("continuation", actions);
        rtc.put("cursor", CURSOR);
        rtc.put("capture_ns", System.nanoTime());
        rtc.put("generation", GENERATION);
        Map<?, ?> reply = wire.exchange(c, Wire.step(check.form, check.observation, Map.of("rtc", rtc)));
        Wire.action(check.form, reply);
        if (!(reply.get("rtc") instanceof Map<?, ?> echo)) {
            throw new CaseFailure("a step with rtc must be answered with an 'rtc' map (cursor and generation echoed), got keys "
                    + Wire.keys(reply));
        }
        if (!Long.valueOf(CURSOR).equals(echo.get("cursor")) || !Long.valueOf(GENERATION).equals(echo.get("generation"))) {
            throw new CaseFailure("rtc echoes cursor " + echo.get("cursor") + " and generation " + echo.get("generation")
                    + "; sent " + CURSOR + " and " + GENERATION);
        }
        return "a continuation of shape " + actions.shape() + " answered, cursor and generation echoed";
    }

    String imageCodec() throws IOException, CaseFailure, NotApplicable {
        Map<String, Object> compressed = ImageCompression.compress(check.observation, ImageCodec.PNG);
        Map<String, String> offer = Wire.none();
        offer.put(Wire.IMAGE_CODEC_HEADER, "png");
        try (WireConnection c = wire.open(offer)) {
            String accepted = c.handshake().header(Wire.IMAGE_CODEC_HEADER);
            if (accepted == null) {
                throw new NotApplicable("not offered (an offer of png got no " + Wire.IMAGE_CODEC_HEADER + " back)");
            }
            if (!accepted.trim().equalsIgnoreCase("png")) {
                throw new CaseFailure("an offer of png was answered with " + Wire.IMAGE_CODEC_HEADER + ": " + accepted
                        + " (a server answers the token offered or nothing)");
            }
            int images = countImages(compressed);
            if (images == 0) {
                throw new NotApplicable("png accepted, but the observation has no image to send compressed");
            }
            Wire.action(check.form, wire.exchange(c, Wire.step(check.form, compressed, Map.of())));
            return "png accepted; a step with " + images + " compressed image(s) answered";
        }
    }

    private void requireEnvelope(String what) throws NotApplicable {
        if (check.form != Form.ENVELOPE) {
            throw new NotApplicable(what + " live in the envelope form");
        }
    }

    /**
     * The continuation to send: the last chunk's {@code actions} when it is a rank-2 array (what
     * the policy's chunks hold), else one action of one zero.
     */
    private static NdArray continuationActions(Map<?, ?> action) {
        if (action != null && action.get("actions") instanceof NdArray a && a.rank() == 2 && a.dtype().isFloating()
                && a.shape().dim(0) > 0) {
            return a.dtype().equals(DType.FLOAT32) ? a : NdArray.ofFloat32(a.toFloatArray(), a.shape().dim(0), a.shape().dim(1));
        }
        return NdArray.zeros(DType.FLOAT32, 1, 1);
    }

    private static int countImages(Map<?, ?> map) {
        int n = 0;
        for (Object v : map.values()) {
            if (v instanceof Map<?, ?> inner) {
                n += Boolean.TRUE.equals(inner.get(ImageCompression.MARKER)) ? 1 : countImages(inner);
            }
        }
        return n;
    }
}
