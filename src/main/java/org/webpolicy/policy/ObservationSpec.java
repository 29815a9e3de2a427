package org.webpolicy.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.internal.wire.WireNames;

/**
 * What a policy expects in each observation: for each key, an array of a dtype and a shape, or a
 * string. Immutable; built with {@link #builder()}.
 *
 * <pre>{@code
 * ObservationSpec spec = ObservationSpec.builder()
 *         .array("images/cam_high", DType.UINT8, 3, 224, 224)
 *         .array("state", DType.FLOAT32, ObservationSpec.ANY)   // a vector of any length
 *         .string("prompt")
 *         .build();
 * }</pre>
 *
 * A key with {@code /} names a value inside nested maps ({@code images/cam_high} is
 * {@code observation["images"]["cam_high"]}); a key present as it is, slash included, is taken
 * first. A dimension of {@link #ANY} matches any size. Keys the spec does not name are allowed.
 *
 * <p>{@link #check} rejects an observation with an {@link IllegalArgumentException} naming every
 * key that does not match and how; {@code PolicyServerBuilder#observationSpec} runs it before the
 * policy and advertises {@link #toMetadata()} as {@code observation_spec} in the metadata frame,
 * where {@link #fromMetadata} reads it back.
 */
public final class ObservationSpec {

    /** A dimension that matches any size; sent as nil in the metadata (Python's None). */
    public static final long ANY = -1;

    /**
     * What one key must hold: an array (dtype may be null for any) or, when {@code shape} is null
     * and the kind is STRING, a str.
     *
     * @param kind array or string
     * @param dtype the dtype an array must have, or null for any
     * @param shape the shape an array must have ({@link #ANY} dims match any size), or null for any
     */
    public record Entry(Kind kind, DType dtype, long[] shape) {
        /** Arrays or strings. */
        public enum Kind {
            /** An {@code NdArray}. */
            ARRAY,
            /** A str. */
            STRING
        }

        /**
         * Copies {@code shape}, so the entry cannot change after it is made.
         *
         * @param kind array or string
         * @param dtype the dtype an array must have, or null for any
         * @param shape the shape an array must have ({@link #ANY} dims match any size), or null for any
         */
        public Entry {
            shape = shape == null ? null : shape.clone();
        }

        /**
         * The shape an array must have.
         *
         * @return a copy of the shape, or null for any shape (and for strings)
         */
        @Override
        public long[] shape() {
            return shape == null ? null : shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && kind == e.kind && Objects.equals(dtype, e.dtype) && Arrays.equals(shape, e.shape);
        }

        @Override
        public int hashCode() {
            return Objects.hash(kind, dtype, Arrays.hashCode(shape));
        }

        @Override
        public String toString() {
            return kind == Kind.STRING ? "str" : (dtype == null ? "any dtype" : dtype.str()) + " " + render(shape);
        }
    }

    private final Map<String, Entry> entries;

