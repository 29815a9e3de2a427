package org.webpolicy.cli;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** An output that writes at most {@code bytesPerSecond}, sleeping in write: a slow disk. */
final class ThrottledOutput extends OutputStream {
    final double bytesPerSecond;
    final AtomicBoolean inWrite = new AtomicBoolean();
    long written;
    private long owedNanos;

    ThrottledOutput(double bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        // Time owed is kept in nanoseconds: small records add up instead of rounding to no wait.
        owedNanos += (long) (len / bytesPerSecond * 1e9);
        written += len;
        if (owedNanos < 1_000_000) {
            return;
        }
        inWrite.set(true);
        try {
            TimeUnit.NANOSECONDS.sleep(owedNanos);
            owedNanos = 0;
        } catch (InterruptedException e) {
            throw new InterruptedIOException();
        } finally {
            inWrite.set(false);
        }
    }
}
