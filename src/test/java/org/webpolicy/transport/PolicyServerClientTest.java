package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/** Java client against Java server over real sockets on the loopback interface. */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class PolicyServerClientTest {

    private final Wire wire;

    PolicyServerClientTest(Wire wire) {
        this.wire = wire;
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    private PolicyServer serve(PolicyServerBuilder builder) {
        return open.serve(wire, builder);
    }

    private PolicyClient client(PolicyServer server, PolicyClientBuilder builder) {
        PolicyClientBuilder at = builder.uri(wire.uri(server.port()));
        if (wire == Wire.WSS) {
            at.sslContext(TestTls.get().client);
        }
        PolicyClient client = at.connectTimeout(Duration.ofSeconds(10)).build();
        open.add(client);
        return client;
    }

    private PolicyClient client(PolicyServer server) {
        return client(server, PolicyClient.builder());
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    @Test
    void envelopeStepAndResetWithAndWithoutPayload() {
        TestPolicies.Echo echo = new TestPolicies.Echo();
        PolicyServer server = serve(PolicyServer.builder(echo));
        PolicyClient client = client(server);

        assertEquals(Map.of("policy", "echo"), client.metadata());
        Map<String, Object> obs = TestPolicies.observation(1.5f);
        Map<String, Object> action = client.step(obs);
        assertTrue(client.usesEnvelope(), "our server announces the envelope form");
        assertEquals(obs, action.get("echo"));
        assertFalse(action.containsKey("server_timing"), "envelope replies carry the policy's action only");

        client.reset(Map.of());
        client.reset(Map.of("task", "fold towel"));
        assertEquals(List.of(Map.of(), Map.of("task", "fold towel")), echo.resets);
    }

    @Test
    void rawFormGetsServerTimingFromTheSecondRequestOn() {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        PolicyClient client = client(server, PolicyClient.builder().protocolMode(ProtocolMode.RAW));
        Map<String, Object> first = client.step(TestPolicies.observation(1));
        assertFalse(client.usesEnvelope());
        Map<?, ?> timing = assertInstanceOf(Map.class, first.get("server_timing"));
        assertInstanceOf(Double.class, timing.get("infer_ms"));
        assertFalse(timing.containsKey("prev_total_ms"));
        Map<?, ?> second = assertInstanceOf(Map.class, client.step(TestPolicies.observation(2)).get("server_timing"));
        assertTrue((Double) second.get("prev_total_ms") >= (Double) timing.get("infer_ms"),
                "the previous request's total includes its inference: " + timing + " then " + second);
        assertEquals(List.of("infer_ms", "prev_total_ms"), List.copyOf(second.keySet()));

        client.reset(Map.of()); // raw form: openpi has no remote reset; an empty one stays local
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> client.reset(Map.of("task", "lost")));
        assertTrue(e.getMessage().contains("ProtocolMode.RAW") && e.getMessage().contains("no remote reset"), e.getMessage());
        assertEquals(Map.of("x", 1L), client.step(Map.of("x", 1L)).get("echo"), "a refused reset leaves the connection usable");
    }

    @Test
    void serverTimingCanBeTurnedOff() {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).serverTiming(false));
        PolicyClient client = client(server, PolicyClient.builder().protocolMode(ProtocolMode.RAW));
        assertFalse(client.step(TestPolicies.observation(1)).containsKey("server_timing"));
    }

    @Test
    void policyErrorIsATextFrameThenClose1011AndTheServerGoesOn() throws Exception {
        Policy failing = obs -> {
            if (obs.containsKey("boom")) {
                throw new IllegalStateException("the model fell over");
            }
            return Map.of("ok", true);
        };
        PolicyServer server = serve(PolicyServer.builder(failing));

        RawClient raw = RawClient.connect(wire, server.port());
        raw.nextBinary(); // metadata
        raw.send(codec.pack(Map.of("boom", true)));
        RawClient.Event text = raw.next();
        assertNotNull(text.text());
        assertTrue(text.text().contains("IllegalStateException: the model fell over"), text.text());
        assertTrue(text.text().contains("\tat "), "the stack trace is included");
        RawClient.Event close = raw.next();
        assertEquals(1011, close.closeCode());
        assertEquals("Internal server error. Traceback included in previous frame.", close.closeReason());

        PolicyClient client = client(server);
        RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(Map.of("boom", true)));
        assertTrue(e.serverText().contains("the model fell over"));
        assertEquals(Map.of("ok", true), client.step(Map.of("fine", true)), "the next call reconnects and works");
    }

    @Test
    void undecodableAndMalformedRequestsAreNamed() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        for (byte[] bad : List.of(new byte[] {(byte) 0xc1}, codec.pack(List.of(1L)), codec.pack(Map.of("__webpolicy_op__", "fly")),
                codec.pack(Map.of("__webpolicy_op__", "step", "obs", 5L)))) {
            RawClient raw = RawClient.connect(wire, server.port());
            raw.nextBinary();
            raw.send(bad);
            RawClient.Event text = raw.next();
            assertNotNull(text.text(), "error text for " + java.util.HexFormat.of().formatHex(bad));
            assertFalse(text.text().contains("\tat "), "input errors are explained, not traced: " + text.text());
            assertEquals(1011, raw.next().closeCode());
        }
        RawClient textSender = RawClient.connect(wire, server.port());
        textSender.nextBinary();
        textSender.send("hello");
        assertTrue(textSender.next().text().contains("text frame"));
        assertEquals(Map.of("prompt", "pick", "state", TestPolicies.observation(0).get("state")),
                client(server).step(TestPolicies.observation(0)).get("echo"));
    }

    @Test
    void healthzAnswersPlainHttp() throws IOException {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).apiKey("secret"));
        String response = httpGet(wire, server.port(), "/healthz", null);
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\nOK\n"), response);
        assertEquals(0, server.connectionCount());
    }

    @Test
    void apiKeyIsCheckedAtTheHandshake() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).apiKey("secret"));
        String upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        assertTrue(httpGet(wire, server.port(), "/", upgrade).startsWith("HTTP/1.1 401 "));
        assertTrue(httpGet(wire, server.port(), "/", upgrade + "Authorization: Api-Key wrong\r\n").startsWith("HTTP/1.1 401 "));
        assertTrue(httpGet(wire, server.port(), "/", upgrade + "Authorization: Api-Key secret\r\n").startsWith("HTTP/1.1 101 "));

        PolicyClient noKey = client(server, PolicyClient.builder());
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> noKey.step(Map.of()));
        assertTrue(e.getMessage().contains("Could not connect"), e.getMessage());
        PolicyClient withKey = client(server, PolicyClient.builder().apiKey("secret"));
        assertEquals(Map.of(), withKey.step(Map.of()).get("echo"));
    }

    @Test
    void slowPolicyDoesNotBlockHealthChecksHandshakesOrOtherConnections() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = serve(PolicyServer.builder(gated));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            PolicyClient blocked = client(server);
            Future<Map<String, Object>> pending = pool.submit(() -> blocked.step(Map.of()));
            assertTrue(gated.entered.await(10, TimeUnit.SECONDS));

            // While the policy is stuck: health checks, new handshakes and metadata are served.
            assertTrue(httpGet(wire, server.port(), "/healthz", null).startsWith("HTTP/1.1 200"));
            List<RawClient> others = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                RawClient raw = RawClient.connect(wire, server.port());
                others.add(raw);
                assertArrayEquals(new byte[] {(byte) 0x80}, raw.nextBinary(), "metadata frame while the policy runs");
            }
            assertFalse(pending.isDone());
            gated.release.countDown();
            assertEquals(2, ((NdArray) pending.get(10, TimeUnit.SECONDS).get("actions")).size());
            others.forEach(RawClient::close);
        } finally {
            gated.release.countDown();
            pool.shutdownNow();
        }
    }

    @Test
    void manyConcurrentClientsEachGetTheirOwnAnswers() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()));
        List<PolicyClient> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            clients.add(client(server));
        }
        stepTaggedInParallel(8, 50, clients::get);
    }

    @Test
    void oneClientSharedByManyThreadsGivesEachCallerItsOwnAnswer() throws Exception {
        PolicyClient client = client(serve(PolicyServer.builder(new TestPolicies.Echo())));
        stepTaggedInParallel(6, 100, thread -> client);
    }

    /**
     * {@code threads} threads each step {@code steps} observations tagged with their thread and
     * step through {@code clientOf(thread)}, and check each echo carries the caller's own tag.
     */
    private static void stepTaggedInParallel(int threads, int steps, java.util.function.IntFunction<PolicyClient> clientOf)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                PolicyClient client = clientOf.apply(t);
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < steps; i++) {
                        float tag = thread * 1000 + i;
                        Map<?, ?> echoed = (Map<?, ?>) client.step(TestPolicies.observation(tag)).get("echo");
                        assertEquals(tag, ((NdArray) echoed.get("state")).getFloat(0));
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void requestTimeoutClosesTheConnectionAndTheNextCallReconnects() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        Policy firstSlow = new Policy() {
            private int calls;

            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return ++calls == 1 ? gated.step(observation) : Map.of("call", (long) calls);
            }
        };
        PolicyServer server = serve(PolicyServer.builder(firstSlow));
        PolicyClient client = client(server, PolicyClient.builder().requestTimeout(Duration.ofMillis(300)));
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(Map.of()));
        assertTrue(e.getMessage().contains("No reply"), e.getMessage());
        gated.release.countDown(); // the late reply goes to a closed connection, never to the next call
        assertEquals(Map.of("call", 2L), client.step(Map.of()));
    }

    @Test
    void reconnectionCanBeTurnedOff() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(obs -> {
            throw new IllegalStateException("no");
        }));
        PolicyClient client = client(server, PolicyClient.builder().reconnect(false));
        assertThrows(RemotePolicyException.class, () -> client.step(Map.of()));
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(Map.of()));
        assertTrue(e.getMessage().contains("reconnection is off"), e.getMessage());
    }

    @Test
    void clientWaitsForAServerThatIsNotUpYet() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        PolicyClient client = wire.client(port)
                .retryInterval(Duration.ofMillis(100)).connectTimeout(Duration.ofSeconds(20)).build();
        open.add(client);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Map<String, Object>> step = pool.submit(() -> client.step(Map.of("x", 1L)));
            Thread.sleep(300);
            assertFalse(step.isDone(), "still retrying while nothing listens");
            open.add(wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(port).build().start());
            assertEquals(Map.of("x", 1L), step.get(20, TimeUnit.SECONDS).get("echo"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void connectTimeoutGivesUp() {
        PolicyClient client = wire.client(1)
                .retryInterval(Duration.ofMillis(50)).connectTimeout(Duration.ofMillis(300)).build();
        open.add(client);
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, client::connect);
        assertTrue(e.getMessage().contains("refused"), e.getMessage());
    }

    @Test
    void oversizedMessagesCloseWith1009() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).maxMessageBytes(64 * 1024));
        try (WireSocket w = WireSocket.open(wire, server.port())) {
            // The whole message is written from a thread of its own, as a client would: the
            // server refuses it at the header and closes while the payload is still on its way,
            // so the write may fail (a reset) while the close frame already waits to be read.
            byte[] message = codec.pack(Map.of("image", NdArray.ofUint8(new byte[100_000])));
            Thread writer = new Thread(() -> {
                try {
                    w.sendFrame(WireSocket.BINARY, message);
                } catch (IOException e) {
                    // refused mid-way: what the close frame says is read below
                }
            }, "oversized-writer");
            writer.start();
            WireSocket.Frame close = w.readMessage();
            assertNotNull(close, "a close frame, not just a dropped connection");
            assertEquals(WireSocket.CLOSE, close.opcode());
            assertEquals(1009, close.closeCode());
            writer.join(5000);
        }
        assertEquals(Map.of("small", 1L), client(server).step(Map.of("small", 1L)).get("echo"));
    }

    @Test
    void clientDyingMidRequestLeavesTheServerServing() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = serve(PolicyServer.builder(new Policy() {
            @Override
            public Map<String, Object> step(Map<String, Object> observation) {
                return observation.containsKey("slow") ? gated.step(observation) : Map.of("fast", true);
            }

            @Override
            public boolean isThreadSafe() {
                return true;
            }
        }));
        RawClient raw = RawClient.connect(wire, server.port());
        raw.nextBinary();
        raw.send(codec.pack(Map.of("slow", true)));
        assertTrue(gated.entered.await(10, TimeUnit.SECONDS));
        raw.closeConnection(1006, "vanished");
        gated.release.countDown(); // the reply now goes nowhere
        assertEquals(true, client(server).step(Map.of()).get("fast"));
    }

    @Test
    void tooManyConnectionsAreRefusedWith503() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).maxConnections(2));
        RawClient a = RawClient.connect(wire, server.port());
        RawClient b = RawClient.connect(wire, server.port());
        a.nextBinary();
        b.nextBinary();
        String upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        assertTrue(httpGet(wire, server.port(), "/", upgrade).startsWith("HTTP/1.1 503 "));
        a.closeBlocking();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.connectionCount() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(httpGet(wire, server.port(), "/", upgrade).startsWith("HTTP/1.1 101 "));
        b.close();
    }

    @Test
    void aClientTurnedAwayWith503KeepsTryingUntilASlotFrees() throws Exception {
        PolicyServer server = serve(PolicyServer.builder(new TestPolicies.Echo()).maxConnections(1));
        RawClient holder = RawClient.connect(wire, server.port());
        holder.nextBinary();
        PolicyClient client = client(server, PolicyClient.builder().retryInterval(Duration.ofMillis(50)));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Map<String, Object>> step = pool.submit(() -> client.step(TestPolicies.observation(7)));
            Thread.sleep(300);
            assertFalse(step.isDone(), "the client gave up on a full server instead of waiting");
            holder.closeBlocking();
            Map<?, ?> echoed = (Map<?, ?>) step.get(10, TimeUnit.SECONDS).get("echo");
            assertEquals(7f, ((NdArray) echoed.get("state")).getFloat(0));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void policyDeadlineFailsTheRequest() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = serve(PolicyServer.builder(gated).policyTimeout(Duration.ofMillis(200)));
        PolicyClient client = client(server);
        RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(Map.of()));
        assertTrue(e.serverText().contains("deadline"), e.serverText());
        gated.release.countDown();
    }

    @Test
    void observationCheckRejectsBeforeThePolicyRuns() {
        TestPolicies.Echo echo = new TestPolicies.Echo();
        PolicyServer server = serve(PolicyServer.builder(echo).observationCheck(obs -> {
            if (!obs.containsKey("state")) {
                throw new IllegalArgumentException("state: missing");
            }
        }));
        PolicyClient client = client(server);
        RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client.step(Map.of("x", 1L)));
        assertTrue(e.serverText().contains("state: missing"), e.serverText());
        assertEquals(0, echo.steps.get());
    }

    @Test
    void unencodableRepliesAreReported() {
        PolicyServer server = serve(PolicyServer.builder(obs -> Map.of("bad", new Object())));
        RemotePolicyException e = assertThrows(RemotePolicyException.class, () -> client(server).step(Map.of()));
        assertTrue(e.serverText().contains("cannot be sent"), e.serverText());
    }

    /**
     * A server that completes the handshake, sends empty metadata and then neither reads nor
     * writes: a stalled peer. Returns its port; it lives until the test's {@code open} list closes.
     */
    private int stalledServer() throws IOException {
        java.net.ServerSocket listener = wire.listen();
        open.add(listener);
        Thread silentServer = new Thread(() -> {
            try (Socket s = listener.accept()) {
                String head = readHead(s.getInputStream());
                String key = head.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-key:"))
                        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElseThrow();
                String accept = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
                OutputStream out = s.getOutputStream();
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[] {(byte) 0x82, 0x01, (byte) 0x80}); // metadata: an empty map
                out.flush();
                Thread.sleep(120_000); // then silence: no reading, no writing
            } catch (Exception e) {
                // the test is over
            }
        });
        silentServer.setDaemon(true);
        silentServer.start();
        return listener.getLocalPort();
    }

    @Test
    void clientCloseDoesNotWaitForAServerThatNeverAnswersTheCloseFrame() throws Exception {
        PolicyClient client = wire.client(stalledServer())
                .connectTimeout(Duration.ofSeconds(10)).build();
        open.add(client);
        assertEquals(Map.of(), client.metadata());
        long t0 = System.nanoTime();
        client.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 5_000, "close waited " + ms + " ms for a server that never answers");
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aRequestTheServerNeverReadsFailsAtTheRequestTimeout() throws Exception {
        PolicyClient client = wire.client(stalledServer())
                .requestTimeout(Duration.ofSeconds(1)).connectTimeout(Duration.ofSeconds(10)).reconnect(false).build();
        open.add(client);
        assertEquals(Map.of(), client.metadata());
        // 64 MB: far more than the kernel buffers between the two hold, so the write blocks.
        Map<String, Object> big = Map.of("image", NdArray.ofUint8(new byte[64 << 20], 64 << 20));
        long t0 = System.nanoTime();
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class, () -> client.step(big));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 10_000, "the step took " + ms + " ms against a 1 s request timeout");
        assertTrue(e.getMessage().contains("127.0.0.1"), e.getMessage());
        assertTrue(e.getMessage().contains("not written within the request timeout"), e.getMessage());
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed during the request head");
            }
            head.append((char) b);
        }
        return head.toString();
    }

    @Test
    void closeAnswersRequestsInFlight() throws Exception {
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = wire.on(PolicyServer.builder(gated)).host("127.0.0.1").port(0).build().start();
        PolicyClient client = client(server);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Map<String, Object>> pending = pool.submit(() -> client.step(Map.of()));
            assertTrue(gated.entered.await(10, TimeUnit.SECONDS));
            Future<?> closing = pool.submit(server::close);
            Thread.sleep(100);
            gated.release.countDown();
            assertNotNull(pending.get(10, TimeUnit.SECONDS).get("actions"));
            closing.get(10, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void hostsAndUris() {
        assertEquals("ws://ws-gpu01:8000", PolicyClient.builder().host("ws-gpu01").build().uri().toString());
        assertEquals("ws://10.0.0.5:9000", PolicyClient.builder().host("10.0.0.5").port(9000).build().uri().toString());
        assertEquals("wss://example.org:443/policy",
                PolicyClient.builder().host("wss://example.org:443/policy").build().uri().toString());
        assertEquals("ws://h:7000", PolicyClient.builder().uri("ws://h").port(7000).build().uri().toString());
        assertThrows(IllegalArgumentException.class, () -> PolicyClient.builder().uri("http://h:1"));
    }

    /** A raw HTTP GET with optional extra header lines; returns the whole response. */
    static String httpGet(int port, String path, String extraHeaders) throws IOException {
        return httpGet(Wire.WS, port, path, extraHeaders);
    }

    /** {@link #httpGet(int, String, String)} over {@code wire}: within TLS for {@link Wire#WSS}. */
    static String httpGet(Wire wire, int port, String path, String extraHeaders) throws IOException {
        try (Socket s = wire.socket(port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (extraHeaders == null ? "" : extraHeaders)
                    + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder response = new StringBuilder();
            byte[] buf = new byte[4096];
            int n;
            try {
                while ((n = in.read(buf)) > 0) {
                    response.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    if (response.toString().startsWith("HTTP/1.1 101")) {
                        break; // upgraded: the connection stays open
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // answered without closing
            }
            return response.toString();
        }
    }
}
