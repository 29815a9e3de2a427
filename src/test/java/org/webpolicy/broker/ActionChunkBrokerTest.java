package org.webpolicy.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.webpolicy.broker.ChunkPolicies.chunk;
import static org.webpolicy.broker.ChunkPolicies.first;
import static org.webpolicy.broker.ChunkPolicies.observation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.policy.Policy;

class ActionChunkBrokerTest {

    /** A policy answering with whatever {@code replies} gives for call n, recording observations. */
    static final class Scripted implements Policy {
        final Function<Integer, Map<String, Object>> replies;
        final List<Map<String, Object>> observations = new ArrayList<>();
        final List<Map<String, Object>> resets = new ArrayList<>();
        boolean closed;

        Scripted(Function<Integer, Map<String, Object>> replies) {
            this.replies = replies;
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            observations.add(observation);
            return replies.apply(observations.size() - 1);
        }

        @Override
        public void reset(Map<String, Object> payload) {
            resets.add(payload);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void servesEachStepOfTheChunkThenAsksAgainWithTheCurrentObservation() {
        Scripted policy = new Scripted(n -> chunk(n, 8));
        ActionChunkBroker broker = ActionChunkBroker.builder(policy, 5).build();
        List<Float> firsts = new ArrayList<>();
        for (long t = 0; t < 12; t++) {
            firsts.add(first(broker.step(observation(t))));
        }
        assertEquals(List.of(0f, 1f, 2f, 3f, 4f, 100f, 101f, 102f, 103f, 104f, 200f, 201f), firsts);
        assertEquals(List.of(observation(0), observation(5), observation(10)), policy.observations);
        assertEquals(3, broker.chunksRequested());
    }

    @Test
    void slicesArraysAsViewsAndPassesOtherValuesThrough() {
        Map<String, Object> reply = chunk(0, 4);
        NdArray actions = (NdArray) reply.get("actions");
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> reply), 4).build();
        broker.step(observation(0));
        Map<String, Object> action = broker.step(observation(1));
        NdArray step = (NdArray) action.get("actions");
        assertEquals(Shape.of(2), step.shape());
        assertEquals(actions.slice(1), step);
        assertTrue(step.data().isReadOnly());
        assertSame(reply.get("server_timing"), action.get("server_timing"));
        assertEquals("call 0", action.get("tag"));
        assertEquals(List.of("actions", "server_timing", "tag"), new ArrayList<>(action.keySet()));
    }

    @Test
    void slicesNestedMapsAndLists() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("gripper", NdArray.ofInt32(new int[] {7, 8, 9}, 3));
        inner.put("note", "open");
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("arm", inner);
        reply.put("both", List.of(NdArray.ofFloat64(new double[] {1, 2, 3, 4, 5, 6}, 3, 2), 42L));
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> reply), 3).build();
        broker.step(observation(0));
        broker.step(observation(1));
        Map<String, Object> action = broker.step(observation(2));
        @SuppressWarnings("unchecked")
        Map<String, Object> arm = (Map<String, Object>) action.get("arm");
        assertEquals(9, ((NdArray) arm.get("gripper")).getLong(0));
        assertEquals(0, ((NdArray) arm.get("gripper")).rank());
        assertEquals("open", arm.get("note"));
        List<?> both = (List<?>) action.get("both");
        assertEquals(NdArray.ofFloat64(new double[] {5, 6}), both.get(0));
        assertEquals(42L, both.get(1));
    }

    @Test
    void resetResetsThePolicyAndDropsTheChunk() {
        Scripted policy = new Scripted(n -> chunk(n, 10));
        ActionChunkBroker broker = ActionChunkBroker.builder(policy, 10).build();
        broker.step(observation(0));
        broker.step(observation(1));
        broker.reset(Map.of("prompt", "fold"));
        assertEquals(List.of(Map.of("prompt", "fold")), policy.resets);
        assertEquals(100f, first(broker.step(observation(0))));
        assertEquals(2, policy.observations.size());
    }

    @Test
    void closeClosesTheWrappedPolicy() {
        Scripted policy = new Scripted(n -> chunk(n, 2));
        ActionChunkBroker.builder(policy, 2).build().close();
        assertTrue(policy.closed);
    }

    @Test
    void aChunkShorterThanTheHorizonIsRefusedByName() {
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> chunk(n, 3)), 5).build();
        ActionChunkException e = assertThrows(ActionChunkException.class, () -> broker.step(observation(0)));
        assertTrue(e.getMessage().contains("'actions'"), e.getMessage());
        assertTrue(e.getMessage().contains("3 steps") && e.getMessage().contains("horizon 5"), e.getMessage());
    }

    @Test
    void arraysOfDifferentLengthsAreRefusedNamingBothPaths() {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("actions", NdArray.zeros(org.webpolicy.array.DType.FLOAT32, 10, 14));
        reply.put("a", Map.of("b", NdArray.zeros(org.webpolicy.array.DType.FLOAT32, 8)));
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> reply), 5).build();
        ActionChunkException e = assertThrows(ActionChunkException.class, () -> broker.step(observation(0)));
        assertTrue(e.getMessage().contains("'actions' has 10") && e.getMessage().contains("'a/b' has 8"), e.getMessage());
    }

    @Test
    void aZeroDimensionalArrayIsRefusedByPath() {
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("actions", NdArray.zeros(org.webpolicy.array.DType.FLOAT32, 10, 14));
        reply.put("extra", List.of("x", NdArray.ofFloat32(new float[] {1f}).reshape()));
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> reply), 5).build();
        ActionChunkException e = assertThrows(ActionChunkException.class, () -> broker.step(observation(0)));
        assertTrue(e.getMessage().contains("'extra/1' is 0-d"), e.getMessage());
    }

    @Test
    void aReplyWithoutArraysIsRefused() {
        ActionChunkBroker broker = ActionChunkBroker.builder(new Scripted(n -> Map.of("status", "ok")), 5).build();
        ActionChunkException e = assertThrows(ActionChunkException.class, () -> broker.step(observation(0)));
        assertTrue(e.getMessage().contains("no arrays") && e.getMessage().contains("status"), e.getMessage());
    }

    @Test
    void theHorizonMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> ActionChunkBroker.builder(new Scripted(n -> chunk(n, 1)), 0).build());
    }
}
