/**
 * JMH benchmarks of the codec and the image tools, and the table {@code scripts/bench_image}
 * prints; built only with {@code -Pjmh} into {@code target/benchmarks.jar}, never shipped.
 */
package org.webpolicy.bench;
