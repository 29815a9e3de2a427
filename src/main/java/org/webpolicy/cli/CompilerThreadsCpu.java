package org.webpolicy.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time this process has spent in the JIT compiler's threads, for benchmarks that charge a
 * phase with the process's CPU: compilation is a one-off that lands in whichever phase runs while
 * the compiler catches up, not a cost per step, and the JVM hides its compiler threads from
 * {@code ThreadMXBean}. Read from {@code /proc/self/task/<tid>/stat} (Linux), whose times are in
 * USER_HZ ticks, fixed at 100 per second in Linux's user ABI: a 10 ms resolution.
 */
final class CompilerThreadsCpu {

    private static final Path TASKS = Path.of("/proc/self/task");
    private static final long NANOS_PER_TICK = 10_000_000L;

    private CompilerThreadsCpu() {
    }

    /**
     * The compiler threads' user and system time so far, or -1 where {@code /proc} cannot tell
     * (not Linux): a caller then reports the whole process's CPU alone.
     *
     * @return nanoseconds, or -1
     */
    static long nanos() {
        if (!Files.isDirectory(TASKS)) {
            return -1;
        }
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                ticks += compilerTicks(stat);
            }
        } catch (IOException e) {
            return -1;
        }
        return ticks * NANOS_PER_TICK;
    }

    /**
     * A thread's user plus system ticks when its name is a JIT compiler thread's ("C1
     * CompilerThread0", "C2 CompilerThread1", cut to 15 characters by the kernel), else 0.
     *
     * @param stat the thread's whole {@code stat} line
     * @return ticks
     */
    static long compilerTicks(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')'); // a name may hold ')' itself: the last one ends it
        if (open < 0 || close < open) {
            return 0;
        }
        String name = stat.substring(open + 1, close);
        if (!name.matches("C[12] CompilerThre.*")) {
            return 0;
        }
        // After the name: state is field 3, utime field 14, stime field 15 (proc(5)).
        String[] fields = stat.substring(close + 2).trim().split(" +");
        if (fields.length < 13) {
            return 0;
        }
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
