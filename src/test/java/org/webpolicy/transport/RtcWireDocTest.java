package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.java_websocket.WebSocket;
import org.java_websocket.drafts.Draft;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Continuation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.protocol.Headers;

/**
 * The example exchange in docs/RTC_WIRE.md is what our client and server put on the wire: a
 * recording relay between them keeps both messages' bytes, and the test compares them with the
 * hex in the document. Run with {@code -Dwebpolicy.updateRtcDoc=true} to write the bytes into the
 * document after a deliberate change of the extension.
 */
class RtcWireDocTest {

    static final Path DOC = Path.of("docs", "RTC_WIRE.md");
    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** Announces the continuation like our server, passes each request on to it and records both ways. */
    static final class Relay extends WebSocketServer {
        final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();
        final BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
        final CountDownLatch started = new CountDownLatch(1);
        private final int serverPort;
        private volatile RawClient upstream;

        Relay(int serverPort) {
            super(new InetSocketAddress("127.0.0.1", 0));
            setReuseAddr(true);
            this.serverPort = serverPort;
        }

        @Override
        public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(WebSocket conn, Draft draft, ClientHandshake request)
                throws InvalidDataException {
            ServerHandshakeBuilder response = super.onWebsocketHandshakeReceivedAsServer(conn, draft, request);
            response.put(Headers.PROTOCOL, Headers.ENVELOPE);
            response.put(Headers.REQUEST_ID, Headers.ECHO);
            response.put(Headers.CONTINUATION, Headers.CONTINUATION_VERSION);
            return response;
        }

        @Override
        public void onOpen(WebSocket conn, ClientHandshake handshake) {
            try {
                upstream = RawClient.connect(serverPort);
                conn.send(upstream.nextBinary()); // the metadata frame
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                conn.close();
            }
        }

        @Override
        public void onMessage(WebSocket conn, ByteBuffer message) {
            byte[] request = new byte[message.remaining()];
            message.get(request);
            requests.add(request);
            try {
                upstream.send(request);
                byte[] reply = upstream.nextBinary();
                replies.add(reply);
                conn.send(reply);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                conn.close();
            }
        }

        @Override
        public void onMessage(WebSocket conn, String message) {
        }

        @Override
        public void onClose(WebSocket conn, int code, String reason, boolean remote) {
            if (upstream != null) {
                upstream.close();
            }
        }

        @Override
        public void onError(WebSocket conn, Exception ex) {
        }

        @Override
        public void onStart() {
            started.countDown();
        }
    }

    /**
     * The document's example policy: it inpaints, as a real-time-chunking policy does. Row i of
     * its chunk is meant for the robot's step cursor + i; the first {@code delay} rows are the
     * continuation's own (they execute anyway), the rest move on from it by 0.25.
     */
    static final class Example implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            throw new AssertionError("the example step carries a continuation");
        }

        @Override
        public Map<String, Object> step(Map<String, Object> observation, Continuation continuation) {
            float[] rows = continuation.actions().toFloatArray();
            for (int i = continuation.delay() * 2; i < rows.length; i++) {
                rows[i] += 0.25f;
            }
            return Map.of("actions", NdArray.ofFloat32(rows, continuation.actions().shape().dim(0), 2));
        }

        @Override
        public boolean acceptsContinuation() {
            return true;
        }
    }

    @Test
    void theDocumentsExampleIsWhatTravels() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new Example()));
        Relay relay = new Relay(server.port());
        relay.start();
        open.add(() -> relay.stop(1000));
        assertTrue(relay.started.await(10, TimeUnit.SECONDS));
        PolicyClient client = open.add(PolicyClient.builder().host("127.0.0.1").port(relay.getPort())
                .connectTimeout(Duration.ofSeconds(10)).build());

        // Robot state (2 joints); 3 actions left of the current chunk, 1 of them executed by the
        // time the reply is expected; 57 actions executed so far in generation 2.
        Continuation continuation = new Continuation(1,
                NdArray.ofFloat32(new float[] {0.5f, -1.0f, 0.75f, -1.0f, 1.0f, -1.0f}, 3, 2), 57, 1_000_000_000L, 2);
        Map<String, Object> action = client.step(Map.of("state", NdArray.ofFloat32(new float[] {0.25f, -1.0f}, 2)),
                continuation);
        assertEquals(NdArray.ofFloat32(new float[] {0.5f, -1.0f, 1.0f, -0.75f, 1.25f, -0.75f}, 3, 2), action.get("actions"));

        byte[] request = relay.requests.poll(10, TimeUnit.SECONDS);
        byte[] reply = relay.replies.poll(10, TimeUnit.SECONDS);
        assertNotNull(request);
        assertNotNull(reply);
        String doc = Files.readString(DOC, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("webpolicy.updateRtcDoc")) {
            doc = withHex(withHex(doc, "request", request), "reply", reply);
            Files.writeString(DOC, doc, StandardCharsets.UTF_8);
        }
        String hint = "; after a deliberate change of the extension, run this test with -Dwebpolicy.updateRtcDoc=true";
        assertEquals(hex(request), block(doc, "request"), "the request bytes in " + DOC + hint);
        assertEquals(hex(reply), block(doc, "reply"), "the reply bytes in " + DOC + hint);
    }

    /** Bytes as lower-case hex, 16 to a line. */
    static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bytes.length; i++) {
            b.append(String.format("%02x", bytes[i] & 0xff));
            b.append(i == bytes.length - 1 ? "\n" : i % 16 == 15 ? "\n" : " ");
        }
        return b.toString();
    }

    private static Pattern blockPattern(String name) {
        return Pattern.compile("(<!-- rtc-example-" + name + " -->\n```text\n)(.*?)(```)", Pattern.DOTALL);
    }

    private static String block(String doc, String name) throws IOException {
        Matcher m = blockPattern(name).matcher(doc);
        if (!m.find()) {
            throw new AssertionError(DOC + " has no block marked <!-- rtc-example-" + name + " -->");
        }
        return m.group(2);
    }

    private static String withHex(String doc, String name, byte[] bytes) {
        Matcher m = blockPattern(name).matcher(doc);
        if (!m.find()) {
            throw new AssertionError(DOC + " has no block marked <!-- rtc-example-" + name + " -->");
        }
        return doc.substring(0, m.start(2)) + hex(bytes) + doc.substring(m.end(2));
    }
}
