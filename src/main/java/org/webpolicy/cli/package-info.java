/**
 * The {@code webpolicy} command line X * {@code demo}), shipped as its own runnable jar ({@code webpolicy-java-<version>-cli.jar}) and
 * not in the library jar. {@link org.webpolicy.cli.Main} is its entry point; everything else is
 * package-private.
 */
package org.webpolicy.cli;
