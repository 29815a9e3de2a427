/**
 * Not API: the binding to the project's native library (built from {@code native/} by JavaCPP and
 * shipped in the jar under {@code org/webpolicy/internal/nativelib/<platform>/}).
 * {@link org.webpolicy.internal.nativelib.NativeLibrary} loads it once and decides whether it is
 * used; {@link org.webpolicy.internal.nativelib.ImageNative} (image kernels) and
 * {@link org.webpolicy.internal.nativelib.MaskingNative} (WebSocket masking) are the raw JNI bindings and
 * {@link org.webpolicy.internal.nativelib.OpenCvLibrary} loads the optional OpenCV natives.
 *
 * <p>Its types are public only because {@code org.webpolicy.image} and the demo call them from
 * another package. They are left out of the javadoc jar and may change in any release without
 * notice. Use {@link org.webpolicy.image.ImageTools} instead: its
 * {@link org.webpolicy.image.ImageTools#NATIVE_PROPERTY} ({@code -Dwebpolicy.native=auto|on|off})
 * chooses native or Java and {@link org.webpolicy.image.ImageTools#backendDetails()} tells which
 * runs and why.
 */
package org.webpolicy.internal.nativelib;
