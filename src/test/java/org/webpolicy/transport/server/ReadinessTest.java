package org.webpolicy.transport.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What {@code GET /readyz} answers in each phase of a server's life. */
class ReadinessTest {

    @Test
    void notReadyUntilWarmThenReadyUnlessDrainingOrFailed() {
        Readiness r = new Readiness();
        assertEquals(new Readiness.Answer(503, "Service Unavailable: starting\n"), r.answer(false, false));
        r.warming();
        assertEquals(new Readiness.Answer(503, "Service Unavailable: warming up\n"), r.answer(false, false));
        assertFalse(r.isWarm());
        r.warm();
        assertTrue(r.isWarm());
        assertEquals(new Readiness.Answer(200, "OK\n"), r.answer(false, false));
        assertEquals(new Readiness.Answer(503, "Service Unavailable: draining\n"), r.answer(true, false));
        assertEquals(new Readiness.Answer(503, "Service Unavailable: failed\n"), r.answer(true, true));
    }

    @Test
    void aWarmServerNeverGoesBackToWarmingUp() {
        Readiness r = Readiness.warmed();
        r.warming();
        assertEquals(200, r.answer(false, false).status());
    }

    @Test
    void drainingOrFailureIsNotReadyEvenDuringTheWarmUp() {
        Readiness r = new Readiness();
        r.warming();
        assertEquals("Service Unavailable: draining\n", r.answer(true, false).body());
        assertEquals("Service Unavailable: failed\n", r.answer(false, true).body());
    }
}
