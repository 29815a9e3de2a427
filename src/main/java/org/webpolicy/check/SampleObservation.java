package org.webpolicy.check;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.ObservationSpec;

/**
 * The observation a check sends: one a file gives, or one made from the {@code observation_spec}
 * a server advertises in its metadata (zeros of the declared dtype and shape, a fixed prompt), or
 * a small default shaped like openpi's ALOHA observation. Zeros are valid input for every
 * numeric dtype, so a server that states its spec should answer them.
 */
final class SampleObservation {

    /** The text put in every str entry. */
    static final String PROMPT = "webpolicy check";

    private SampleObservation() {
    }

    /**
     * The default: {@code state} float64 (14,), {@code images/cam_high} uint8 (3, 32, 32) and a
     * prompt, an ALOHA observation in miniature (its image large enough to be sent compressed).
     */
    static Map<String, Object> standard() {
        Map<String, Object> images = new LinkedHashMap<>();
        images.put("cam_high", NdArray.zeros(DType.UINT8, 3, 32, 32));
        Map<String, Object> observation = new LinkedHashMap<>();
        observation.put("state", NdArray.zeros(DType.FLOAT64, 14));
        observation.put("images", images);
        observation.put("prompt", PROMPT);
        return observation;
    }

    /**
     * The observation a spec describes; a dimension of any size becomes 1, an array of any dtype
     * float32 and of any shape (1,).
     */
    static Map<String, Object> fromSpec(ObservationSpec spec) {
        Map<String, Object> observation = new LinkedHashMap<>();
        spec.entries().forEach((key, entry) -> {
            Object value;
            if (entry.kind() == ObservationSpec.Entry.Kind.STRING) {
                value = PROMPT;
            } else {
                long[] shape = entry.shape() == null ? new long[] {1} : entry.shape();
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shape[i] == ObservationSpec.ANY ? 1 : shape[i];
                }
                value = NdArray.zeros(entry.dtype() == null ? DType.FLOAT32 : entry.dtype(), shape);
            }
            put(observation, key, value);
        });
        return observation;
    }

    /**
     * The observation of a server's metadata frame, or null when it advertises none.
     *
     * @throws IllegalArgumentException when {@code observation_spec} is there but is not a spec
     */
    static Map<String, Object> fromMetadata(Map<?, ?> metadata) {
        Object spec = metadata.get("observation_spec");
        if (spec == null) {
            return null;
        }
        if (!(spec instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("the metadata's observation_spec is not a map");
        }
        return fromSpec(ObservationSpec.fromMetadata(map));
    }

    /**
     * The observation packed in a file (msgpack, as {@code msgpack_numpy.packb} writes it).
     *
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when it does not hold a map with str keys
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> fromFile(Path file) throws IOException {
        Object value;
        try {
            value = new MsgpackCodec().unpack(Files.readAllBytes(file));
        } catch (DecodeException e) {
            throw new IllegalArgumentException(file + " is not one msgpack value: " + e.getMessage(), e);
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(file + " must hold a msgpack map (the observation), got "
                    + (value == null ? "nil" : value.getClass().getSimpleName()));
        }
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                throw new IllegalArgumentException(file + ": an observation's keys must be str, got a "
                        + key.getClass().getSimpleName() + " key");
            }
        }
        return (Map<String, Object>) map;
    }

    /** Puts {@code value} at a spec key, whose {@code /} reaches into nested maps. */
    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> observation, String key, Object value) {
        String[] parts = key.split("/", -1);
        Map<String, Object> at = observation;
        for (int i = 0; i < parts.length - 1; i++) {
            Object inner = at.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
            if (!(inner instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("the observation spec names both " + parts[i] + " and keys inside it");
            }
            at = (Map<String, Object>) inner;
        }
        at.put(parts[parts.length - 1], value);
    }
}
