/**
 * The Python clients' image preprocessing, byte for byte: {@link org.webpolicy.image.ImageTools ImageTools}
 * ({@code convertToUint8}, {@code resizeWithPad} with Pillow's bilinear filter), in C++ where the
 * native library loads and in Java everywhere, with the same output.
 */
package org.webpolicy.image;
