package org.webpolicy.internal.wire;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;

/**
 * Names a decoded value as the wire has it (msgpack and numpy types), for errors a Python peer
 * may read: {@code got an int}, not {@code got Long}. Values of one kind get one name, so a text
 * reads the same from the Java and the Python side.
 */
public final class WireNames {

    private WireNames() {
    }

    /**
     * The value's wire type, with an article: {@code nil}, {@code a bool}, {@code an int},
     * {@code a float}, {@code a str}, {@code bin}, {@code a map}, {@code a list of 2 numbers},
     * {@code a float32 ndarray (<f4) of shape (3, 224, 224)}, {@code a numpy float32 scalar (<f4)};
     * anything else by its Java class (only a Java caller can hand one over).
     *
     * @param v the value, as the codec decodes it or a caller passes it
     * @return its name
     */
    public static String of(Object v) {
        if (v == null) {
            return "nil";
        }
        if (v instanceof Boolean) {
            return "a bool";
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger) {
            return "an int";
        }
        if (v instanceof Double || v instanceof Float) {
            return "a float";
        }
        if (v instanceof String) {
            return "a str";
        }
        if (v instanceof byte[]) {
            return "bin";
        }
        if (v instanceof Map) {
            return "a map";
        }
        if (v instanceof List<?> list) {
            boolean numbers = !list.isEmpty() && list.stream().allMatch(Number.class::isInstance);
            return "a list of " + list.size() + (numbers ? " number" : " value") + (list.size() == 1 ? "" : "s");
        }
        if (v instanceof NdArray array) {
            return withArticle(array.dtype().name()) + " ndarray (" + array.dtype().str() + ") of shape " + array.shape();
        }
        if (v instanceof NpScalar scalar) {
            return "a numpy " + scalar.dtype().name() + " scalar (" + scalar.dtype().str() + ")";
        }
        return "a Java " + v.getClass().getSimpleName();
    }

    /** {@code a float32}, {@code an int64}, {@code an uint8}: "a"/"an" by the first letter, as the library's texts have it. */
    private static String withArticle(String word) {
        return ("aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an " : "a ") + word;
    }
}
