/** The server's counters and latency histograms, as {@code /metrics} prints them. */
package org.webpolicy.transport.metrics;
