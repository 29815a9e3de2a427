package org.webpolicy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void printsAtMostOneLineASecondAndNothingForAShortRun() {
        AtomicLong now = new AtomicLong(5 * SECOND);
        StringWriter text = new StringWriter();
        Progress progress = new Progress("client", 400, new PrintWriter(text, true), false, now::get);
        for (int done = 1; done <= 400; done++) {
            now.addAndGet(SECOND / 100); // 10 ms a step: 4 s in all
            progress.update(done);
        }
        progress.finish();
        assertEquals(String.join(System.lineSeparator(),
                "client: 100/400 steps (25%), 1.0 s, about 3.0 s left",
                "client: 200/400 steps (50%), 2.0 s, about 2.0 s left",
                "client: 300/400 steps (75%), 3.0 s, about 1.0 s left",
                "client: 400/400 steps (100%), 4.0 s", ""), text.toString());

        StringWriter quiet = new StringWriter();
        Progress shortRun = new Progress("demo", 10, new PrintWriter(quiet, true), false, now::get);
        for (int done = 1; done <= 10; done++) {
            now.addAndGet(SECOND / 100);
            shortRun.update(done);
        }
        shortRun.finish();
        assertEquals("", quiet.toString());
    }

    @Test
    void theTimeLeftComesFromTheRateSinceTheFirstStepNotFromASlowStart() {
        AtomicLong now = new AtomicLong();
        StringWriter text = new StringWriter();
        Progress progress = new Progress("demo", 300, new PrintWriter(text, true), false, now::get);
        now.set(SECOND); // the first step took a second (connecting, loading)
        progress.update(1);
        now.set(2 * SECOND);
        progress.update(101); // then 100 steps a second
        assertEquals(String.join(System.lineSeparator(), "demo: 1/300 steps (0%), 1.0 s",
                "demo: 101/300 steps (33%), 2.0 s, about 2.0 s left", ""), text.toString());
    }

    @Test
    void onATerminalOneLineIsRewrittenAndEndedAtTheFinish() {
        AtomicLong now = new AtomicLong();
        StringWriter text = new StringWriter();
        Progress progress = new Progress("demo", 3, new PrintWriter(text, true), true, now::get);
        now.set(SECOND);
        progress.update(1);
        now.set(3 * SECOND);
        progress.update(3);
        progress.finish();
        assertEquals("\rdemo: 1/3 steps (33%), 1.0 s\u001b[K\rdemo: 3/3 steps (100%), 3.0 s\u001b[K"
                + System.lineSeparator(), text.toString());
    }
}
