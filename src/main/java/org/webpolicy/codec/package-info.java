/**
 * The wire encoding: {@link org.webpolicy.codec.MsgpackCodec MsgpackCodec} turns maps of wire values into the
 * bytes Python's {@code msgpack_numpy} produces and back, arrays by reference in both directions.
 * Each malformed input is a {@link org.webpolicy.codec.DecodeException DecodeException} naming its
 * problem; each
 * value that cannot be sent an {@link org.webpolicy.codec.EncodeException EncodeException} naming its path.
 */
package org.webpolicy.codec;
