package org.webpolicy.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.NpScalar;

/**
 * JSON on the command line, through Jackson: {@code --metadata} read into wire values (objects
 * become ordered maps, arrays lists, integers {@code Long} or, beyond 64 bits, {@code BigInteger},
 * other numbers {@code Double}), and wire values printed back (arrays and numpy scalars as their
 * summary, e.g. {@code "float32 (50, 14)"}). Strict RFC 8259: {@code 01}, {@code 1.}, trailing
 * text and duplicate keys are refused.
 */
final class JsonValues {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .addModule(new SimpleModule("wire-values")
                    .addSerializer(NdArray.class, new SummarySerializer<>(NdArray.class))
                    .addSerializer(NpScalar.class, new SummarySerializer<>(NpScalar.class)))
            .build();

    private JsonValues() {
    }

    /**
     * Reads one JSON value.
     *
     * @throws IllegalArgumentException naming what is wrong and where (line and column)
     */
    static Object parse(String text) {
        try {
            return widenInts(MAPPER.readValue(text, Object.class));
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new IllegalArgumentException("invalid JSON" + where + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Jackson reads a small integer as {@code Integer}; the wire's integers are {@code Long} (the
     * codec decodes them so), and big ones stay {@code BigInteger}.
     */
    @SuppressWarnings("unchecked")
    private static Object widenInts(Object value) {
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof Map<?, ?> map) {
            ((Map<Object, Object>) map).replaceAll((k, v) -> widenInts(v));
        } else if (value instanceof List<?> list) {
            ((List<Object>) list).replaceAll(JsonValues::widenInts);
        }
        return value;
    }

    /** One line of JSON for a wire value (metadata, an action's keys). */
    static String print(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return String.valueOf(value); // a value JSON cannot show is still worth printing
        }
    }

    /** Writes a value as its {@code toString()}: a summary, not its bytes. */
    private static final class SummarySerializer<T> extends StdSerializer<T> {
        SummarySerializer(Class<T> type) {
            super(type);
        }

        @Override
        public void serialize(T value, JsonGenerator out, SerializerProvider provider) throws IOException {
            out.writeString(value.toString());
        }
    }
}
