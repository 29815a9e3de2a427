package org.webpolicy.array;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A numpy scalar that keeps its dtype on the wire ({@code np.float32(1.5)}, {@code np.int64(3)},
 * {@code np.bool_(True)}): numpy sends these as {@code __npgeneric__} maps, unlike
 * {@code np.float64}, {@code np.str_} and {@code np.bytes_}, which arrive as plain values.
 *
 * <p>Held as the element's bytes in its dtype (a 0-d {@link NdArray}), so a float32 scalar keeps
 * float32 precision and packs back to the same bytes. Immutable. Only bool, integer and float
 * dtypes: numpy cannot send datetime scalars this way (they fail on the Python side).
 */
public final class NpScalar {

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private final NdArray value;

    private NpScalar(NdArray value) {
        this.value = value;
    }

    /**
     * {@code np.bool_(v)}.
     *
     * @param v the value
     * @return a scalar of dtype {@code |b1}
     */
    public static NpScalar ofBool(boolean v) {
        return new NpScalar(NdArray.ofBool(new boolean[] {v}).reshape());
    }

    /**
     * {@code np.float32(v)}.
     *
     * @param v the value
     * @return a scalar of dtype {@code <f4}
     */
    public static NpScalar ofFloat32(float v) {
        return new NpScalar(NdArray.ofFloat32(new float[] {v}).reshape());
    }

    /**
     * {@code np.int32(v)}.
     *
     * @param v the value
     * @return a scalar of dtype {@code <i4}
     */
    public static NpScalar ofInt32(int v) {
        return new NpScalar(NdArray.ofInt32(new int[] {v}).reshape());
    }

    /**
     * {@code np.int64(v)}.
     *
     * @param v the value
     * @return a scalar of dtype {@code <i8}
     */
    public static NpScalar ofInt64(long v) {
        return new NpScalar(NdArray.ofInt64(new long[] {v}).reshape());
    }

    /**
     * The scalar numpy makes with {@code np.dtype(dtype).type(value)}: {@code value} is a
     * {@link Boolean}, an integral {@link Number} (incl. {@link BigInteger}) or a floating one.
     *
     * @param dtype a bool, int, uint or float dtype
     * @param value the value, converted to the dtype as numpy converts it
     * @return the scalar
     * @throws IllegalArgumentException when the dtype is not bool/int/uint/float, or an integer
     *     does not fit the dtype (numpy would wrap it silently; we refuse)
     * @throws NullPointerException when {@code value} is null
     */
    public static NpScalar of(DType dtype, Object value) {
        Objects.requireNonNull(value, "value");
        if (!dtype.isNumeric()) {
            throw new IllegalArgumentException("A numpy scalar of dtype " + dtype + " cannot be sent (only bool, int, uint and float)");
        }
        ByteBuffer b = ByteBuffer.allocate(dtype.itemSize()).order(dtype.byteOrder());
        switch (dtype.kind()) {
            case BOOL -> b.put((byte) (truthy(dtype, value) ? 1 : 0));
            case FLOAT -> {
                double d = asDouble(dtype, value);
                switch (dtype.itemSize()) {
                    case 2 -> b.putShort(Half.fromFloat((float) d));
                    case 4 -> b.putFloat((float) d);
                    default -> b.putDouble(d);
                }
            }
            default -> putInteger(b, dtype, asBigInteger(dtype, value));
        }
        b.flip();
        return new NpScalar(NdArray.wrap(dtype, Shape.of(), b));
    }

    private static boolean truthy(DType dtype, Object value) {
        if (value instanceof Boolean bool) {
            return bool;
        }
        if (value instanceof Number n) {
            return n.doubleValue() != 0;
        }
        throw new IllegalArgumentException("Cannot make a " + dtype + " scalar from " + wireName(value));
    }

    private static double asDouble(DType dtype, Object value) {
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        if (value instanceof Boolean bool) {
            return bool ? 1 : 0;
        }
        throw new IllegalArgumentException("Cannot make a " + dtype + " scalar from " + wireName(value));
    }

    private static BigInteger asBigInteger(DType dtype, Object value) {
        if (value instanceof BigInteger big) {
            return big;
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return BigInteger.valueOf(((Number) value).longValue());
        }
        if (value instanceof Boolean bool) {
            return bool ? BigInteger.ONE : BigInteger.ZERO;
        }
        throw new IllegalArgumentException("Cannot make an integer " + dtype + " scalar from "
                + wireName(value) + " " + value);
    }

    /** The msgpack name of a value ({@code an int}, {@code a float}): these texts reach Python peers too. */
    private static String wireName(Object value) {
        if (value instanceof Double || value instanceof Float) {
            return "a float";
        }
        if (value instanceof Number) {
            return "an int";
        }
        return value instanceof String ? "a str" : value instanceof byte[] ? "bin" : "a " + value.getClass().getSimpleName();
    }

    private static void putInteger(ByteBuffer b, DType dtype, BigInteger v) {
        int bits = dtype.itemSize() * 8;
        BigInteger min;
        BigInteger max;
        if (dtype.kind() == DType.Kind.UINT) {
            min = BigInteger.ZERO;
            max = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        } else {
            min = BigInteger.ONE.shiftLeft(bits - 1).negate();
            max = BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE);
        }
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            throw new IllegalArgumentException("Value " + v + " is out of range for a " + dtype.name() + " scalar");
        }
        long raw = v.signum() < 0 ? v.longValue() : v.mod(TWO_64).longValue();
        switch (dtype.itemSize()) {
            case 1 -> b.put((byte) raw);
            case 2 -> b.putShort((short) raw);
            case 4 -> b.putInt((int) raw);
            default -> b.putLong(raw);
        }
    }

    /**
     * The scalar's dtype.
     *
     * @return for example {@code <f4} for {@code np.float32(1.5)}
     */
    public DType dtype() {
        return value.dtype();
    }

    /**
     * The scalar as a 0-d array (shape {@code ()}).
     *
     * @return a 0-d array of the same dtype and value
     */
    public NdArray toArray() {
        return value;
    }

    /**
     * The value as a double (exact for every float dtype and for integers up to 2^53).
     *
     * @return the value; booleans give 0 or 1
     */
    public double doubleValue() {
        return value.getDouble(0);
    }

    /**
     * The value as a long: floats truncated toward zero, as Java's cast does.
     *
     * @return the value; uint64 above 2^63 - 1 wraps to negative
     */
    public long longValue() {
        return value.dtype().isFloating() ? (long) value.getDouble(0) : value.getLong(0);
    }

    /**
     * Whether the value is non-zero, as Python's {@code bool(x)}.
     *
     * @return true for any non-zero value (NaN included)
     */
    public boolean booleanValue() {
        return value.getDouble(0) != 0;
    }

    /**
     * The value as Python's {@code obj.item()} gives it, which is what travels in the
     * {@code data} field: a {@link Boolean}, a {@link Long} (a {@link BigInteger} for uint64
     * above 2^63 - 1) or a {@link Double}.
     *
     * @return the value as a Java object
     */
    public Object item() {
        return switch (value.dtype().kind()) {
            case BOOL -> value.getLong(0) != 0;
            case FLOAT -> value.getDouble(0);
            case UINT -> {
                long v = value.getLong(0);
                yield v < 0 ? new BigInteger(Long.toUnsignedString(v)) : (Object) v;
            }
            default -> value.getLong(0);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpScalar s && s.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    /** For example {@code float32(1.5)}. */
    @Override
    public String toString() {
        return value.dtype().name() + "(" + item() + ")";
    }
}
