package org.webpolicy.record;

/**
 * The channels of a recording. Messages of one exchange share its sequence number (unique in the
 * file): its request, its reply (absent when it failed) and the exchange record that says which
 * connection it was on, its timing and its outcome.
 */
public final class Topics {

    /** The request as it went on the wire: msgpack, byte for byte. */
    public static final String REQUEST = "/webpolicy/request";
    /** The reply as it went on the wire: msgpack, byte for byte. */
    public static final String REPLY = "/webpolicy/reply";
    /** Per exchange, JSON: connection, index on it, form, op, sizes, times, server timing, failure. */
    public static final String EXCHANGE = "/webpolicy/exchange";
    /** Per connection, the metadata message the server sent first: msgpack, byte for byte; sequence = connection. */
    public static final String METADATA = "/webpolicy/metadata";
    /** Connections opened and closed, records dropped: JSON. */
    public static final String EVENT = "/webpolicy/event";
    /** Camera images as foxglove.CompressedImage (JSON), one channel per image key: {@code /camera/<key path>}. */
    public static final String CAMERA_PREFIX = "/camera/";

    /** The profile-free message encoding we give our msgpack channels. */
    public static final String MSGPACK = "msgpack";

    private Topics() {
    }
}
