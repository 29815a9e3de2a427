package org.webpolicy.cli;

import java.util.Iterator;
import java.util.List;
import org.webpolicy.image.compression.ImageCodec;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --image-codec}: {@code raw}, {@code png}, {@code jpeg} or {@code jpeg:Q} (quality 1-100),
 * parsed by {@link ImageCodec#parse}; a bad value is refused with the forms it may take.
 */
final class ImageCodecs implements ITypeConverter<ImageCodec>, Iterable<String> {

    /** The help's one line on what the option does. */
    static final String DESCRIPTION = "How camera images travel: ${COMPLETION-CANDIDATES} (default: raw). PNG or JPEG"
            + " is offered in the handshake and used only if the server accepts it (a webpolicy-java server);"
            + " other servers get raw arrays.";

    @Override
    public ImageCodec convert(String text) {
        try {
            return ImageCodec.parse(text);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    @Override
    public Iterator<String> iterator() {
        return List.of("raw", "png", "jpeg", "jpeg:Q").iterator();
    }
}