    private ObservationSpec(Map<String, Entry> entries) {
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /**
     * A builder of a spec with no keys yet.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The keys and what each must hold, in the order they were added.
     *
     * @return an unmodifiable map
     */
    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Checks one observation a Java caller built: a list of numbers where an array belongs is
     * answered with the {@code NdArray} factory that fixes it.
     *
     * @param observation the observation, as the policy would get it
     * @throws IllegalArgumentException naming each key that is missing or does not match, e.g.
     *     {@code images/cam_high: dim 1 is 480, expected 224 (shape (3, 224, 224))}
     */
    public void check(Map<String, Object> observation) {
        check(observation, true);
    }

    /**
     * Checks one observation that came over the wire, as a server does before its policy runs:
     * the same problems, worded for the peer that sent it, which may be Python (msgpack and numpy
     * names, numpy advice; no Java class or method names).
     *
     * @param observation the observation, as decoded
     * @throws IllegalArgumentException naming each key that is missing or does not match
     */
    public void checkReceived(Map<String, Object> observation) {
        check(observation, false);
    }

    private void check(Map<String, Object> observation, boolean javaCaller) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            String problem = mismatch(find(observation, e.getKey()), e.getValue(), javaCaller);
            if (problem != null) {
                problems.add(e.getKey() + ": " + problem);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
    }

    private static final Object MISSING = new Object();

    private static Object find(Map<String, Object> observation, String key) {
        if (observation.containsKey(key)) {
            return observation.get(key);
        }
        Object at = observation;
        for (String part : key.split("/", -1)) {
            if (!(at instanceof Map<?, ?> map) || !map.containsKey(part)) {
                return MISSING;
            }
            at = map.get(part);
        }
        return at;
    }

    private static String mismatch(Object value, Entry spec, boolean javaCaller) {
        if (value == MISSING) {
            return "missing";
        }
        if (spec.kind() == Entry.Kind.STRING) {
            return value instanceof String ? null : "expected a str, got " + describe(value);
        }
        if (!(value instanceof NdArray array)) {
            return "expected " + expectedArray(spec) + ", got " + describe(value) + wrapHint(value, spec, javaCaller);
        }
        if (spec.dtype() != null && !spec.dtype().equals(array.dtype())) {
            return "dtype " + array.dtype().str() + ", expected " + spec.dtype().str();
        }
        long[] want = spec.shape;
        long[] got = array.shape().toArray();
        if (want == null) {
            return null;
        }
        if (got.length != want.length) {
            return "rank " + got.length + " (shape " + render(got) + "), expected rank " + want.length + " (shape "
                    + render(want) + ")";
        }
        for (int i = 0; i < want.length; i++) {
            if (want[i] != ANY && want[i] != got[i]) {
                return "dim " + i + " is " + got[i] + ", expected " + want[i] + " (shape " + render(got) + ", expected "
                        + render(want) + ")";
            }
        }
        return null;
    }

    /** For example {@code a float64 array (<f8) of shape (14,)}. */
    private static String expectedArray(Entry spec) {
        String name = spec.dtype() == null ? null : spec.dtype().name();
        String dtype = name == null ? "an array of any dtype"
                : ("aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name + " array (" + spec.dtype().str() + ")";
        return dtype + (spec.shape == null ? "" : " of shape " + render(spec.shape));
    }

    /**
     * A list of numbers where an array is expected is the usual slip (a {@code List<Double>}
     * state in Java, a plain list in Python): it travels as a msgpack array, and numpy then sees
     * a list, not an ndarray. Say how to send the array instead, in the caller's language: the
     * {@code NdArray} factory for a Java caller, numpy for a peer on the wire.
     */
    private static String wrapHint(Object value, Entry spec, boolean javaCaller) {
        if (!(value instanceof List<?> list) || list.isEmpty() || !list.stream().allMatch(Number.class::isInstance)) {
            return "";
        }
        if (!javaCaller) {
            return "; a list travels as a msgpack array, not an ndarray: send an ndarray"
                    + (spec.dtype() == null ? "" : " of dtype " + spec.dtype().str())
                    + " (numpy: np.asarray(value" + (spec.dtype() == null ? "" : ", dtype=\"" + spec.dtype().str() + "\"")
                    + "))";
        }
        String factory = spec.dtype() != null && spec.dtype().equals(DType.FLOAT32) ? "ofFloat32" : "ofFloat64";
        String hint = "; wrap it with NdArray." + factory + "(list)";
        if (spec.dtype() != null && !spec.dtype().equals(DType.FLOAT32) && !spec.dtype().equals(DType.FLOAT64)) {
            hint = "; send an NdArray of dtype " + spec.dtype().str() + " instead (NdArray.fromBytes, NdArray.ofInt64, ...)";
        }
        return hint;
    }

    private static String describe(Object v) {
        return WireNames.of(v);
    }

    private static String render(long[] shape) {
        if (shape == null) {
            return "of any shape";
        }
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i > 0 ? ", " : "").append(shape[i] == ANY ? "*" : String.valueOf(shape[i]));
        }
        return s.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /**
     * The spec as a metadata value: {@code {key: {"dtype": "<f4" or nil, "shape": [3, nil, ...] or
     * nil}}} for arrays (nil dims match any size) and {@code {key: {"type": "str"}}} for strings.
     *
     * @return the value to put under {@code observation_spec} in the metadata
     */
    public Map<String, Object> toMetadata() {
        Map<String, Object> out = new LinkedHashMap<>();
        entries.forEach((key, e) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            if (e.kind() == Entry.Kind.STRING) {
                m.put("type", "str");
            } else {
                m.put("type", "ndarray");
                m.put("dtype", e.dtype() == null ? null : e.dtype().str());
                List<Object> dims = null;
                if (e.shape != null) {
                    dims = new ArrayList<>();
                    for (long d : e.shape) {
                        dims.add(d == ANY ? null : (Object) d);
                    }
                }
                m.put("shape", dims);
            }
            out.put(key, m);
        });
        return out;
    }

