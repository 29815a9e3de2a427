package org.webpolicy.codec;

/**
 * Where decoding charges the memory of the value it builds, as it builds it: a server hands one
 * over so that what a message becomes (maps, lists, strings; not array data, which views the
 * message) is paid for from the same budget as the message's bytes, before it is allocated. See
 * {@link MsgpackCodec#unpack(java.nio.ByteBuffer, DecodeMemory)}.
 *
 * <p>Called on the decoding thread only, in steps of at least {@link MsgpackCodec#CHARGE_STEP}
 * bytes (fewer only at the per-message limit). Whatever was charged stays charged when decoding
 * fails: the implementation keeps the count and gives it back when the value is no longer held.
 */
@FunctionalInterface
public interface DecodeMemory {

    /**
     * Takes {@code bytes} more for the value being decoded.
     *
     * @param bytes how many more bytes, positive
     * @throws RuntimeException of the implementation's choice when they cannot be had now: decoding
     *     stops there, before the container or string that needed them is allocated, and the
     *     exception passes through {@code unpack} unchanged
     */
    void charge(long bytes);
}
