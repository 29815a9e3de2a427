/**
 * Recording of exchanges between robots and policies into MCAP files, off the caller's thread:
 * {@link org.webpolicy.record.Recorder} (a bounded queue and a writer thread; drops are counted,
 * never waited for), {@link org.webpolicy.record.RecordingPolicy} around any policy, a server's
 * tap ({@link org.webpolicy.record.Recorder#serverTap()}), and
 * {@link org.webpolicy.record.RecordingReader}, which reads a recording back as exchanges. The
 * channels are listed in {@link org.webpolicy.record.Topics}; docs/RECORDING.md has the layout.
 */
package org.webpolicy.record;