    /**
     * Reads a spec from {@link #toMetadata()}'s form (as a client receives it); dims may be nil or
     * -1 for any size. An entry whose {@code type} is absent is an array, as in the Python peers.
     *
     * @param metadata the {@code observation_spec} value of a metadata frame
     * @return the spec it describes
     * @throws IllegalArgumentException when the value is not such a spec; the message names the
     *     key and what is wrong with it (a dimension that is not an integer, an unknown dtype, ...)
     */
    public static ObservationSpec fromMetadata(Map<?, ?> metadata) {
        if (metadata == null) {
            throw new IllegalArgumentException("an observation spec is a map of str keys, got nil");
        }
        Builder b = builder();
        metadata.forEach((k, v) -> {
            if (!(k instanceof String key)) {
                throw new IllegalArgumentException("an observation spec maps str keys to maps, got "
                        + describe(k) + " key (" + k + ")");
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(key + ": expected a map like {\"type\": \"ndarray\", \"dtype\": ...,"
                        + " \"shape\": [...]}, got " + describe(v));
            }
            Object type = m.get("type");
            if ("str".equals(type)) {
                b.put(key, new Entry(Entry.Kind.STRING, null, null));
                return;
            }
            if (type != null && !"ndarray".equals(type)) {
                throw new IllegalArgumentException(key + ": type must be \"ndarray\" or \"str\", got "
                        + (type instanceof String t ? "\"" + t + "\"" : describe(type)));
            }
            b.put(key, new Entry(Entry.Kind.ARRAY, dtypeOf(key, m.get("dtype")), dimsOf(key, m.get("shape"))));
        });
        return b.build();
    }

    private static DType dtypeOf(String key, Object dtype) {
        if (dtype == null) {
            return null;
        }
        if (!(dtype instanceof String text)) {
            throw new IllegalArgumentException(key + ": dtype must be a str such as \"<f4\" or nil, got " + describe(dtype));
        }
        try {
            return DType.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    private static long[] dimsOf(String key, Object shape) {
        if (shape == null) {
            return null;
        }
        if (!(shape instanceof List<?> list)) {
            throw new IllegalArgumentException(key + ": shape must be a list or nil, got " + describe(shape));
        }
        long[] dims = new long[list.size()];
        for (int i = 0; i < dims.length; i++) {
            Object d = list.get(i);
            if (d == null) {
                dims[i] = ANY;
            } else if ((d instanceof Long || d instanceof Integer || d instanceof Short || d instanceof Byte)
                    && ((Number) d).longValue() >= ANY) {
                dims[i] = ((Number) d).longValue();
            } else {
                throw new IllegalArgumentException(key + ": dim " + i + " of the shape must be a size, nil or -1, got "
                        + (d instanceof Number || d instanceof String ? d.toString() : describe(d)));
            }
        }
        return dims;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObservationSpec s && entries.equals(s.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        return "ObservationSpec" + entries;
    }

    /** Builds an {@link ObservationSpec}; each key once. */
    public static final class Builder {
        private final Map<String, Entry> entries = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * An array of exactly this dtype and shape; {@link #ANY} dims match any size.
         *
         * @param key the observation key; {@code /} reaches into nested maps
         * @param dtype the dtype the array must have
         * @param shape the dimensions ({@link #ANY} for any size)
         * @return this builder
         * @throws IllegalArgumentException for a dimension below -1, or a key given twice or empty
         */
        public Builder array(String key, DType dtype, long... shape) {
            Objects.requireNonNull(dtype, "dtype");
            for (long d : shape) {
                if (d < 0 && d != ANY) {
                    throw new IllegalArgumentException(key + ": dims are sizes or ANY (-1), got " + d);
                }
            }
            return put(key, new Entry(Entry.Kind.ARRAY, dtype, shape));
        }

        /**
         * An array of this dtype and any shape.
         *
         * @param key the observation key; {@code /} reaches into nested maps
         * @param dtype the dtype the array must have
         * @return this builder
         * @throws IllegalArgumentException for a key given twice or empty
         */
        public Builder array(String key, DType dtype) {
            return put(key, new Entry(Entry.Kind.ARRAY, Objects.requireNonNull(dtype, "dtype"), null));
        }

        /**
         * An array of any dtype and shape.
         *
         * @param key the observation key; {@code /} reaches into nested maps
         * @return this builder
         * @throws IllegalArgumentException for a key given twice or empty
         */
        public Builder anyArray(String key) {
            return put(key, new Entry(Entry.Kind.ARRAY, null, null));
        }

        /**
         * A str.
         *
         * @param key the observation key; {@code /} reaches into nested maps
         * @return this builder
         * @throws IllegalArgumentException for a key given twice or empty
         */
        public Builder string(String key) {
            return put(key, new Entry(Entry.Kind.STRING, null, null));
        }

        private Builder put(String key, Entry entry) {
            Objects.requireNonNull(key, "key");
            if (key.isEmpty() || entries.putIfAbsent(key, entry) != null) {
                throw new IllegalArgumentException("each key once and not empty: '" + key + "'");
            }
            return this;
        }

        /**
         * Makes the spec; the builder may be reused, the spec does not change with it.
         *
         * @return the spec
         */
        public ObservationSpec build() {
            return new ObservationSpec(entries);
        }
    }
}
