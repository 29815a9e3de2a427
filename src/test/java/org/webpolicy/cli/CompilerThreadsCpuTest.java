package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CompilerThreadsCpuTest {

    /** A stat line with the given name, utime 1234 and stime 56 (fields 14 and 15). */
    private static String stat(String name) {
        return "4242 (" + name + ") S 1 4242 4242 0 -1 4194368 91 0 0 0 1234 56 0 0 20 0 1 0 123 4096 100 "
                + "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
    }

    @Test
    void aCompilerThreadCountsItsUserAndSystemTicks() {
        assertEquals(1290, CompilerThreadsCpu.compilerTicks(stat("C2 CompilerThre")));
        assertEquals(1290, CompilerThreadsCpu.compilerTicks(stat("C1 CompilerThre")));
    }

    @Test
    void otherThreadsCountNothingEvenWithParenthesesOrSpacesInTheirName() {
        assertEquals(0, CompilerThreadsCpu.compilerTicks(stat("java")));
        assertEquals(0, CompilerThreadsCpu.compilerTicks(stat("GC Thread#0")));
        assertEquals(0, CompilerThreadsCpu.compilerTicks(stat("x) (C2 Compiler")));
        assertEquals(0, CompilerThreadsCpu.compilerTicks("garbage"));
    }

    @Test
    void theProcessReadsItsOwnThreadsWhereProcExists() {
        long nanos = CompilerThreadsCpu.nanos();
        if (Files.isDirectory(Path.of("/proc/self/task"))) {
            assertTrue(nanos >= 0, "a Linux process reads its compiler threads' time: " + nanos);
            assertEquals(0, nanos % 10_000_000L, "whole ticks of 10 ms");
        } else {
            assertEquals(-1, nanos);
        }
    }
}
