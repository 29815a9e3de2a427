package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.BatchPolicy;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.metrics.ServerMetrics;

/**
 * Batching across connections: each action reaches its own robot, mismatches stay apart, and a
 * failure reaches only the robot whose observation fails.
 */
class BatchingTest {

    private final TestResources open = new TestResources();
    private final ExecutorService robots = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        robots.shutdownNow();
        open.close();
    }

    /**
     * Answers each observation's "id" back, records every batch's ids, and refuses a batch whose
     * observations do not share shapes (the server must never make one). Throws for an id of -1,
     * returns one action too few when asked to by an id of -2, and hangs for an id of -3.
     */
    static final class Recording implements BatchPolicy {
        final List<List<Long>> batches = Collections.synchronizedList(new ArrayList<>());
        final List<Map<String, Object>> resets = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            List<Long> ids = new ArrayList<>();
            Object shape = ((NdArray) observations.get(0).get("state")).shape();
            for (Map<String, Object> obs : observations) {
                if (!((NdArray) obs.get("state")).shape().equals(shape)) {
                    throw new AssertionError("observations of different shapes in one batch");
                }
                ids.add((Long) obs.get("id"));
            }
            batches.add(ids);
            if (ids.contains(-1L)) {
                throw new IllegalStateException("the model ran out of memory for this batch");
            }
            if (ids.contains(-3L)) {
                try {
                    Thread.sleep(10_000); // past any deadline the tests set; interrupted when abandoned
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
            }
            List<Map<String, Object>> actions = new ArrayList<>();
            for (Long id : ids) {
                actions.add(Map.of("id", id));
            }
            return ids.contains(-2L) ? actions.subList(1, actions.size()) : actions;
        }

        @Override
        public synchronized void reset(Map<String, Object> payload) {
            resets.add(payload);
        }
    }

    private PolicyServer serve(BatchPolicy policy, int maxBatch, Duration maxWait) {
        return open.serve(PolicyServer.builder(policy).batching(maxBatch, maxWait));
    }

    private PolicyClient client(PolicyServer server) {
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                .connectTimeout(Duration.ofSeconds(10)).build();
        open.add(client);
        return client;
    }

    static Map<String, Object> observation(long id, int stateLength) {
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("id", id);
        obs.put("state", NdArray.ofFloat32(new float[stateLength]));
        obs.put("prompt", "robot " + id);
        return obs;
    }

    private Future<Map<String, Object>> stepAsync(PolicyClient client, Map<String, Object> obs) {
        return robots.submit(() -> client.step(obs));
    }

    @Test
    void fourRobotsShareOneCallAndEachGetsItsOwnAction() throws Exception {
        Recording policy = new Recording();
        // maxWait far beyond the test: only a full batch can start the call.
        PolicyServer server = serve(policy, 4, Duration.ofSeconds(60));
        List<PolicyClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(client(server));
            clients.get(i).connect();
        }
        for (int round = 0; round < 5; round++) {
            List<Future<Map<String, Object>>> replies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                replies.add(stepAsync(clients.get(i), observation(round * 10L + i, 3)));
            }
            for (int i = 0; i < 4; i++) {
                assertEquals(round * 10L + i, replies.get(i).get(30, TimeUnit.SECONDS).get("id"));
            }
        }
        assertEquals(5, policy.batches.size(), "one call per round: " + policy.batches);
        for (List<Long> batch : policy.batches) {
            assertEquals(4, batch.size());
        }
        ServerMetrics metrics = server.metrics();
        assertEquals(5, metrics.batches.sum());
        assertEquals(20, metrics.batchSizes.sum());
    }

    @Test
    void anObservationOfAnotherShapeGoesInABatchOfItsOwn() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = serve(policy, 4, Duration.ofMillis(200));
        List<Future<Map<String, Object>>> replies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            PolicyClient client = client(server);
            client.connect();
            replies.add(stepAsync(client, observation(i, i == 3 ? 5 : 3)));
        }
        for (int i = 0; i < 4; i++) {
            assertEquals((long) i, replies.get(i).get(30, TimeUnit.SECONDS).get("id"));
        }
        boolean oddAlone = policy.batches.stream().anyMatch(b -> b.equals(List.of(3L)));
        assertTrue(oddAlone, "the 5-long state ran alone: " + policy.batches);
    }

    @Test
    void aPolicyFailureFailsOnlyTheObservationThatFailsAndTheOthersGetTheirActions() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = serve(policy, 3, Duration.ofSeconds(60));
        List<Future<Map<String, Object>>> replies = new ArrayList<>();
        for (long id : new long[] {7, -1, 8}) {
            PolicyClient client = client(server);
            client.connect();
            replies.add(stepAsync(client, observation(id, 3)));
        }
        assertEquals(7L, replies.get(0).get(30, TimeUnit.SECONDS).get("id"));
        assertEquals(8L, replies.get(2).get(30, TimeUnit.SECONDS).get("id"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> replies.get(1).get(30, TimeUnit.SECONDS));
        RemotePolicyException remote = (RemotePolicyException) e.getCause();
        assertTrue(remote.serverText().contains("the model ran out of memory for this batch"), remote.serverText());
        assertEquals(1, server.metrics().failures(FailureKind.POLICY));
        // Split in halves down to the observation that fails alone.
        assertEquals(List.of(List.of(7L, -1L, 8L), List.of(7L), List.of(-1L, 8L), List.of(-1L), List.of(8L)),
                policy.batches);
        assertEquals(2, server.metrics().batchSplits.sum());
        // The server carries on: a full batch of good robots is served in one call.
        int before = policy.batches.size();
        List<Future<Map<String, Object>>> good = new ArrayList<>();
        for (long id = 20; id < 23; id++) {
            PolicyClient client = client(server);
            good.add(stepAsync(client, observation(id, 3)));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(20L + i, good.get(i).get(30, TimeUnit.SECONDS).get("id"));
        }
        assertEquals(before + 1, policy.batches.size(), "one call for the good batch: " + policy.batches);
    }

    @Test
    void tooFewActionsFailOnlyTheObservationThatGetsTooFewNamingTheCounts() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = serve(policy, 2, Duration.ofSeconds(60));
        List<Future<Map<String, Object>>> replies = new ArrayList<>();
        for (long id : new long[] {-2, 5}) {
            PolicyClient client = client(server);
            replies.add(stepAsync(client, observation(id, 3)));
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> replies.get(0).get(30, TimeUnit.SECONDS));
        String text = ((RemotePolicyException) e.getCause()).serverText();
        assertTrue(text.contains("returned 0 actions for 1 observations"), text);
        assertEquals(5L, replies.get(1).get(30, TimeUnit.SECONDS).get("id"));
    }

    @Test
    void aBatchPastItsDeadlineFailsEveryMemberWithTheDeadlineAndIsNotCalledAgain() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = open.serve(PolicyServer.builder(policy).batching(2, Duration.ofSeconds(60))
                .policyTimeout(Duration.ofMillis(300)));
        List<Future<Map<String, Object>>> replies = new ArrayList<>();
        for (long id : new long[] {-3, 6}) {
            PolicyClient client = client(server);
            replies.add(stepAsync(client, observation(id, 3)));
        }
        for (Future<Map<String, Object>> reply : replies) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> reply.get(30, TimeUnit.SECONDS));
            String text = ((RemotePolicyException) e.getCause()).serverText();
            assertTrue(text.contains("exceeded its deadline"), text);
        }
        assertEquals(1, policy.batches.size(), "a batch past its deadline is not split: " + policy.batches);
        assertEquals(2, server.metrics().failures(FailureKind.DEADLINE));
    }

    /**
     * Whole server: four robots step with their own sequence numbers while two clients send an
     * observation of the same keys and shapes that makes the policy throw. Only the poisoned
     * requests fail, each with its own reason; every honest reply carries its own number.
     */
    @Test
    void honestRobotsStepThroughPoisonedObservationsInTheirBatches() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = serve(policy, 4, Duration.ofMillis(5));
        AtomicLong poisoned = new AtomicLong();
        AtomicBoolean attacking = new AtomicBoolean(true);
        List<Future<?>> attackers = new ArrayList<>();
        for (int a = 0; a < 2; a++) {
            attackers.add(robots.submit(() -> {
                while (attacking.get()) {
                    PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                            .connectTimeout(Duration.ofSeconds(10)).build();
                    try (client) {
                        client.step(observation(-1, 3));
                        throw new AssertionError("a poisoned observation got an action");
                    } catch (RemotePolicyException e) {
                        assertTrue(e.serverText().contains("the model ran out of memory"), e.serverText());
                        poisoned.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        List<Future<Integer>> honest = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            long base = (r + 1) * 1_000_000L;
            PolicyClient client = client(server);
            honest.add(robots.submit(() -> {
                for (long seq = base; seq < base + 150; seq++) {
                    assertEquals(seq, client.step(observation(seq, 3)).get("id"));
                }
                return 150;
            }));
        }
        for (Future<Integer> robot : honest) {
            assertEquals(150, robot.get(120, TimeUnit.SECONDS));
        }
        attacking.set(false);
        for (Future<?> attacker : attackers) {
            attacker.get(30, TimeUnit.SECONDS);
        }
        boolean mixed = policy.batches.stream().anyMatch(b -> b.contains(-1L) && b.stream().anyMatch(id -> id > 0));
        assertTrue(mixed, "no batch mixed poisoned and honest observations: the test proved nothing");
        assertTrue(poisoned.get() > 0);
        assertEquals(poisoned.get(), server.metrics().failures(FailureKind.POLICY));
    }

    @Test
    void resetsStayPerConnectionAndAreNotBatched() throws Exception {
        Recording policy = new Recording();
        PolicyServer server = serve(policy, 2, Duration.ofMillis(50));
        PolicyClient a = client(server);
        PolicyClient b = client(server);
        a.reset(Map.of("prompt", "fold the towel"));
        b.reset(Map.of("prompt", "open the drawer"));
        assertEquals(List.of(Map.of("prompt", "fold the towel"), Map.of("prompt", "open the drawer")), policy.resets);
        assertTrue(policy.batches.isEmpty(), "a reset called stepBatch: " + policy.batches);
        // A lone robot is served after maxWait, in a batch of one.
        assertEquals(9L, a.step(observation(9, 3)).get("id"));
        assertEquals(List.of(List.of(9L)), policy.batches);
    }

    @Test
    void batchingIsRefusedWhereItCannotWork() {
        IllegalArgumentException notBatch = assertThrows(IllegalArgumentException.class,
                () -> PolicyServer.builder(new TestPolicies.Echo()).batching(4, Duration.ofMillis(5)).build());
        assertTrue(notBatch.getMessage().contains("needs a BatchPolicy"), notBatch.getMessage());
        IllegalArgumentException tooFewWorkers = assertThrows(IllegalArgumentException.class,
                () -> PolicyServer.builder(new Recording()).batching(8, Duration.ofMillis(5)).maxConcurrentRequests(4).build());
        assertTrue(tooFewWorkers.getMessage().contains("must be at least maxBatch"), tooFewWorkers.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PolicyServer.builder(new Recording()).batching(1, Duration.ZERO));
    }
}
