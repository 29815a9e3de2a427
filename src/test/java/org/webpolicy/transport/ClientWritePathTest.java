package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.EncodeException;

/**
 * The client's request frames, written from its direct frame buffer on the caller's thread, over
 * a real connection, ws:// and wss:// ({@link ClientWritePathWssTest}): the pongs written meanwhile never split one, a caller
 * interrupted in the middle of a write the server does not read fails at once, and an
 * observation that cannot be encoded fails before anything is sent.
 */
class ClientWritePathTest {

    /** The scheme these tests run over; {@code ClientWritePathWssTest} runs them over the other. */
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WS;
    }

    private static final ScriptedServer.Script ECHO_LENGTH = (peer, n, request) ->
            peer.send(Map.of("n", n, "bytes", ((NdArray) ((Map<?, ?>) request).get("image")).nbytes()));

    @Test
    void pongsWrittenDuringLargeRequestsNeverSplitAFrame() throws Exception {
        AtomicBoolean pinging = new AtomicBoolean(true);
        ScriptedServer.Script pingsAllTheTime = new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) {
                Thread pinger = new Thread(() -> {
                    try {
                        while (pinging.get()) {
                            peer.write(ScriptedServer.frame(0x9, new byte[] {1, 2, 3}));
                            Thread.sleep(0, 200_000);
                        }
                    } catch (IOException | InterruptedException e) {
                        // the connection or the test is over
                    }
                }, "test-pinger");
                pinger.setDaemon(true);
                pinger.start();
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) throws IOException {
                ECHO_LENGTH.request(peer, n, request);
            }
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), pingsAllTheTime);
                PolicyClient client = scheme().client(server.port())
                        .protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(30))
                        .build()) {
            int steps = 60;
            for (int i = 1; i <= steps; i++) {
                int size = (i % 3 + 1) * 300_000 + i; // lengths change, so the kept buffer is reused and regrown
                byte[] pixels = new byte[size];
                Arrays.fill(pixels, (byte) i);
                Map<String, Object> reply = client.step(Map.of("image", NdArray.ofUint8(pixels, size)));
                assertEquals(Map.of("n", (long) i, "bytes", (long) size), reply, "step " + i);
            }
            pinging.set(false);
            assertEquals(1, server.connections(), "one connection served every step");
            for (int i = 1; i <= steps; i++) {
                NdArray image = (NdArray) ((Map<?, ?>) server.requests.take()).get("image");
                byte[] expected = new byte[(int) image.nbytes()];
                Arrays.fill(expected, (byte) i);
                assertTrue(Arrays.equals(expected, image.toByteArray()), "request " + i + " arrived intact");
            }
        } finally {
            pinging.set(false);
        }
    }

    @Test
    void aCallerInterruptedWhileWritingFailsAtOnceAndTheNextCallReconnects() throws Exception {
        CountDownLatch firstConnectionReads = new CountDownLatch(1);
        ScriptedServer.Script firstStopsReading = new ScriptedServer.Script() {
            @Override
            public void opened(ScriptedServer.Peer peer) throws IOException {
                if (peer.number == 1) {
                    try {
                        firstConnectionReads.await(60, TimeUnit.SECONDS); // no reading: the client's write blocks
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void request(ScriptedServer.Peer peer, int n, Object request) throws IOException {
                ECHO_LENGTH.request(peer, n, request);
            }
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), firstStopsReading);
                PolicyClient client = scheme().client(server.port())
                        .protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10))
                        .requestTimeout(Duration.ofSeconds(120)).build().connect()) {
            int big = 64 << 20; // far more than the kernel buffers between the two hold
            Thread[] caller = new Thread[1];
            CompletableFuture<Map<String, Object>> step = new CompletableFuture<>();
            caller[0] = new Thread(() -> {
                try {
                    step.complete(client.step(Map.of("image", NdArray.ofUint8(new byte[big], big))));
                } catch (RuntimeException e) {
                    step.completeExceptionally(e);
                }
            }, "test-caller");
            caller[0].start();
            // Interrupted once it is in its write (nothing is read, so it stays there): interrupted
            // earlier, on a loaded machine still allocating the observation, it would fail before
            // using the connection, which then need not be replaced.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!writing(caller[0]) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(writing(caller[0]), "the caller reached its write");
            caller[0].interrupt();
            ExecutionException e = assertThrows(ExecutionException.class, () -> step.get(60, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof PolicyConnectionException, String.valueOf(e.getCause()));
            firstConnectionReads.countDown();
            assertEquals(Map.of("n", 1L, "bytes", 5L), client.step(Map.of("image", NdArray.ofUint8(new byte[5], 5))));
            assertEquals(2, server.connections(), "the call after the interrupt reconnected");
        }
    }

    /** True when {@code t} is inside the connection's write of a frame. */
    private static boolean writing(Thread t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals("org.webpolicy.transport.client.ClientEndpoint")
                && f.getMethodName().equals("write"));
    }

    @Test
    void anObservationTheWireCannotCarryFailsWithTheCodecsErrorAndKeepsTheConnection() throws Exception {
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), ECHO_LENGTH);
                PolicyClient client = scheme().client(server.port())
                        .protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10)).build().connect()) {
            EncodeException e = assertThrows(EncodeException.class, () -> client.step(Map.of("image", new double[14])));
            assertTrue(e.getMessage().contains("$.image"), e.getMessage());
            assertEquals(Map.of("n", 1L, "bytes", 3L), client.step(Map.of("image", NdArray.ofUint8(new byte[3], 3))),
                    "the next call is the connection's first request");
            assertEquals(1, server.connections(), "the connection was kept");
            assertEquals(1, server.requests.size(), "nothing was sent for the bad observation");
        }
    }
}
