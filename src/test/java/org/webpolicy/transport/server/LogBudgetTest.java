package org.webpolicy.transport.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogBudgetTest {

    @Test
    void allowsTheBudgetPerSecondAndReportsWhatItHeldBack() {
        AtomicLong now = new AtomicLong(5_000);
        LogBudget budget = new LogBudget(3, now::get);
        assertEquals(0, budget.admit());
        assertEquals(0, budget.admit());
        assertEquals(0, budget.admit());
        for (int i = 0; i < 10; i++) {
            assertEquals(-1, budget.admit());
        }
        now.addAndGet(999_999_999);
        assertEquals(-1, budget.admit(), "still the same second");
        now.addAndGet(1);
        assertEquals(11, budget.admit(), "the next second's first line reports the 11 held back");
        assertEquals(0, budget.admit());
    }

    @Test
    void aBudgetBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LogBudget(0, System::nanoTime));
    }
}
