package org.webpolicy.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.webpolicy.codec.MsgpackCodec;

/** Writes each step's bytes with one plain write on a thread of its own: the floor of any recording. */
final class FloorWriter {
    private static final int BLOCK = 4096;
    final BlockingQueue<Integer> steps = new ArrayBlockingQueue<>(4096);
    private final List<ByteBuffer> bytes = new ArrayList<>();
    private final FileChannel channel;
    private final Thread thread;
    private volatile boolean done;
    private volatile long cpuNanos;
    private volatile Exception failure;

    FloorWriter(RecordingBench.Floor floor, List<Map<String, Object>> observations, Path file) throws IOException {
        MsgpackCodec codec = new MsgpackCodec();
        for (Map<String, Object> o : observations) {
            byte[] b = codec.pack(o);
            ByteBuffer d = floor == RecordingBench.Floor.O_DIRECT
                    ? ByteBuffer.allocateDirect((b.length + BLOCK - 1) / BLOCK * BLOCK + BLOCK).alignedSlice(BLOCK)
                    : ByteBuffer.allocateDirect(b.length);
            d.put(b);
            if (floor == RecordingBench.Floor.O_DIRECT) {
                d.position((b.length + BLOCK - 1) / BLOCK * BLOCK); // O_DIRECT writes whole blocks
            }
            bytes.add(d.flip());
        }
        Files.deleteIfExists(file);
        channel = floor == RecordingBench.Floor.O_DIRECT
                ? FileChannel.open(file, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, directOption())
                : FileChannel.open(file, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE);
        thread = new Thread(this::run, "floor-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, looked up: the library's module does not read jdk.unsupported. */
    private static OpenOption directOption() throws IOException {
        try {
            return (OpenOption) Class.forName("com.sun.nio.file.ExtendedOpenOption").getField("DIRECT").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IOException("this JDK has no O_DIRECT open option", e);
        }
    }

    private void run() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try {
            while (!done || !steps.isEmpty()) {
                Integer i = steps.poll(20, TimeUnit.MILLISECONDS);
                if (i != null) {
                    ByteBuffer b = bytes.get(i).duplicate();
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                }
                cpuNanos = mx.getCurrentThreadCpuTime();
            }
        } catch (Exception e) {
            failure = e;
        }
    }

    /** Waits for the queued writes; the thread's CPU time. */
    long finish() throws Exception {
        done = true;
        thread.join();
        channel.close();
        if (failure != null) {
            throw failure;
        }
        return cpuNanos;
    }
}
