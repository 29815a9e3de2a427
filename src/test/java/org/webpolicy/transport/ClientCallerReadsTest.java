package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.client.ClientConnection;

/**
 * A caller of {@code step} reads its own reply from the socket while it waits, and the connection's
 * reader thread reads only while no caller does, ws:// and wss:// ({@link ClientCallerReadsWssTest}):
 * replies reach their callers with the reader thread never decoding them (from the first request
 * after connecting on), pings flow between calls and during a long call, a server silent during a
 * call is cut by the pings, a deadline fires while the caller owns the read, pipelined calls get
 * their own replies around a step, and closing, losing or interrupting a call in its read ends it.
 */
class ClientCallerReadsTest {

    /** The scheme these tests run over; {@code ClientCallerReadsWssTest} runs them over the other. */
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WS;
    }

    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private static final ScriptedServer.Script ECHO_N = (peer, n, request) -> peer.send(Map.of("n", n));

    /**
     * Leaves the first request the server gets unanswered and echoes the rest. Keyed on the
     * request, not on the connection's number: on a loaded machine an attempt whose handshake ran
     * out of time is a connection too.
     */
    private static ScriptedServer.Script firstRequestUnanswered() {
        AtomicBoolean ignored = new AtomicBoolean();
        return (peer, n, request) -> {
            if (ignored.compareAndSet(false, true)) {
                return;
            }
            peer.send(Map.of("n", n));
        };
    }

    private PolicyClientBuilder client(ScriptedServer server) {
        return scheme().client(server.port()).protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(30));
    }

    private static ClientConnection connection(PolicyClient client) {
        ClientConnection c = client.session().connection();
        assertTrue(c != null, "connected");
        return c;
    }

    /** True when {@code t} is in its own read of the socket, holding the read role. */
    private static boolean readingItself(Thread t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals("org.webpolicy.transport.client.ClientEndpoint")
                && f.getMethodName().equals("readAsCaller"));
    }

    /** Waits (60 s at most) until {@code t} reads the socket itself. */
    private static void awaitReadingItself(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!readingItself(t) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(readingItself(t), "the caller reads its own reply");
    }

    /** A step on a thread of its own, its outcome in the future. */
    private static Thread stepOn(PolicyClient client, CompletableFuture<Map<String, Object>> outcome, AtomicBoolean interruptKept) {
        Thread t = new Thread(() -> {
            try {
                outcome.complete(client.step(Map.of("x", 1L)));
            } catch (RuntimeException e) {
                interruptKept.set(Thread.currentThread().isInterrupted());
                outcome.completeExceptionally(e);
            }
        }, "test-caller");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static Throwable failure(CompletableFuture<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(60, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void everyReplyIsDecodedByItsCallerAndNoneByTheReaderThread() throws Exception {
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), ECHO_N)) {
            // Fresh connections: the first request after connecting is read by its caller alone.
            for (int round = 0; round < 5; round++) {
                try (PolicyClient client = client(server).build()) {
                    assertEquals(Map.of("n", 1L), client.step(Map.of("x", 1L)));
                    ClientConnection c = connection(client);
                    assertEquals(1, c.framesReadByCallers(), "round " + round);
                    assertEquals(1, c.framesReadByReaderThread(), "the metadata frame only, round " + round);
                }
            }
            try (PolicyClient client = client(server).build()) {
                int steps = 300;
                for (int i = 1; i <= steps; i++) {
                    assertEquals(Map.of("n", (long) i), client.step(Map.of("x", (long) i)));
                }
                ClientConnection c = connection(client);
                assertEquals(steps, c.framesReadByCallers());
                assertEquals(1, c.framesReadByReaderThread(), "the reader thread read the metadata frame, no reply");
            }
        }
    }

    @Test
    void pingsFlowBetweenCallsAndDuringALongCallWhoseReplyStillComes() throws Exception {
        ScriptedServer.Script slowSecond = (peer, n, request) -> {
            if (n != 2) {
                peer.send(Map.of("n", n));
                return;
            }
            // Answered later from another thread: the server goes on reading, and answers pings.
            Thread later = new Thread(() -> {
                try {
                    Thread.sleep(1500);
                    peer.send(Map.of("n", n));
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            }, "test-late-reply");
            later.setDaemon(true);
            later.start();
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), slowSecond);
                PolicyClient client = client(server).pingInterval(Duration.ofMillis(200)).build()) {
            assertEquals(Map.of("n", 1L), client.step(Map.of("x", 1L)));
            int before = server.pings.get();
            Thread.sleep(1200); // no call: the reader thread pings the quiet server
            int between = server.pings.get() - before;
            assertTrue(between >= 2, "pings between calls: " + between);

            CompletableFuture<Map<String, Object>> outcome = new CompletableFuture<>();
            Thread caller = stepOn(client, outcome, new AtomicBoolean());
            awaitReadingItself(caller);
            int atStart = server.pings.get();
            assertEquals(Map.of("n", 2L), outcome.get(60, TimeUnit.SECONDS));
            int during = server.pings.get() - atStart;
            assertTrue(during >= 2, "pings during the 1.5 s call: " + during);
            ClientConnection c = connection(client);
            assertEquals(2, c.framesReadByCallers(), "the late reply was read by its caller");
            assertEquals(1, c.framesReadByReaderThread());
            assertEquals(Map.of("n", 3L), client.step(Map.of("x", 3L)));
            assertEquals(1, client.connectionStats().connections(), "one connection throughout");
        }
    }

    @Test
    void aServerSilentDuringACallIsCutByTheCallersPingsBeforeTheDeadline() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ScriptedServer.Script stuck = (peer, n, request) -> {
            try {
                release.await(60, TimeUnit.SECONDS); // reads nothing meanwhile: no pong either
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), stuck);
                PolicyClient client = client(server).pingInterval(Duration.ofMillis(300)).requestTimeout(Duration.ofSeconds(120))
                        .reconnect(false).build().connect()) {
            PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(Map.of("x", 1L)));
            assertFalse(e instanceof RequestTimeoutException, e.toString());
            assertTrue(e.getMessage().contains("no answer from the server within the ping interval (300 ms) after a ping"),
                    e.getMessage());
        } finally {
            release.countDown();
        }
    }

    @Test
    void theDeadlineFiresWhileTheCallerOwnsTheReadAndTheNextCallReconnects() throws Exception {
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), firstRequestUnanswered());
                PolicyClient client = client(server).pingInterval(Duration.ofMillis(250)).requestTimeout(Duration.ofMillis(1500))
                        .build().connect()) {
            CompletableFuture<Map<String, Object>> outcome = new CompletableFuture<>();
            Thread caller = stepOn(client, outcome, new AtomicBoolean());
            awaitReadingItself(caller);
            Throwable e = failure(outcome);
            assertInstanceOf(RequestTimeoutException.class, e);
            assertTrue(server.pings.get() >= 2, "the server answered the caller's pings meanwhile: " + server.pings.get());
            assertEquals(Map.of("n", 1L), client.step(Map.of("x", 2L)));
            assertEquals(2, client.connectionStats().connections(), "the timed-out connection was replaced");
        }
    }

    @Test
    void pipelinedCallsAroundAStepEachGetTheirOwnReply() throws Exception {
        PolicyServer server = open.serve(scheme().serve(PolicyServer.builder(obs -> Map.of("echo", obs.get("seq")))));
        try (PolicyClient client = scheme().client(server.port()).connectTimeout(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(30)).build().connect()) {
            List<CompletableFuture<Map<String, Object>>> first = new ArrayList<>();
            for (long seq = 1; seq <= 6; seq++) {
                first.add(client.stepAsync(Map.of("seq", seq)));
            }
            for (int i = 0; i < first.size(); i++) {
                assertEquals(Map.of("echo", (long) i + 1), first.get(i).get(30, TimeUnit.SECONDS));
            }
            assertEquals(Map.of("echo", 100L), client.step(Map.of("seq", 100L)));
            List<CompletableFuture<Map<String, Object>>> second = new ArrayList<>();
            for (long seq = 7; seq <= 12; seq++) {
                second.add(client.stepAsync(Map.of("seq", seq)));
            }
            assertEquals(Map.of("echo", 101L), client.step(Map.of("seq", 101L)));
            for (int i = 0; i < second.size(); i++) {
                assertEquals(Map.of("echo", (long) i + 7), second.get(i).get(30, TimeUnit.SECONDS));
            }
            ClientConnection c = connection(client);
            assertEquals(14, c.framesReadByCallers() + c.framesReadByReaderThread() - 1, "every reply read once");
            assertTrue(c.framesReadByCallers() >= 1, "a step read its own reply");
            assertTrue(c.framesReadByReaderThread() >= 1 + 6, "the pipelined replies were read by the reader thread");
            assertEquals(1, client.connectionStats().connections());
        }
    }

    @Test
    void closingWhileTheCallerReadsFailsItsCallAndEndsWithTheCloseHandshake() throws Exception {
        ScriptedServer.Script neverAnswers = (peer, n, request) -> {
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), neverAnswers)) {
            PolicyClient client = client(server).build().connect();
            CompletableFuture<Map<String, Object>> outcome = new CompletableFuture<>();
            Thread caller = stepOn(client, outcome, new AtomicBoolean());
            awaitReadingItself(caller);
            client.close();
            Throwable e = failure(outcome);
            assertInstanceOf(PolicyConnectionException.class, e);
            assertTrue(e.getMessage().contains("client closed"), e.getMessage());
            assertEquals(1, server.closeFrames.get(), "the connection ended with the close handshake, not a cut");
            assertThrows(IllegalStateException.class, () -> client.step(Map.of("x", 2L)));
        }
    }

    @Test
    void aConnectionLostWhileTheCallerReadsFailsTheCallAndTheNextOneReconnects() throws Exception {
        CountDownLatch callerReads = new CountDownLatch(1);
        AtomicBoolean dropped = new AtomicBoolean();
        ScriptedServer.Script firstDrops = (peer, n, request) -> {
            if (dropped.compareAndSet(false, true)) {
                try {
                    callerReads.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("dropped by the test"); // the server closes the socket, no close frame
            }
            peer.send(Map.of("n", n));
        };
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), firstDrops);
                PolicyClient client = client(server).build().connect()) {
            CompletableFuture<Map<String, Object>> outcome = new CompletableFuture<>();
            Thread caller = stepOn(client, outcome, new AtomicBoolean());
            awaitReadingItself(caller);
            callerReads.countDown();
            Throwable e = failure(outcome);
            assertInstanceOf(PolicyConnectionException.class, e);
            assertTrue(e.getMessage().contains("ended while waiting for the reply"), e.getMessage());
            assertEquals(Map.of("n", 1L), client.step(Map.of("x", 2L)));
            assertEquals(2, client.connectionStats().connections(), "the next call reconnected");
            assertEquals(1, connection(client).framesReadByCallers());
        }
    }

    @Test
    void aCallerInterruptedInItsReadFailsKeepsItsInterruptAndTheNextCallReconnects() throws Exception {
        try (ScriptedServer server = new ScriptedServer(scheme().serverTls(), Map.of(), firstRequestUnanswered());
                PolicyClient client = client(server).build().connect()) {
            CompletableFuture<Map<String, Object>> outcome = new CompletableFuture<>();
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread caller = stepOn(client, outcome, interruptKept);
            awaitReadingItself(caller);
            caller.interrupt();
            Throwable e = failure(outcome);
            assertInstanceOf(PolicyConnectionException.class, e);
            assertTrue(e.getMessage().startsWith("Interrupted while waiting for the reply"), e.getMessage());
            assertTrue(interruptKept.get(), "the caller's interrupt status is kept");
            assertEquals(Map.of("n", 1L), client.step(Map.of("x", 2L)));
            assertEquals(2, client.connectionStats().connections(), "the call after the interrupt reconnected");
        }
    }
}
