package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * A server that reuses its request buffers ({@link PolicyServerBuilder#reuseMessageBuffers}): a
 * policy that copies what it keeps keeps correct data, replies that are views of the request are
 * sent intact, an exchange tap keeps its requests (lent, or kept for good), and without the option
 * a kept view never changes.
 */
class ReuseMessageBuffersTest {

    /** Floats per observation: 40 KB, well within the pooled sizes. */
    private static final int N = 10_000;
    private static final MsgpackCodec CODEC = new MsgpackCodec();

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private static Map<String, Object> observation(int step) {
        float[] values = new float[N];
        for (int i = 0; i < N; i++) {
            values[i] = step * 100_000f + i;
        }
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat32(values));
        return obs;
    }

    private static float[] expected(int step) {
        return ((NdArray) observation(step).get("state")).toFloatArray();
    }

    /** Keeps each step's state twice, as a copy and as the view it was given; echoes the view. */
    static final class Keeper implements Policy {
        final List<NdArray> copies = new CopyOnWriteArrayList<>();
        final List<NdArray> views = new CopyOnWriteArrayList<>();

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            NdArray state = (NdArray) observation.get("state");
            copies.add(state.copy());
            views.add(state);
            return Map.of("echo", state);
        }
    }

    private PolicyClient client(PolicyServer server) {
        return open.add(PolicyClient.builder().uri("ws://127.0.0.1:" + server.port()).protocolMode(ProtocolMode.RAW)
                .build().connect());
    }

    @Test
    void aPolicyThatCopiesKeepsCorrectDataAndViewsInTheReplyArriveIntact() throws Exception {
        Keeper keeper = new Keeper();
        PolicyServer server = open.serve(PolicyServer.builder(keeper).reuseMessageBuffers(true));
        PolicyClient client = client(server);
        int steps = 30;
        for (int step = 0; step < steps; step++) {
            Map<String, Object> action = client.step(observation(step));
            assertArrayEquals(expected(step), ((NdArray) action.get("echo")).toFloatArray(), "the reply to step " + step);
        }
        for (int step = 0; step < steps; step++) {
            assertArrayEquals(expected(step), keeper.copies.get(step).toFloatArray(), "the copy kept at step " + step);
        }
        int changed = 0;
        for (int step = 0; step < steps - 1; step++) {
            if (!java.util.Arrays.equals(expected(step), keeper.views.get(step).toFloatArray())) {
                changed++;
            }
        }
        // The contract the option documents: the buffers were reused, so views kept past their call changed.
        assertTrue(changed > 0, "no kept view changed in " + steps + " steps: the buffers were not reused");
    }

    @Test
    void withoutTheOptionAKeptViewNeverChanges() throws Exception {
        Keeper keeper = new Keeper();
        PolicyServer server = open.serve(PolicyServer.builder(keeper));
        PolicyClient client = client(server);
        for (int step = 0; step < 30; step++) {
            client.step(observation(step));
        }
        for (int step = 0; step < 30; step++) {
            assertArrayEquals(expected(step), keeper.views.get(step).toFloatArray(), "the view kept at step " + step);
        }
    }

    @Test
    void aTapThatKnowsNoLeaseKeepsItsRequestsForGood() throws Exception {
        List<ByteBuffer> requests = new CopyOnWriteArrayList<>();
        PolicyServer server = open.serve(PolicyServer.builder(new Keeper()).reuseMessageBuffers(true)
                .exchangeTap((robot, metadata, request, reply, failure, t0, t1) -> requests.add(request)));
        PolicyClient client = client(server);
        for (int step = 0; step < 30; step++) {
            client.step(observation(step));
        }
        assertTrue(Probes.await(() -> requests.size() == 30, java.time.Duration.ofSeconds(10)));
        for (int step = 0; step < 30; step++) {
            assertArrayEquals(CODEC.pack(observation(step)), bytes(requests.get(step)), "request " + step);
        }
    }

    /** A tap that holds its leases: no buffer it holds is lent to a later request; given back, they are reused. */
    @Test
    void aLentRequestIsNotReusedUntilTheTapGivesItBack() throws Exception {
        List<ByteBuffer> requests = new CopyOnWriteArrayList<>();
        List<List<ByteBuffer>> replies = new CopyOnWriteArrayList<>();
        List<Runnable> leases = new CopyOnWriteArrayList<>();
        ExchangeTap tap = new ExchangeTap() {
            @Override
            public void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, List<ByteBuffer> reply,
                    String failure, long receivedNanos, long doneNanos) {
                throw new AssertionError("an answered request on a reusing server is lent");
            }

            @Override
            public void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, Runnable requestDone,
                    List<ByteBuffer> reply, long receivedNanos, long doneNanos) {
                assertTrue(request.isReadOnly(), "a lent request is read-only");
                requests.add(request);
                replies.add(reply);
                leases.add(requestDone);
            }
        };
        Keeper keeper = new Keeper();
        PolicyServer server = open.serve(PolicyServer.builder(keeper).reuseMessageBuffers(true).exchangeTap(tap));
        PolicyClient client = client(server);
        for (int step = 0; step < 20; step++) {
            client.step(observation(step));
        }
        assertTrue(Probes.await(() -> leases.size() == 20, java.time.Duration.ofSeconds(10)));
        for (int step = 0; step < 20; step++) {
            assertArrayEquals(CODEC.pack(observation(step)), bytes(requests.get(step)), "held request " + step);
            Map<?, ?> echoed = (Map<?, ?>) CODEC.unpack(concat(replies.get(step)));
            assertArrayEquals(expected(step), ((NdArray) echoed.get("echo")).toFloatArray(), "held reply " + step);
            assertArrayEquals(expected(step), keeper.views.get(step).toFloatArray(), "nothing reused while lent");
        }
        for (Runnable lease : leases) {
            lease.run();
            lease.run(); // a second run does nothing
        }
        for (int step = 20; step < 40; step++) {
            client.step(observation(step));
        }
        assertTrue(Probes.await(() -> leases.size() == 40, java.time.Duration.ofSeconds(10)));
        for (int step = 20; step < 40; step++) {
            assertArrayEquals(CODEC.pack(observation(step)), bytes(requests.get(step)), "held request " + step);
        }
        boolean reused = false;
        for (int step = 0; step < 20; step++) {
            reused |= !java.util.Arrays.equals(expected(step), keeper.views.get(step).toFloatArray());
        }
        assertTrue(reused, "the buffers given back were lent again");
        assertFalse(requests.isEmpty());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    private static byte[] concat(List<ByteBuffer> segments) {
        List<byte[]> parts = new ArrayList<>();
        int n = 0;
        for (ByteBuffer s : segments) {
            byte[] p = bytes(s);
            parts.add(p);
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
