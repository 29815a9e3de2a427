package org.webpolicy.transport.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;

/**
 * What observations must share to go into one batch: the same keys (nested maps included), and
 * for every array the same dtype and shape; for other values the same kind (a prompt's text may
 * differ, a list's length may not). Two observations with equal keys can be stacked by a batch
 * policy; one that differs goes into a batch of its own rather than failing its neighbours.
 */
public final class BatchKey {

    private final String signature;
    private final int hash;

    private BatchKey(String signature) {
        this.signature = signature;
        this.hash = signature.hashCode();
    }

    static BatchKey of(Map<String, Object> observation) {
        StringBuilder out = new StringBuilder(64);
        describe(observation, out);
        return new BatchKey(out.toString());
    }

    private static void describe(Object value, StringBuilder out) {
        if (value instanceof NdArray array) {
            out.append(array.dtype().str()).append(array.shape());
        } else if (value instanceof Map<?, ?> map) {
            List<String> keys = new ArrayList<>(map.size());
            for (Object key : map.keySet()) {
                keys.add(String.valueOf(key));
            }
            Collections.sort(keys);
            out.append('{');
            for (String key : keys) {
                // Lengths first, so that no key can imitate a neighbour's description.
                out.append(key.length()).append(':').append(key).append('=');
                describe(map.get(key), out);
                out.append(',');
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[').append(list.size());
            for (Object item : list) {
                out.append(',');
                describe(item, out);
            }
            out.append(']');
        } else if (value instanceof NpScalar scalar) {
            out.append("scalar:").append(scalar.dtype().str());
        } else {
            out.append(value == null ? "null" : value.getClass().getSimpleName());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchKey other && other.hash == hash && other.signature.equals(signature);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return signature;
    }
}
