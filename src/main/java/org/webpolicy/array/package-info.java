/**
 * numpy values in Java: {@link org.webpolicy.array.NdArray NdArray} (an immutable array of a
 * {@link org.webpolicy.array.DType DType} and a {@link org.webpolicy.array.Shape Shape} over C-order bytes),
 * {@link org.webpolicy.array.NpScalar NpScalar} (numpy scalars such as {@code np.float32(1.5)}) and
 * {@link org.webpolicy.array.Half Half} (float16 conversions). This is what observations and actions
 * are made of; the package knows nothing of msgpack or sockets.
 */
package org.webpolicy.array;
