/**
 * Camera images compressed on the wire:
 * {@link org.webpolicy.image.compression.ImageCompression ImageCompression}
 * replaces the uint8 images of an observation with PNG (lossless) or JPEG bytes and back, with
 * bounded decoding; {@link org.webpolicy.image.compression.ImageCodecNegotiation ImageCodecNegotiation}
 * names the
 * handshake header by which a client offers a codec and a server accepts it. JPEG goes through
 * libjpeg-turbo in the native library when it has it, PNG (and JPEG otherwise) through
 * {@code javax.imageio}: no OpenCV.
 */
package org.webpolicy.image.compression;
