package org.webpolicy.broker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;

/**
 * One policy reply, checked once when it arrives so that every later {@link #stepAt} is a cheap
 * walk: every array in it has a first dimension of the same length, at least the action horizon.
 *
 * <p>Immutable and thread-safe (the reply is never modified; steps are views).
 */
final class ActionChunk {

    private final Map<String, Object> reply;
    private final long length;

    private ActionChunk(Map<String, Object> reply, long length) {
        this.reply = reply;
        this.length = length;
    }

    /**
     * Checks {@code reply} as a chunk of at least {@code horizon} steps.
     *
     * @throws ActionChunkException naming the keys when it is not one
     */
    static ActionChunk of(Map<String, Object> reply, int horizon) {
        if (reply == null) {
            throw new ActionChunkException("The policy returned null instead of an action chunk");
        }
        List<String> paths = new ArrayList<>();
        List<NdArray> arrays = new ArrayList<>();
        collectArrays(reply, "", paths, arrays);
        if (arrays.isEmpty()) {
            throw new ActionChunkException("The policy's reply holds no arrays to cut into actions (keys "
                    + reply.keySet() + ")");
        }
        long length = -1;
        String lengthPath = null;
        for (int i = 0; i < arrays.size(); i++) {
            NdArray a = arrays.get(i);
            String path = paths.get(i);
            if (a.rank() == 0) {
                throw new ActionChunkException("Action chunk array '" + path + "' is 0-d (shape " + a.shape()
                        + "): a chunk needs a first dimension of steps");
            }
            long steps = a.shape().dim(0);
            if (length < 0) {
                length = steps;
                lengthPath = path;
            } else if (steps != length) {
                throw new ActionChunkException("Action chunk arrays disagree on the number of steps: '" + lengthPath
                        + "' has " + length + ", '" + path + "' has " + steps + " (shape " + a.shape() + ")");
            }
        }
        if (length < horizon) {
            throw new ActionChunkException("Action chunk has " + length + " steps ('" + lengthPath + "' has shape "
                    + arrays.get(0).shape() + "), fewer than the action horizon " + horizon);
        }
        return new ActionChunk(reply, length);
    }

    /** The number of steps in the reply (the arrays' first dimension). */
    long length() {
        return length;
    }

    /**
     * Step {@code index}: the reply with every array replaced by its item {@code index} (a view)
     * and everything else as it was. Maps keep their key order.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> stepAt(long index) {
        return (Map<String, Object>) slice(reply, index);
    }

    /**
     * Step {@code newIndex} of this chunk blended with step {@code oldIndex} of {@code older}:
     * {@code (1 - weight) * old + weight * new} for float32/float64 arrays present at the same
     * path with the same dtype and shape in both; everything else is this chunk's.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> blendedStepAt(long newIndex, ActionChunk older, long oldIndex, double weight) {
        return (Map<String, Object>) (Map<?, ?>) blendMap(stepAt(newIndex), older.stepAt(oldIndex), weight);
    }

    private static void collectArrays(Object value, String path, List<String> paths, List<NdArray> arrays) {
        if (value instanceof NdArray a) {
            paths.add(path);
            arrays.add(a);
        } else if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                collectArrays(e.getValue(), join(path, String.valueOf(e.getKey())), paths, arrays);
            }
        } else if (value instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collectArrays(l.get(i), join(path, Integer.toString(i)), paths, arrays);
            }
        }
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "/" + key;
    }

    /**
     * Keys are kept as they are (nested maps may have non-string keys). A map or list holding no
     * array comes back as the same object: {@code server_timing} is passed on, not copied.
     */
    private static Object slice(Object value, long index) {
        if (value instanceof NdArray a) {
            return a.slice(index);
        }
        if (value instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>(Math.max(4, m.size() * 2));
            boolean changed = false;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object sliced = slice(e.getValue(), index);
                changed |= sliced != e.getValue();
                out.put(e.getKey(), sliced);
            }
            return changed ? Collections.unmodifiableMap(out) : m;
        }
        if (value instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            boolean changed = false;
            for (Object item : l) {
                Object sliced = slice(item, index);
                changed |= sliced != item;
                out.add(sliced);
            }
            return changed ? Collections.unmodifiableList(out) : l;
        }
        return value;
    }

    private static Map<Object, Object> blendMap(Map<?, ?> fresh, Map<?, ?> old, double weight) {
        Map<Object, Object> out = new LinkedHashMap<>(Math.max(4, fresh.size() * 2));
        for (Map.Entry<?, ?> e : fresh.entrySet()) {
            out.put(e.getKey(), blend(e.getValue(), old.get(e.getKey()), weight));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object blend(Object fresh, Object old, double weight) {
        if (fresh instanceof NdArray a && old instanceof NdArray b && a.dtype().equals(b.dtype())
                && a.shape().equals(b.shape())) {
            return blendArrays(a, b, weight);
        }
        if (fresh instanceof Map<?, ?> m && old instanceof Map<?, ?> o) {
            return blendMap(m, o, weight);
        }
        if (fresh instanceof List<?> l && old instanceof List<?> o && l.size() == o.size()) {
            List<Object> out = new ArrayList<>(l.size());
            for (int i = 0; i < l.size(); i++) {
                out.add(blend(l.get(i), o.get(i), weight));
            }
            return Collections.unmodifiableList(out);
        }
        return fresh;
    }

    private static NdArray blendArrays(NdArray fresh, NdArray old, double weight) {
        long[] shape = fresh.shape().toArray();
        if (fresh.dtype().equals(DType.FLOAT32)) {
            float[] f = fresh.toFloatArray();
            float[] o = old.toFloatArray();
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) ((1 - weight) * o[i] + weight * f[i]);
            }
            return NdArray.ofFloat32(f).reshape(shape);
        }
        if (fresh.dtype().equals(DType.FLOAT64)) {
            double[] f = fresh.toDoubleArray();
            double[] o = old.toDoubleArray();
            for (int i = 0; i < f.length; i++) {
                f[i] = (1 - weight) * o[i] + weight * f[i];
            }
            return NdArray.ofFloat64(f).reshape(shape);
        }
        // Integer, bool, string or big-endian arrays: no meaningful average; take the new plan.
        return fresh;
    }
}
