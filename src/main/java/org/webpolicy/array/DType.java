package org.webpolicy.array;

import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A numpy data type, as numpy spells it in {@code dtype.str}: a byte-order character, a kind
 * character and an item size, e.g. {@code <f4}, {@code |u1}, {@code >i8}, {@code <U4},
 * {@code |S3}, {@code <M8[ns]}.
 *
 * <p>Immutable. {@link #parse(String)} accepts everything {@link #str()} prints, plus {@code =}
 * (native order), a missing order character and the common numpy names ({@code float32},
 * {@code uint8}, {@code bool}, ...), because Python senders may put any of them on the wire.
 * Kinds numpy has but the wire format refuses ({@code V} void/structured, {@code O} object,
 * {@code c} complex) are rejected with an error naming the dtype.
 */
public final class DType {

    /** The kinds of data this library carries; the character is numpy's {@code dtype.kind}. */
    public enum Kind {
        /** {@code b}: booleans, one byte each. */
        BOOL('b'),
        /** {@code i}: signed integers. */
        INT('i'),
        /** {@code u}: unsigned integers. */
        UINT('u'),
        /** {@code f}: IEEE floating point numbers. */
        FLOAT('f'),
        /** {@code U}: fixed-length UTF-32 strings. */
        UNICODE('U'),
        /** {@code S}: fixed-length byte strings. */
        BYTES('S'),
        /** {@code M}: datetime64, with a unit. */
        DATETIME('M'),
        /** {@code m}: timedelta64, with a unit. */
        TIMEDELTA('m');

        private final char code;

        Kind(char code) {
            this.code = code;
        }

        /** @return numpy's {@code dtype.kind} character, e.g. {@code 'f'} */
        public char code() {
            return code;
        }

        static Kind of(char code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    /** {@code |b1}: numpy's {@code bool}. */
    public static final DType BOOL = new DType(Kind.BOOL, '|', 1, "");
    /** {@code |i1}: {@code int8}. */
    public static final DType INT8 = new DType(Kind.INT, '|', 1, "");
    /** {@code <i2}: {@code int16}. */
    public static final DType INT16 = new DType(Kind.INT, '<', 2, "");
    /** {@code <i4}: {@code int32}. */
    public static final DType INT32 = new DType(Kind.INT, '<', 4, "");
    /** {@code <i8}: {@code int64}. */
    public static final DType INT64 = new DType(Kind.INT, '<', 8, "");
    /** {@code |u1}: {@code uint8}, the dtype of camera images. */
    public static final DType UINT8 = new DType(Kind.UINT, '|', 1, "");
    /** {@code <u2}: {@code uint16}. */
    public static final DType UINT16 = new DType(Kind.UINT, '<', 2, "");
    /** {@code <u4}: {@code uint32}. */
    public static final DType UINT32 = new DType(Kind.UINT, '<', 4, "");
    /** {@code <u8}: {@code uint64}. */
    public static final DType UINT64 = new DType(Kind.UINT, '<', 8, "");
    /** {@code <f2}: {@code float16}. */
    public static final DType FLOAT16 = new DType(Kind.FLOAT, '<', 2, "");
    /** {@code <f4}: {@code float32}. */
    public static final DType FLOAT32 = new DType(Kind.FLOAT, '<', 4, "");
    /** {@code <f8}: {@code float64}. */
    public static final DType FLOAT64 = new DType(Kind.FLOAT, '<', 8, "");

    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("bool", "b1"), Map.entry("bool_", "b1"), Map.entry("?", "b1"),
            Map.entry("int8", "i1"), Map.entry("int16", "i2"), Map.entry("int32", "i4"), Map.entry("int64", "i8"),
            Map.entry("byte", "i1"), Map.entry("short", "i2"), Map.entry("intc", "i4"), Map.entry("int_", "i8"),
            Map.entry("longlong", "i8"),
            Map.entry("uint8", "u1"), Map.entry("uint16", "u2"), Map.entry("uint32", "u4"), Map.entry("uint64", "u8"),
            Map.entry("ubyte", "u1"), Map.entry("ushort", "u2"), Map.entry("uintc", "u4"), Map.entry("uint", "u8"),
            Map.entry("ulonglong", "u8"),
            Map.entry("float16", "f2"), Map.entry("float32", "f4"), Map.entry("float64", "f8"),
            Map.entry("half", "f2"), Map.entry("single", "f4"), Map.entry("double", "f8"), Map.entry("float", "f8"),
            Map.entry("float_", "f8"),
            Map.entry("b", "i1"), Map.entry("B", "u1"), Map.entry("h", "i2"), Map.entry("H", "u2"),
            Map.entry("i", "i4"), Map.entry("I", "u4"), Map.entry("l", "i8"), Map.entry("L", "u8"),
            Map.entry("q", "i8"), Map.entry("Q", "u8"), Map.entry("e", "f2"), Map.entry("f", "f4"),
            Map.entry("d", "f8"));

    private static final char NATIVE_ORDER = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? '<' : '>';

    private final Kind kind;
    /** {@code '<'}, {@code '>'} or {@code '|'} (byte order not applicable). */
    private final char order;
    private final int itemSize;
    /** The datetime unit with its brackets ({@code "[ns]"}), or empty. */
    private final String unit;
    private final String str;

    private DType(Kind kind, char order, int itemSize, String unit) {
        this.kind = kind;
        this.order = order;
        this.itemSize = itemSize;
        this.unit = unit;
        int count = kind == Kind.UNICODE ? itemSize / 4 : itemSize;
        this.str = "" + order + kind.code + count + unit;
    }

    /**
     * Parses a numpy dtype string ({@code dtype.str}, a type code without order, or a numpy
     * type name).
     *
     * @param text for example {@code <f4}, {@code f4}, {@code float32}, {@code |u1}, {@code <M8[ns]}
     * @return the dtype, its byte order normalized as numpy's {@code dtype.str} has it
     * @throws IllegalArgumentException naming the string when it is malformed or of a kind the
     *     wire format does not carry
     */
    public static DType parse(String text) {
        Objects.requireNonNull(text, "dtype");
        String s = text.strip();
        String named = NAMES.get(s);
        if (named != null) {
            s = named;
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("Malformed dtype '" + text + "': empty");
        }
        char order = '=';
        char first = s.charAt(0);
        if (first == '<' || first == '>' || first == '|' || first == '=') {
            order = first;
            s = s.substring(1);
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("Malformed dtype '" + text + "': no type code");
        }
        char code = s.charAt(0);
        if (code == 'V' || code == 'O' || code == 'c') {
            throw new IllegalArgumentException("Unsupported dtype: " + text
                    + " (kind '" + code + "': void, object and complex arrays cannot be sent)");
        }
        Kind kind = Kind.of(code);
        if (kind == null) {
            throw new IllegalArgumentException("Malformed dtype '" + text + "': unknown type code '" + code + "'");
        }
        String rest = s.substring(1);
        String unit = "";
        if (kind == Kind.DATETIME || kind == Kind.TIMEDELTA) {
            int bracket = rest.indexOf('[');
            if (bracket >= 0) {
                unit = rest.substring(bracket);
                rest = rest.substring(0, bracket);
                if (!isValidUnit(unit)) {
                    throw new IllegalArgumentException("Malformed dtype '" + text + "': unknown time unit " + unit);
                }
            }
        }
        int count;
        if (rest.isEmpty()) {
            if (kind == Kind.UNICODE || kind == Kind.BYTES) {
                count = 0;
            } else if (kind == Kind.BOOL) {
                count = 1;
            } else {
                throw new IllegalArgumentException("Malformed dtype '" + text + "': no item size");
            }
        } else {
            if (rest.length() > 9 || !rest.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("Malformed dtype '" + text + "': bad item size '" + rest + "'");
            }
            count = Integer.parseInt(rest);
        }
        int itemSize = switch (kind) {
            case BOOL -> require(text, count, count == 1);
            case INT, UINT -> require(text, count, count == 1 || count == 2 || count == 4 || count == 8);
            case FLOAT -> {
                if (count == 16 || count == 12) {
                    throw new IllegalArgumentException("Unsupported dtype: " + text
                            + " (long double is platform-specific and cannot be sent)");
                }
                yield require(text, count, count == 2 || count == 4 || count == 8);
            }
            case DATETIME, TIMEDELTA -> require(text, count, count == 8);
            case UNICODE -> {
                if (count > Integer.MAX_VALUE / 4) {
                    throw new IllegalArgumentException("Malformed dtype '" + text + "': item size too large");
                }
                yield count * 4;
            }
            case BYTES -> count;
        };
        return new DType(kind, normalizeOrder(kind, itemSize, order), itemSize, unit);
    }

    private static int require(String text, int size, boolean ok) {
        if (!ok) {
            throw new IllegalArgumentException("Malformed dtype '" + text + "': item size " + size
                    + " is not valid for this kind");
        }
        return size;
    }

    private static boolean isValidUnit(String unit) {
        return switch (unit) {
            case "[Y]", "[M]", "[W]", "[D]", "[h]", "[m]", "[s]", "[ms]", "[us]", "[ns]", "[ps]", "[fs]", "[as]",
                    "[generic]" -> true;
            default -> false;
        };
    }

    /** numpy prints {@code |} for single-byte items and byte strings, and resolves {@code =}. */
    private static char normalizeOrder(Kind kind, int itemSize, char order) {
        if (kind == Kind.BYTES || kind == Kind.BOOL || (itemSize == 1 && kind != Kind.UNICODE)) {
            return '|';
        }
        if (order == '=' || order == '|') {
            return NATIVE_ORDER;
        }
        return order;
    }

    /**
     * numpy's {@code dtype.str}.
     *
     * @return for example {@code <f4}
     */
    public String str() {
        return str;
    }

    /**
     * The kind of data.
     *
     * @return the kind, as numpy's {@code dtype.kind}
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Bytes per element ({@code dtype.itemsize}); for {@code U<n>} that is {@code 4 * n}.
     *
     * @return the size of one element in bytes
     */
    public int itemSize() {
        return itemSize;
    }

    /**
     * The byte order of the elements; little-endian where it does not apply.
     *
     * @return {@link ByteOrder#BIG_ENDIAN} for {@code >} dtypes, little-endian otherwise
     */
    public ByteOrder byteOrder() {
        return order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    /**
     * The datetime/timedelta unit with brackets ({@code "[ns]"}), or empty.
     *
     * @return the unit, or {@code ""} for the other kinds
     */
    public String unit() {
        return unit;
    }

    /**
     * Whether the elements are floating point numbers.
     *
     * @return true for float16, float32 and float64 in either byte order
     */
    public boolean isFloating() {
        return kind == Kind.FLOAT;
    }

    /**
     * True for the kinds whose elements read as numbers: bool, signed and unsigned ints, floats.
     *
     * @return whether the elements are numbers
     */
    public boolean isNumeric() {
        return kind == Kind.BOOL || kind == Kind.INT || kind == Kind.UINT || kind == Kind.FLOAT;
    }

    /**
     * The same type in the given byte order (unchanged where order does not apply).
     *
     * @param byteOrder the order wanted
     * @return this dtype when it already has that order (or none applies), else the reordered one
     */
    public DType withByteOrder(ByteOrder byteOrder) {
        char o = byteOrder == ByteOrder.BIG_ENDIAN ? '>' : '<';
        char normalized = normalizeOrder(kind, itemSize, o);
        return normalized == order ? this : new DType(kind, normalized, itemSize, unit);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DType d && d.str.equals(str);
    }

    @Override
    public int hashCode() {
        return str.hashCode();
    }

    @Override
    public String toString() {
        return str;
    }

    /**
     * Lower-case numpy name for messages, e.g. {@code float32}; falls back to {@link #str()}.
     *
     * @return the name
     */
    public String name() {
        return switch (kind) {
            case BOOL -> "bool";
            case INT -> "int" + itemSize * 8;
            case UINT -> "uint" + itemSize * 8;
            case FLOAT -> "float" + itemSize * 8;
            default -> str.toLowerCase(Locale.ROOT);
        };
    }
}
