package org.webpolicy.array;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * An n-dimensional array as numpy sends it: a {@link DType}, a {@link Shape} and the elements'
 * bytes in C (row-major) order, in the dtype's byte order.
 *
 * <p>Immutable: no method writes to the bytes, and the views handed out are read-only. An array
 * may be a view of bytes it does not own (a decoded array views the received message, a
 * {@link #slice} views its parent): nothing is copied unless a method says it copies. Whoever
 * created the array with {@link #wrap} promises not to change the bytes afterwards.
 *
 * <p>Thread-safe: all state is final and every accessor works on its own buffer view.
 */
public final class NdArray {

    /** Java arrays and buffers stop at {@code Integer.MAX_VALUE} bytes; so do we. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private final DType dtype;
    private final Shape shape;
    /** Position 0, limit = nbytes; never handed out without {@code asReadOnlyBuffer()}. */
    private final ByteBuffer data;

    private NdArray(DType dtype, Shape shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * Views {@code data} (from its position to its limit) as an array, without copying.
     *
     * @param dtype the element type; its byte order is how the bytes are read
     * @param shape the shape; the bytes are in C order
     * @param data the bytes; the array keeps a reference, so they must not change afterwards
     * @return an array over those bytes
     * @throws IllegalArgumentException when the byte count is not {@code shape.size() *
     *     dtype.itemSize()}
     */
    public static NdArray wrap(DType dtype, Shape shape, ByteBuffer data) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        long expected = byteSize(dtype, shape);
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("Array of dtype " + dtype + " and shape " + shape + " needs "
                    + expected + " bytes, got " + data.remaining());
        }
        return new NdArray(dtype, shape, data.slice().order(dtype.byteOrder()));
    }

    /**
     * Copies {@code bytes} into a new array of the given dtype and shape.
     *
     * @param dtype the element type
     * @param shape the shape; the bytes are in C order
     * @param bytes exactly {@code shape.size() * dtype.itemSize()} bytes
     * @return a new array owning a copy of the bytes
     * @throws IllegalArgumentException when the byte count does not match
     */
    public static NdArray fromBytes(DType dtype, Shape shape, byte[] bytes) {
        return wrap(dtype, shape, ByteBuffer.wrap(bytes.clone()));
    }

    /**
     * A new array of zero bytes (0, 0.0, false, empty strings).
     *
     * @param dtype the element type
     * @param shape the dimensions; none for a 0-d array
     * @return the array
     * @throws IllegalArgumentException when the array would exceed {@link #MAX_BYTES}
     */
    public static NdArray zeros(DType dtype, long... shape) {
        Shape s = Shape.of(shape);
        return new NdArray(dtype, s, ByteBuffer.allocate((int) byteSize(dtype, s)).order(dtype.byteOrder()));
    }

    /**
     * The number of bytes an array of this dtype and shape holds.
     *
     * @param dtype the element type
     * @param shape the shape
     * @return {@code shape.size() * dtype.itemSize()}
     * @throws IllegalArgumentException when it exceeds {@link #MAX_BYTES}
     */
    public static long byteSize(DType dtype, Shape shape) {
        long size = shape.size();
        if (dtype.itemSize() != 0 && size > MAX_BYTES / dtype.itemSize()) {
            throw new IllegalArgumentException("Array of dtype " + dtype + " and shape " + shape
                    + " would exceed " + MAX_BYTES + " bytes");
        }
        return size * dtype.itemSize();
    }

    // ---- factories from Java arrays (each copies the values, little-endian) ----

    /**
     * Float32 values ({@code <f4}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector of {@code values.length}
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofFloat32(float[] values, long... shape) {
        ByteBuffer b = allocate(DType.FLOAT32, values.length, shape);
        b.asFloatBuffer().put(values);
        return finish(DType.FLOAT32, values.length, shape, b);
    }

    /**
     * Float64 values ({@code <f8}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector of {@code values.length}
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofFloat64(double[] values, long... shape) {
        ByteBuffer b = allocate(DType.FLOAT64, values.length, shape);
        b.asDoubleBuffer().put(values);
        return finish(DType.FLOAT64, values.length, shape, b);
    }

    /**
     * A float32 vector of these numbers, in order: the one-line way to send a {@code List} of
     * numbers as a numpy array (a {@code List} itself travels as a msgpack array, which numpy
     * reads as a Python list). Each value is narrowed as {@link Number#floatValue()} does.
     *
     * @param values the numbers; none may be null
     * @return a new array of dtype {@code <f4} and shape {@code (values.size(),)}
     * @throws NullPointerException when {@code values} or one of its elements is null
     */
    public static NdArray ofFloat32(List<? extends Number> values) {
        float[] copy = new float[values.size()];
        int i = 0;
        for (Number n : values) {
            if (n == null) {
                throw new NullPointerException("values[" + i + "] is null");
            }
            copy[i++] = n.floatValue();
        }
        return ofFloat32(copy);
    }

    /**
     * A float64 vector of these numbers, in order: the one-line way to send a
     * {@code List<Double>} state as a numpy array (a {@code List} itself travels as a msgpack
     * array, which numpy reads as a Python list, not as an ndarray).
     *
     * @param values the numbers; none may be null
     * @return a new array of dtype {@code <f8} and shape {@code (values.size(),)}
     * @throws NullPointerException when {@code values} or one of its elements is null
     */
    public static NdArray ofFloat64(List<? extends Number> values) {
        double[] copy = new double[values.size()];
        int i = 0;
        for (Number n : values) {
            if (n == null) {
                throw new NullPointerException("values[" + i + "] is null");
            }
            copy[i++] = n.doubleValue();
        }
        return ofFloat64(copy);
    }

    /**
     * Unsigned bytes ({@code |u1}), the dtype of camera images.
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions, e.g. {@code 224, 224, 3}; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofUint8(byte[] values, long... shape) {
        ByteBuffer b = allocate(DType.UINT8, values.length, shape);
        b.put(values).flip();
        return finish(DType.UINT8, values.length, shape, b);
    }

    /**
     * Signed bytes ({@code |i1}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofInt8(byte[] values, long... shape) {
        ByteBuffer b = allocate(DType.INT8, values.length, shape);
        b.put(values).flip();
        return finish(DType.INT8, values.length, shape, b);
    }

    /**
     * Int16 values ({@code <i2}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofInt16(short[] values, long... shape) {
        ByteBuffer b = allocate(DType.INT16, values.length, shape);
        b.asShortBuffer().put(values);
        return finish(DType.INT16, values.length, shape, b);
    }

    /**
     * Int32 values ({@code <i4}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofInt32(int[] values, long... shape) {
        ByteBuffer b = allocate(DType.INT32, values.length, shape);
        b.asIntBuffer().put(values);
        return finish(DType.INT32, values.length, shape, b);
    }

    /**
     * Int64 values ({@code <i8}).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofInt64(long[] values, long... shape) {
        ByteBuffer b = allocate(DType.INT64, values.length, shape);
        b.asLongBuffer().put(values);
        return finish(DType.INT64, values.length, shape, b);
    }

    /**
     * Booleans ({@code |b1}, one byte each, 0 or 1).
     *
     * @param values the elements, in C order (copied)
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofBool(boolean[] values, long... shape) {
        ByteBuffer b = allocate(DType.BOOL, values.length, shape);
        for (boolean v : values) {
            b.put((byte) (v ? 1 : 0));
        }
        b.flip();
        return finish(DType.BOOL, values.length, shape, b);
    }

    /**
     * A numpy unicode array ({@code <U<n>}, n = the longest string in code points), strings
     * NUL-padded as numpy pads them.
     *
     * @param values the strings, in C order
     * @param shape the dimensions; none for a vector
     * @return a new array
     * @throws IllegalArgumentException when the values do not fill the shape exactly
     */
    public static NdArray ofStrings(String[] values, long... shape) {
        int width = 0;
        for (String v : values) {
            width = Math.max(width, v.codePointCount(0, v.length()));
        }
        DType dtype = DType.parse("<U" + width);
        ByteBuffer b = allocate(dtype, values.length, shape);
        for (String v : values) {
            int start = b.position();
            v.codePoints().forEach(b::putInt);
            b.position(start + dtype.itemSize());
        }
        b.flip();
        return finish(dtype, values.length, shape, b);
    }

    private static ByteBuffer allocate(DType dtype, int count, long[] shape) {
        Shape s = shape.length == 0 ? Shape.of(count) : Shape.of(shape);
        if (s.size() != count) {
            throw new IllegalArgumentException(count + " values do not fill shape " + s);
        }
        return ByteBuffer.allocate((int) byteSize(dtype, s)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static NdArray finish(DType dtype, int count, long[] shape, ByteBuffer b) {
        Shape s = shape.length == 0 ? Shape.of(count) : Shape.of(shape);
        b.clear();
        return new NdArray(dtype, s, b.order(dtype.byteOrder()));
    }

    // ---- what it is ----

    /**
     * The element type.
     *
     * @return the dtype, e.g. {@code <f4}
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * The dimensions.
     *
     * @return the shape, e.g. {@code (224, 224, 3)}
     */
    public Shape shape() {
        return shape;
    }

    /**
     * The number of dimensions.
     *
     * @return {@code shape().rank()}
     */
    public int rank() {
        return shape.rank();
    }

    /**
     * The number of elements.
     *
     * @return {@code shape().size()}
     */
    public long size() {
        return shape.size();
    }

    /**
     * The number of bytes ({@code size() * dtype().itemSize()}).
     *
     * @return the byte count
     */
    public int nbytes() {
        return data.capacity();
    }

    /**
     * A read-only view of the bytes (position 0, limit {@link #nbytes()}), ordered by the dtype's
     * byte order. No copy.
     *
     * @return the view
     */
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(dtype.byteOrder());
    }

    // ---- typed views (no copy; each honours the dtype's byte order) ----

    /**
     * The elements of a float32 array, as a view (no copy) in the dtype's byte order.
     *
     * @return a read-only view
     * @throws IllegalStateException when the dtype is not float32
     */
    public FloatBuffer asFloatBuffer() {
        requireType(DType.Kind.FLOAT, 4);
        return data().asFloatBuffer();
    }

    /**
     * The elements of a float64 array, as a view (no copy) in the dtype's byte order.
     *
     * @return a read-only view
     * @throws IllegalStateException when the dtype is not float64
     */
    public DoubleBuffer asDoubleBuffer() {
        requireType(DType.Kind.FLOAT, 8);
        return data().asDoubleBuffer();
    }

    /**
     * For {@code i2}/{@code u2} (and {@code f2} bits).
     *
     * @return a read-only view in the dtype's byte order
     * @throws IllegalStateException when the elements are not 2 bytes
     */
    public ShortBuffer asShortBuffer() {
        requireSize(2);
        return data().asShortBuffer();
    }

    /**
     * For {@code i4}/{@code u4}.
     *
     * @return a read-only view in the dtype's byte order
     * @throws IllegalStateException when the elements are not 4-byte integers
     */
    public IntBuffer asIntBuffer() {
        requireIntegral(4);
        return data().asIntBuffer();
    }

    /**
     * For {@code i8}/{@code u8}, {@code M8}, {@code m8}.
     *
     * @return a read-only view in the dtype's byte order
     * @throws IllegalStateException when the elements are not 8-byte integers
     */
    public LongBuffer asLongBuffer() {
        requireIntegral(8);
        return data().asLongBuffer();
    }

    // ---- copies out to Java arrays ----

    /**
     * The elements as floats; any numeric dtype converts (as numpy's {@code astype(float32)}).
     *
     * @return a new array, C order
     * @throws IllegalStateException when the elements are not numbers
     */
    public float[] toFloatArray() {
        if (dtype.kind() == DType.Kind.FLOAT && dtype.itemSize() == 4) {
            float[] out = new float[intSize()];
            asFloatBuffer().get(out);
            return out;
        }
        float[] out = new float[intSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) getDouble(i);
        }
        return out;
    }

    /**
     * The elements as doubles; any numeric dtype converts (uint64 above 2^63 included).
     *
     * @return a new array, C order
     * @throws IllegalStateException when the elements are not numbers
     */
    public double[] toDoubleArray() {
        if (dtype.kind() == DType.Kind.FLOAT && dtype.itemSize() == 8) {
            double[] out = new double[intSize()];
            asDoubleBuffer().get(out);
            return out;
        }
        double[] out = new double[intSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = getDouble(i);
        }
        return out;
    }

    /**
     * The elements of an integer or bool array as ints; refuses values that do not fit.
     *
     * @return a new array, C order
     * @throws ArithmeticException when an element does not fit an int
     * @throws IllegalStateException when the elements are not integers
     */
    public int[] toIntArray() {
        int[] out = new int[intSize()];
        for (int i = 0; i < out.length; i++) {
            long v = getLong(i);
            if (v != (int) v || (dtype.kind() == DType.Kind.UINT && dtype.itemSize() == 8 && v < 0)) {
                throw new ArithmeticException("Element " + i + " of " + dtype + " array does not fit an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /**
     * The elements of an integer, bool, datetime or timedelta array as longs. uint64 values
     * above 2^63 come back as their two's-complement bits (use {@link Long#toUnsignedString}).
     *
     * @return a new array, C order
     * @throws IllegalStateException when the elements are not integers
     */
    public long[] toLongArray() {
        long[] out = new long[intSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = getLong(i);
        }
        return out;
    }

    /**
     * The elements of a bool array.
     *
     * @return a new array, C order
     * @throws IllegalStateException when the dtype is not bool
     */
    public boolean[] toBooleanArray() {
        requireType(DType.Kind.BOOL, 1);
        boolean[] out = new boolean[intSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i) != 0;
        }
        return out;
    }

    /**
     * A copy of the raw bytes, in C order and the dtype's byte order.
     *
     * @return a new array of {@link #nbytes()} bytes
     */
    public byte[] toByteArray() {
        byte[] out = new byte[nbytes()];
        data().get(out);
        return out;
    }

    /**
     * The elements of a {@code U} array as strings (trailing NULs dropped, as numpy does) or of
     * an {@code S} array decoded as ISO-8859-1 (byte for byte).
     *
     * @return a new array, C order
     * @throws IllegalStateException when the dtype is neither {@code U} nor {@code S}
     */
    public String[] toStringArray() {
        int n = intSize();
        String[] out = new String[n];
        int item = dtype.itemSize();
        if (dtype.kind() == DType.Kind.UNICODE) {
            ByteBuffer b = data();
            for (int i = 0; i < n; i++) {
                StringBuilder s = new StringBuilder();
                int chars = item / 4;
                int end = chars;
                while (end > 0 && b.getInt(i * item + (end - 1) * 4) == 0) {
                    end--;
                }
                for (int c = 0; c < end; c++) {
                    int cp = b.getInt(i * item + c * 4);
                    if (!Character.isValidCodePoint(cp)) {
                        throw new IllegalStateException("Element " + i + " holds an invalid code point " + cp);
                    }
                    s.appendCodePoint(cp);
                }
                out[i] = s.toString();
            }
            return out;
        }
        if (dtype.kind() == DType.Kind.BYTES) {
            byte[] all = toByteArray();
            for (int i = 0; i < n; i++) {
                int end = item;
                while (end > 0 && all[i * item + end - 1] == 0) {
                    end--;
                }
                out[i] = new String(all, i * item, end, StandardCharsets.ISO_8859_1);
            }
            return out;
        }
        throw new IllegalStateException("toStringArray needs a U or S array, not " + dtype);
    }

    // ---- element access by flat (C-order) index ----

    /**
     * Element {@code index} (flat, C order) of a numeric array, as a double.
     *
     * @param index the flat index, from 0 to {@code size() - 1}
     * @return the element
     * @throws IllegalStateException when the elements are not numbers
     * @throws IndexOutOfBoundsException when the index is outside the array
     */
    public double getDouble(long index) {
        int at = byteOffset(index);
        return switch (dtype.kind()) {
            case FLOAT -> switch (dtype.itemSize()) {
                case 2 -> Half.toFloat(data.getShort(at));
                case 4 -> data.getFloat(at);
                default -> data.getDouble(at);
            };
            case UINT -> {
                long v = readIntegral(at);
                yield dtype.itemSize() == 8 && v < 0 ? (double) (v >>> 1) * 2.0 + (v & 1) : (double) v;
            }
            case INT, BOOL -> readIntegral(at);
            default -> throw new IllegalStateException("Elements of " + dtype + " are not numbers");
        };
    }

    /**
     * Element {@code index} (flat, C order) of an integer-like array, as a long.
     *
     * @param index the flat index, from 0 to {@code size() - 1}
     * @return the element (uint64 above 2^63 - 1 as its two's-complement bits)
     * @throws IllegalStateException when the elements are not integers
     * @throws IndexOutOfBoundsException when the index is outside the array
     */
    public long getLong(long index) {
        int at = byteOffset(index);
        return switch (dtype.kind()) {
            case INT, UINT, BOOL, DATETIME, TIMEDELTA -> readIntegral(at);
            default -> throw new IllegalStateException("Elements of " + dtype + " are not integers");
        };
    }

    /**
     * Element {@code index} (flat, C order) of a float array, as a float.
     *
     * @param index the flat index, from 0 to {@code size() - 1}
     * @return the element, rounded to float
     * @throws IllegalStateException when the elements are not numbers
     * @throws IndexOutOfBoundsException when the index is outside the array
     */
    public float getFloat(long index) {
        return (float) getDouble(index);
    }

    /**
     * The flat C-order index of a multi-dimensional index.
     *
     * @param index one index per dimension
     * @return the flat index, for {@link #getDouble} and the other getters
     * @throws IllegalArgumentException when the index has not one entry per dimension
     * @throws IndexOutOfBoundsException when an entry is outside its dimension
     */
    public long flatIndex(long... index) {
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException("Index of " + index.length + " dimensions into an array of shape " + shape);
        }
        long flat = 0;
        for (int i = 0; i < index.length; i++) {
            long d = shape.dim(i);
            if (index[i] < 0 || index[i] >= d) {
                throw new IndexOutOfBoundsException("Index " + index[i] + " out of bounds for dimension " + i + " of shape " + shape);
            }
            flat = flat * d + index[i];
        }
        return flat;
    }

    private long readIntegral(int at) {
        boolean unsigned = dtype.kind() != DType.Kind.INT && dtype.kind() != DType.Kind.DATETIME
                && dtype.kind() != DType.Kind.TIMEDELTA;
        return switch (dtype.itemSize()) {
            case 1 -> unsigned ? data.get(at) & 0xffL : data.get(at);
            case 2 -> unsigned ? data.getShort(at) & 0xffffL : data.getShort(at);
            case 4 -> unsigned ? data.getInt(at) & 0xffffffffL : data.getInt(at);
            default -> data.getLong(at);
        };
    }

    private int byteOffset(long index) {
        if (index < 0 || index >= shape.size()) {
            throw new IndexOutOfBoundsException("Index " + index + " out of bounds for " + shape.size() + " elements");
        }
        return (int) (index * dtype.itemSize());
    }

    // ---- views and copies ----

    /**
     * Item {@code index} along the first dimension ({@code a[index]} in numpy), as a view of the
     * same bytes.
     *
     * @param index from 0 to {@code shape().dim(0) - 1}
     * @return an array of rank one less, sharing this one's bytes
     * @throws IllegalStateException for a 0-d array
     * @throws IndexOutOfBoundsException when the index is outside the first dimension
     */
    public NdArray slice(long index) {
        if (shape.rank() == 0) {
            throw new IllegalStateException("Cannot slice a 0-d array");
        }
        long first = shape.dim(0);
        if (index < 0 || index >= first) {
            throw new IndexOutOfBoundsException("Index " + index + " out of bounds for first dimension of shape " + shape);
        }
        Shape rest = shape.dropFirst(1);
        int length = (int) (rest.size() * dtype.itemSize());
        return new NdArray(dtype, rest, data.slice((int) (index * length), length).order(dtype.byteOrder()));
    }

    /**
     * The same bytes under another shape of the same size. No copy.
     *
     * @param newShape the dimensions; none for a 0-d array of one element
     * @return an array sharing this one's bytes
     * @throws IllegalArgumentException when the sizes differ
     */
    public NdArray reshape(long... newShape) {
        Shape s = Shape.of(newShape);
        if (s.size() != shape.size()) {
            throw new IllegalArgumentException("Cannot reshape " + shape + " to " + s);
        }
        return new NdArray(dtype, s, data);
    }

    /**
     * An array that owns a fresh copy of the bytes (detached from any message buffer). A policy on
     * a server that reuses its message buffers keeps this, not the array it was given, past its call.
     *
     * @return the copy
     */
    public NdArray copy() {
        ByteBuffer b = ByteBuffer.allocate(nbytes());
        b.put(data.duplicate().clear()).clear();
        return new NdArray(dtype, shape, b.order(dtype.byteOrder()));
    }

    private void requireType(DType.Kind kind, int itemSize) {
        if (dtype.kind() != kind || dtype.itemSize() != itemSize) {
            throw new IllegalStateException("This view needs a " + kind.name().toLowerCase() + (itemSize * 8)
                    + " array, not " + dtype);
        }
    }

    private void requireSize(int itemSize) {
        if (dtype.itemSize() != itemSize) {
            throw new IllegalStateException("This view needs " + itemSize + "-byte elements, not " + dtype);
        }
    }

    private void requireIntegral(int itemSize) {
        DType.Kind k = dtype.kind();
        boolean integral = k == DType.Kind.INT || k == DType.Kind.UINT || k == DType.Kind.DATETIME
                || k == DType.Kind.TIMEDELTA;
        if (!integral || dtype.itemSize() != itemSize) {
            throw new IllegalStateException("This view needs " + itemSize + "-byte integers, not " + dtype);
        }
    }

    private int intSize() {
        return Math.toIntExact(shape.size());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof NdArray a)) {
            return false;
        }
        return a.dtype.equals(dtype) && a.shape.equals(shape) && a.data.duplicate().clear().equals(data.duplicate().clear());
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, shape, data.duplicate().clear());
    }

    /** For example {@code NdArray(<f4, (50, 14), [0.12, -0.5, 1.0, ...])}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("NdArray(").append(dtype).append(", ").append(shape).append(", [");
        long n = Math.min(shape.size(), 4);
        for (long i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ", ").append(elementText(i));
        }
        if (shape.size() > n) {
            b.append(", ...");
        }
        return b.append("])").toString();
    }

    private String elementText(long i) {
        return switch (dtype.kind()) {
            case FLOAT -> Float.toString(getFloat(i));
            case BOOL -> getLong(i) != 0 ? "True" : "False";
            case UINT -> dtype.itemSize() == 8 ? Long.toUnsignedString(getLong(i)) : Long.toString(getLong(i));
            case INT, DATETIME, TIMEDELTA -> Long.toString(getLong(i));
            case UNICODE, BYTES -> "'" + slice1(i) + "'";
        };
    }

    private String slice1(long i) {
        return reshape(shape.size()).slice(i).toStringArray()[0];
    }
}
