package org.webpolicy.cli;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.webpolicy.demo.AlohaDemo;
import org.webpolicy.transport.ProtocolMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An enum option's valid values, as the user types them: a converter that names them all when a
 * value is not one of them ({@code expected one of echo, random, fail-after, demo but was 'nope'}),
 * and the list the help shows ({@code ${COMPLETION-CANDIDATES}}). Matching ignores case and takes
 * {@code -} and {@code _} alike.
 *
 * @param <E> the enum
 */
abstract class Choices<E extends Enum<E>> implements ITypeConverter<E>, Iterable<String> {

    private final Class<E> type;

    Choices(Class<E> type) {
        this.type = type;
    }

    /** How the user writes a value: the constant's name in lower case, {@code _} kept. */
    String display(E value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public E convert(String text) {
        String wanted = normalize(text);
        for (E value : type.getEnumConstants()) {
            if (normalize(display(value)).equals(wanted)) {
                return value;
            }
        }
        throw new TypeConversionException("expected one of " + String.join(", ", this) + " but was '" + text + "'");
    }

    @Override
    public Iterator<String> iterator() {
        List<String> names = new ArrayList<>();
        for (E value : type.getEnumConstants()) {
            names.add(display(value));
        }
        return names.iterator();
    }

    private static String normalize(String text) {
        return text.strip().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    /** {@code --protocol}: auto, raw, envelope. */
    static final class Protocols extends Choices<ProtocolMode> {
        Protocols() {
            super(ProtocolMode.class);
        }
    }

    /** {@code --env}: aloha, aloha_sim, droid, libero (the Python client's names). */
    static final class Environments extends Choices<Observations> {
        Environments() {
            super(Observations.class);
        }
    }

    /** {@code --policy}: echo, random, fail-after, demo. */
    static final class ServedPolicies extends Choices<ServeCommand.Kind> {
        ServedPolicies() {
            super(ServeCommand.Kind.class);
        }

        @Override
        String display(ServeCommand.Kind value) {
            return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** {@code --broker}: sync, async. */
    static final class Brokers extends Choices<AlohaDemo.BrokerKind> {
        Brokers() {
            super(AlohaDemo.BrokerKind.class);
        }
    }
}
