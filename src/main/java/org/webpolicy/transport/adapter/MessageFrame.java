package org.webpolicy.transport.adapter;

import org.java_websocket.framing.BinaryFrame;
import org.webpolicy.transport.frame.EncodedMessage;

/**
 * A reply in the codec's segments, carried through the library's send path to
 * {@link WireDraft#createBinaryFrame}, which writes the segments straight into the frame.
 */
final class MessageFrame extends BinaryFrame {

    private final EncodedMessage message;

    MessageFrame(EncodedMessage message) {
        this.message = message;
    }

    EncodedMessage message() {
        return message;
    }
}
