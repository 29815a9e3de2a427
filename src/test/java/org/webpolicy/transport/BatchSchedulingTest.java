package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.policy.BatchPolicy;

/**
 * When batches are sealed and in which order they run: batches fill although the policy takes
 * longer than {@code maxWait}, one client's odd shapes do not hold up full batches of others, and
 * a thread-safe policy runs batches of different keys at once. Batch composition is asserted with
 * a policy the test holds and releases, never with timings.
 */
class BatchSchedulingTest {

    private final TestResources open = new TestResources();
    private final ExecutorService robots = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        robots.shutdownNow();
        open.close();
    }

    /** Records each batch's ids; a batch holding {@code gateId} waits in the policy until released. */
    static final class Gated implements BatchPolicy {
        final List<List<Long>> batches = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final long gateId;
        private final boolean threadSafe;

        Gated(long gateId, boolean threadSafe) {
            this.gateId = gateId;
            this.threadSafe = threadSafe;
        }

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            List<Long> ids = new ArrayList<>();
            List<Map<String, Object>> actions = new ArrayList<>();
            for (Map<String, Object> obs : observations) {
                ids.add((Long) obs.get("id"));
                actions.add(Map.of("id", obs.get("id")));
            }
            batches.add(ids);
            if (ids.contains(gateId)) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
            }
            return actions;
        }

        @Override
        public boolean isThreadSafe() {
            return threadSafe;
        }
    }

    private PolicyClient client(PolicyServer server) {
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(15)).build();
        open.add(client);
        client.connect();
        return client;
    }

    /**
     * Issue 22's lock-in: a serialized policy slower than {@code maxWait}. Three robots' batch
     * runs while the fourth arrives; the fourth must not then run alone (its wait ran while the
     * policy was busy) but with the three, whose next steps come right after their replies.
     */
    @Test
    void aRobotArrivingWhileThePolicyIsBusyJoinsTheNextFullBatch() throws Exception {
        Gated policy = new Gated(0, false);
        PolicyServer server = open.serve(PolicyServer.builder(policy).batching(4, Duration.ofMillis(1000)));
        List<PolicyClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(client(server));
        }
        List<Future<Long>> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PolicyClient c = clients.get(i);
            long id = i;
            three.add(robots.submit(() -> {
                assertEquals(id, c.step(BatchingTest.observation(id, 3)).get("id"));
                return (Long) c.step(BatchingTest.observation(10 + id, 3)).get("id");
            }));
        }
        assertTrue(policy.entered.await(30, TimeUnit.SECONDS), "the first batch never ran");
        Future<Map<String, Object>> fourth = robots.submit(() -> clients.get(3).step(BatchingTest.observation(3, 3)));
        // Longer than maxWait: a wait timer running during the call would have expired by now.
        Thread.sleep(1500);
        policy.release.countDown();
        assertEquals(3L, fourth.get(30, TimeUnit.SECONDS).get("id"));
        for (int i = 0; i < 3; i++) {
            assertEquals(10L + i, three.get(i).get(30, TimeUnit.SECONDS));
        }
        assertEquals(2, policy.batches.size(), "two calls: " + policy.batches);
        assertEquals(List.of(0L, 1L, 2L), sorted(policy.batches.get(0)));
        assertEquals(List.of(3L, 10L, 11L, 12L), sorted(policy.batches.get(1)), "the fourth ran alone: " + policy.batches);
    }

    private static List<Long> sorted(List<Long> ids) {
        List<Long> copy = new ArrayList<>(ids);
        Collections.sort(copy);
        return copy;
    }

    /**
     * Issue 19's starvation: observations of shapes of their own wait out a long {@code maxWait};
     * full batches of honest robots run meanwhile, each full, and are not held behind them.
     */
    @Test
    void oddShapesWaitingOutTheirTimeDoNotHoldUpFullBatches() throws Exception {
        Gated policy = new Gated(Long.MIN_VALUE, false);
        PolicyServer server = open.serve(PolicyServer.builder(policy).batching(4, Duration.ofSeconds(60))
                .shutdownGrace(Duration.ofMillis(100)));
        List<Future<Map<String, Object>>> odd = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            PolicyClient c = client(server);
            long id = -100 - i;
            int length = 10 + i;
            odd.add(robots.submit(() -> c.step(BatchingTest.observation(id, length))));
        }
        List<PolicyClient> honest = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            honest.add(client(server));
        }
        for (int round = 0; round < 20; round++) {
            List<Future<Map<String, Object>>> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                PolicyClient c = honest.get(i);
                long id = round * 10L + i + 1;
                replies.add(robots.submit(() -> c.step(BatchingTest.observation(id, 3))));
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(round * 10L + i + 1, replies.get(i).get(30, TimeUnit.SECONDS).get("id"));
            }
        }
        List<List<Long>> honestBatches = new ArrayList<>();
        synchronized (policy.batches) {
            for (List<Long> b : policy.batches) {
                if (b.get(0) > 0) {
                    honestBatches.add(b);
                }
            }
        }
        assertEquals(20, honestBatches.size(), "one full call per round: " + honestBatches);
        for (Future<Map<String, Object>> f : odd) {
            assertFalse(f.isDone(), "an odd shape ran before its maxWait");
        }
    }

    /** A thread-safe policy: a batch of one key still running does not hold up a batch of another. */
    @Test
    void aThreadSafePolicyRunsBatchesOfDifferentKeysAtOnce() throws Exception {
        Gated policy = new Gated(1, true);
        PolicyServer server = open.serve(PolicyServer.builder(policy).batching(2, Duration.ofMillis(20)));
        PolicyClient a = client(server);
        PolicyClient b = client(server);
        Future<Map<String, Object>> held = robots.submit(() -> a.step(BatchingTest.observation(1, 3)));
        assertTrue(policy.entered.await(30, TimeUnit.SECONDS), "the first batch never ran");
        // The held call has not returned; a batch of another shape runs and is answered meanwhile.
        assertEquals(2L, b.step(BatchingTest.observation(2, 5)).get("id"));
        assertFalse(held.isDone());
        policy.release.countDown();
        assertEquals(1L, held.get(30, TimeUnit.SECONDS).get("id"));
    }
}
