package org.webpolicy.array;

import java.util.Arrays;

/**
 * The dimensions of an {@link NdArray}, outermost first (numpy's {@code shape}). A rank-0 shape
 * ({@code []}) holds one element; any zero dimension makes an empty array.
 *
 * <p>Immutable. Dimensions are non-negative and their product fits in a {@code long}.
 */
public final class Shape {

    private static final Shape SCALAR = new Shape(new long[0]);

    private final long[] dims;
    private final long size;

    private Shape(long[] dims) {
        this.dims = dims;
        this.size = product(dims);
    }

    /**
     * A shape of these dimensions; none gives the shape of a 0-d array.
     *
     * @param dims the dimensions, outermost first
     * @return the shape
     * @throws IllegalArgumentException for a negative dimension or a size that overflows
     */
    public static Shape of(long... dims) {
        if (dims.length == 0) {
            return SCALAR;
        }
        return new Shape(dims.clone());
    }

    /**
     * Same as {@link #of(long...)}, for {@code int} dimensions.
     *
     * @param dims the dimensions, outermost first
     * @return the shape
     * @throws IllegalArgumentException for a negative dimension
     */
    public static Shape of(int... dims) {
        return new Shape(Arrays.stream(dims).asLongStream().toArray());
    }

    private static long product(long[] dims) {
        long size = 1;
        boolean empty = false;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("Negative dimension in shape " + Arrays.toString(dims));
            }
            if (d == 0) {
                empty = true;
            }
        }
        if (empty) {
            return 0;
        }
        for (long d : dims) {
            try {
                size = Math.multiplyExact(size, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("Shape " + Arrays.toString(dims) + " has more elements than a long can count");
            }
        }
        return size;
    }

    /**
     * The number of dimensions.
     *
     * @return 0 for a 0-d array
     */
    public int rank() {
        return dims.length;
    }

    /**
     * Dimension {@code i}; negative {@code i} counts from the end, as in numpy.
     *
     * @param i the index, from 0 or (negative) from the end
     * @return the size of that dimension
     * @throws IndexOutOfBoundsException when the shape has no such dimension
     */
    public long dim(int i) {
        int index = i < 0 ? dims.length + i : i;
        if (index < 0 || index >= dims.length) {
            throw new IndexOutOfBoundsException("Dimension " + i + " of a rank-" + dims.length + " shape");
        }
        return dims[index];
    }

    /**
     * The number of elements: the product of the dimensions (1 for rank 0).
     *
     * @return the element count
     */
    public long size() {
        return size;
    }

    /**
     * The dimensions.
     *
     * @return a copy of the dimensions, outermost first
     */
    public long[] toArray() {
        return dims.clone();
    }

    /**
     * The shape without its first {@code n} dimensions.
     *
     * @param n how many leading dimensions to drop, at most {@link #rank()}
     * @return the remaining shape (rank 0 when all are dropped)
     */
    public Shape dropFirst(int n) {
        return Shape.of(Arrays.copyOfRange(dims, n, dims.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(s.dims, dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Printed as a Python tuple would print it: {@code (3, 224, 224)}, {@code (14,)}, {@code ()}. */
    @Override
    public String toString() {
        if (dims.length == 1) {
            return "(" + dims[0] + ",)";
        }
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            b.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return b.append(')').toString();
    }
}
