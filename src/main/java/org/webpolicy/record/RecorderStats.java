package org.webpolicy.record;

/**
 * What a {@link Recorder} has done so far.
 *
 * @param exchangesRecorded exchanges handed to the file writer
 * @param exchangesDropped exchanges dropped because the writer was behind (queue full), or had failed
 * @param queued entries waiting for the writer now
 * @param bytesWritten bytes in the file so far
 * @param failure why the writer stopped (an I/O error), or null while it runs
 */
public record RecorderStats(long exchangesRecorded, long exchangesDropped, int queued, long bytesWritten, String failure) {
}
