/**
 * The binding to the project's native library (built from {@code native/} by JavaCPP and shipped
 * in the jar): {@link org.webpolicy.nativelib.NativeLibrary} loads it once and decides whether it
 * is used ({@code -Dwebpolicy.native=auto|on|off}). Callers use {@code org.webpolicy.image}, not
 * this package.
 */
package org.webpolicy.nativelib;
