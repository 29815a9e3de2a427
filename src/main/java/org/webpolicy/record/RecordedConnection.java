package org.webpolicy.record;

/**
 * A connection read back from a recording.
 *
 * @param id its number in the file
 * @param robot who was on the other side (an address, or the wrapped policy's class)
 * @param handshake the server's {@code X-Webpolicy-*} handshake headers, as recorded (empty when unknown)
 * @param metadata the metadata message the server sent first, byte for byte
 * @param openTimeNs when it opened, ns since the epoch
 */
public record RecordedConnection(long id, String robot, java.util.Map<String, String> handshake, byte[] metadata,
        long openTimeNs) {
}
