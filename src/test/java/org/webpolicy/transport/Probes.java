package org.webpolicy.transport;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.webpolicy.array.NdArray;

/** What the resource tests measure about this JVM, and how they wait for it to settle. */
final class Probes {

    private Probes() {
    }

    /** Bytes allocated on the heap so far by all live threads (a lower bound: dead threads drop out). */
    static long allocatedBytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return Arrays.stream(threads.getThreadAllocatedBytes(threads.getAllThreadIds())).filter(b -> b > 0).sum();
    }

    /** Bytes allocated so far by the calling thread. */
    static long allocatedByThisThread() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return threads.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    static int liveThreads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** Open file descriptors of this process (sockets, selectors, pipes, jars). */
    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        if (fds == null) {
            throw new IllegalStateException("/proc/self/fd is not readable: the resource tests need Linux");
        }
        return fds.length;
    }

    /** Resident set size in KiB, from /proc/self/status. */
    static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /**
     * Memory the JVM has committed outside the Java heap (code, metaspace, threads, direct
     * buffers, GC structures, its own mallocs), in KiB, from native memory tracking (the test JVM
     * runs with {@code -XX:NativeMemoryTracking=summary}).
     */
    static long committedOutsideHeapKiB() {
        String summary;
        try {
            summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("native memory tracking is not readable: " + e, e);
        }
        long total = committedKiB(summary, "Total:");
        long heap = committedKiB(summary, "Java Heap (");
        if (total < 0 || heap < 0) {
            throw new IllegalStateException("no native memory summary (run the JVM with -XX:NativeMemoryTracking=summary): "
                    + summary.lines().findFirst().orElse(""));
        }
        return total - heap;
    }

    private static long committedKiB(String summary, String label) {
        for (String line : summary.split("\n")) {
            int at = line.indexOf(label);
            if (at >= 0) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("committed=(\\d+)KB").matcher(line.substring(at));
                if (m.find()) {
                    return Long.parseLong(m.group(1));
                }
            }
        }
        return -1;
    }

    /** Heap in use after full collections, the least of a few tries. */
    static long usedHeapAfterGc() {
        long least = Long.MAX_VALUE;
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(least, rt.totalMemory() - rt.freeMemory());
        }
        return least;
    }

    /** Waits until {@code condition} holds, checking every 20 ms; false if it did not within {@code timeout}. */
    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** A fresh client steps an echo server and gets its own observation back, over TLS if it serves TLS. */
    static void assertServes(PolicyServer server) {
        try (PolicyClient client = Wire.of(server).client(server.port())
                .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(20)).build()) {
            float tag = (float) Math.random();
            Map<String, Object> action = client.step(TestPolicies.observation(tag));
            Map<?, ?> echo = (Map<?, ?>) action.get("echo");
            if (echo == null || ((NdArray) echo.get("state")).getFloat(0) != tag) {
                throw new AssertionError("the server did not echo a good client's observation: " + action);
            }
        }
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
