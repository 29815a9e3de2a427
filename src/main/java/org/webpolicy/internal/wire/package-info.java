/**
 * Not API: how the library names values in texts a peer reads, whatever language it speaks:
 * {@link org.webpolicy.internal.wire.WireNames} gives msgpack and numpy names ({@code an int},
 * {@code a float64 ndarray}) instead of Java class names.
 *
 * <p>Public only because several packages of the library word their errors with it; left out of
 * the javadoc jar and may change in any release without notice.
 */
package org.webpolicy.internal.wire;
