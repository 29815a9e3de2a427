package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.PolicyServer;

/**
 * The whole system under a server restart, in real time: our {@link PolicyServer} serving a
 * policy that takes continuations, a {@link PolicyClient} with its default options, and a
 * {@link ChunkScheduler} stepping at 50 Hz. The server is closed and started again on the same
 * port 2 s later. Timing is printed, not asserted (the machine is shared); what is asserted is
 * what must hold on any machine: continuations reach the policy, the robot holds its last action
 * (never a zero), it runs again on new chunks once the server is back, and a grace shorter than
 * the outage ends in one fault that names the unreachable server.
 */
class ChunkSchedulerRestartTest {

    private static final long PERIOD_NANOS = 20_000_000L;
    private static final int CHUNK = 50;

    /** What every server of a test saw, across restarts. */
    private final List<Continuation> continuations = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger plainSteps = new AtomicInteger();
    private final AtomicInteger calls = new AtomicInteger();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /**
     * A 30 ms policy: call {@code n} answers rows {@code [1000 + 100 n + i, 500 + n]}, never a
     * zero, so a made-up action would show.
     */
    private final class ContinuingPolicy implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            plainSteps.incrementAndGet();
            return chunk();
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
            continuations.add(continuation);
            return chunk();
        }

        @Override
        public boolean acceptsContinuation() {
            return true;
        }

        private Map<String, Object> chunk() {
            int n = calls.getAndIncrement();
            LockSupport.parkNanos(30_000_000L);
            float[] values = new float[CHUNK * 2];
            for (int i = 0; i < CHUNK; i++) {
                values[2 * i] = 1000 + 100 * n + i;
                values[2 * i + 1] = 500 + n;
            }
            return Map.of("actions", NdArray.ofFloat32(values, CHUNK, 2));
        }
    }

    private PolicyServer serve(int port) {
        PolicyServer server = PolicyServer.builder(new ContinuingPolicy()).host("127.0.0.1").port(port).build().start();
        open.add(server);
        return server;
    }

    /** Steps at 50 Hz against the wall clock: {@link #tick} waits for the next tick's time. */
    private static final class Pacer {
        private long next = System.nanoTime();

        void tick() {
            next += PERIOD_NANOS;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
        }
    }

    private static float first(Map<String, Object> action) {
        return ((NdArray) action.get("actions")).getFloat(0);
    }

    /** When a restart began (nothing can connect before) and when the server had started. */
    private record Restart(long starting, long started) {
    }

    /** Restarts a closed server on its port after {@code delayMs}. */
    private CompletableFuture<Restart> restartLater(int port, long delayMs) {
        return CompletableFuture.supplyAsync(() -> {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(delayMs));
            long starting = System.nanoTime();
            serve(port);
            return new Restart(starting, System.nanoTime());
        });
    }

    /** Runs 1.5 s against a live server: the continuation negotiated through the scheduler reaches the policy. */
    private Pacer warmUp(ChunkScheduler scheduler, PolicyClient client) {
        Pacer pacer = new Pacer();
        for (int k = 0; k < 75; k++) {
            Map<String, Object> action = scheduler.step(Map.of("state", (double) k));
            assertTrue(first(action) >= 1000, "never a zero or made-up action");
            pacer.tick();
        }
        assertTrue(client.acceptsContinuation(), "the server announced that its policy takes a continuation");
        assertEquals(1, plainSteps.get(), "only the first request, with no plan yet, goes without a continuation");
        assertFalse(continuations.isEmpty(), "continuations reached the policy over the wire");
        long executed = scheduler.stats().actions();
        System.out.printf("restart end to end: %d continuations before the outage, delays %s, cursors %s%n",
                continuations.size(), continuations.stream().map(Continuation::delay).toList(),
                continuations.stream().map(Continuation::cursor).toList());
        for (Continuation c : continuations) {
            assertTrue(c.delay() >= 0 && c.delay() <= CHUNK / 2, "delay " + c.delay() + " within half the chunk");
            assertTrue(c.cursor() >= 0 && c.cursor() <= executed, "cursor " + c.cursor() + " of " + executed + " actions");
            assertEquals((long) CHUNK, c.actions().shape().dim(0), "the continuation is padded to the chunk's length");
            assertTrue(c.actions().getFloat(0) >= 1000, "the continuation is the plan's rows, not zeros");
        }
        return pacer;
    }

    @Test
    void holdsThroughARestartAndRunsOnNewChunksOnceTheServerIsBack() throws Exception {
        PolicyServer server = serve(0);
        int port = server.port();
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port).build();
        ChunkScheduler scheduler = ChunkScheduler.builder(client, 50).grace(Duration.ofSeconds(10)).build();
        open.add(scheduler);
        Pacer pacer = warmUp(scheduler, client);

        server.close();
        long down = System.nanoTime();
        CompletableFuture<Restart> back = restartLater(port, 2000);
        Map<String, Object> held = null;
        boolean holding = false;
        long holdAt = -1;
        long resumedAt = -1;
        long chunkBeforeOutage = scheduler.chunkSequence();
        long refillAfterResume = -1;
        long requestedAtResume = -1;
        for (int k = 0; k < 300 && (resumedAt < 0 || System.nanoTime() - resumedAt < 1_000_000_000L); k++) {
            Map<String, Object> action = scheduler.step(Map.of("state", 0.0));
            assertTrue(first(action) >= 1000, "never a zero or made-up action");
            ChunkScheduler.State state = scheduler.state();
            if (state == ChunkScheduler.State.HOLDING) {
                if (holding) {
                    assertSame(held, action, "a hold repeats the last action");
                } else {
                    holdAt = System.nanoTime();
                }
                holding = true;
                held = action;
            } else if (holding && resumedAt < 0) {
                assertEquals(ChunkScheduler.State.RUNNING, state);
                resumedAt = System.nanoTime();
                refillAfterResume = scheduler.stats().refillAt();
                requestedAtResume = scheduler.stats().chunksRequested();
            }
            pacer.tick();
        }
        Restart restart = back.get(30, TimeUnit.SECONDS);
        long up = restart.started();
        assertTrue(holding, "the robot held while the server was gone");
        assertTrue(resumedAt > 0, "the robot ran again after the server came back");
        assertTrue(resumedAt >= restart.starting(), "resumed only once the server was starting again");
        System.out.printf("restart end to end: plan ran out %d ms after the server closed; "
                + "resumed %d ms after the server was back (held %d ms)%n", (holdAt - down) / 1_000_000,
                (resumedAt - up) / 1_000_000, (resumedAt - holdAt) / 1_000_000);
        assertEquals(ChunkScheduler.State.RUNNING, scheduler.state());
        assertTrue(scheduler.chunkSequence() > chunkBeforeOutage, "new chunks arrived after the restart");
        ChunkSchedulerStats stats = scheduler.stats();
        System.out.println("restart end to end: " + stats);
        // The request that waited out the reconnection measured the outage, not the policy: it
        // must not push the refill point to the whole chunk (a request at every switch). Half
        // the chunk is what the scheduler uses until it has enough warm turnarounds, which a
        // loaded machine may not have given it before the outage.
        assertTrue(refillAfterResume < CHUNK, "refill at " + refillAfterResume + " actions left after the resume");
        assertTrue(stats.chunksRequested() - requestedAtResume <= 4, (stats.chunksRequested() - requestedAtResume)
                + " requests in the 50 actions after the resume: " + stats);
        assertEquals(0, stats.faults());
        assertEquals(0, stats.motion().backwardEvents(), String.valueOf(stats));
        assertEquals(1, client.connectionStats().reconnects(), String.valueOf(client.connectionStats()));
    }

    @Test
    void aGraceShorterThanTheOutageEndsInOneFaultNamingTheUnreachableServer() throws Exception {
        PolicyServer server = serve(0);
        int port = server.port();
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port).build();
        ChunkScheduler scheduler = ChunkScheduler.builder(client, 50).grace(Duration.ofMillis(500)).build();
        open.add(scheduler);
        Pacer pacer = warmUp(scheduler, client);

        server.close();
        CompletableFuture<Restart> back = restartLater(port, 2000);
        ChunkStarvationException fault = null;
        long holdAt = -1;
        long faultAt = -1;
        int thrown = 0;
        for (int k = 0; k < 200; k++) {
            try {
                Map<String, Object> action = scheduler.step(Map.of("state", 0.0));
                assertTrue(first(action) >= 1000, "never a zero or made-up action");
                if (holdAt < 0 && scheduler.state() == ChunkScheduler.State.HOLDING) {
                    holdAt = System.nanoTime();
                }
            } catch (ChunkStarvationException e) {
                if (fault == null) {
                    fault = e;
                    faultAt = System.nanoTime();
                } else {
                    assertSame(fault, e, "the same fault until a reset");
                }
                thrown++;
            }
            pacer.tick();
        }
        back.get(30, TimeUnit.SECONDS);
        assertNotNull(fault, "the robot faulted");
        System.out.printf("restart end to end: faulted %d ms into the hold (grace 500 ms): %s%n",
                (faultAt - holdAt) / 1_000_000, fault.getMessage());
        assertEquals(StarvationCause.SERVER_UNREACHABLE, fault.starvationCause(), fault.getMessage());
        assertNotNull(fault.outageSince());
        assertTrue(fault.getMessage().contains("unreachable since " + fault.outageSince()), fault.getMessage());
        assertInstanceOf(PolicyConnectionException.class, fault.getCause());
        assertEquals(1, scheduler.stats().faults(), "exactly one fault");
        assertTrue(thrown > 1);
        assertEquals(ChunkScheduler.State.FAULTED, scheduler.state());
        assertThrows(ChunkStarvationException.class, () -> scheduler.step(Map.of("state", 0.0)));
    }
}
