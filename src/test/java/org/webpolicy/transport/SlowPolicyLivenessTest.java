package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ServerHandshake;
import org.junit.jupiter.api.Test;
import org.webpolicy.codec.MsgpackCodec;

/**
 * A policy call that does not return never stalls the network threads: while one is running, the
 * connection that asked for it still gets its pings answered, another connection opens and gets
 * its metadata, and {@code /healthz} answers 200; once released, the reply arrives. The connection
 * is read by the server's own I/O loop by then, which must never wait for a policy either.
 */
class SlowPolicyLivenessTest {

    /** A bare client that records binary frames and pongs. */
    private static final class PingingClient extends WebSocketClient {
        final CountDownLatch pong = new CountDownLatch(1);
        final BlockingQueue<byte[]> binary = new LinkedBlockingQueue<>();

        PingingClient(int port) {
            super(URI.create("ws://127.0.0.1:" + port));
        }

        byte[] nextBinary() throws InterruptedException {
            byte[] b = binary.poll(20, TimeUnit.SECONDS);
            if (b == null) {
                throw new AssertionError("no binary frame within 20 s");
            }
            return b;
        }

        @Override
        public void onWebsocketPong(WebSocket conn, Framedata f) {
            pong.countDown();
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
        }

        @Override
        public void onMessage(String message) {
        }

        @Override
        public void onMessage(ByteBuffer bytes) {
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            binary.add(b);
        }

        @Override
        public void onClose(int code, String reason, boolean remote) {
        }

        @Override
        public void onError(Exception ex) {
        }
    }

    @Test
    void pingsHandshakesAndHealthChecksAreAnsweredDuringASlowPolicyCall() throws Exception {
        TestPolicies.Gated policy = new TestPolicies.Gated();
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start()) {
            PingingClient slow = new PingingClient(server.port());
            assertTrue(slow.connectBlocking(10, TimeUnit.SECONDS));
            slow.nextBinary(); // metadata
            // Once handed over, the connection's bytes are read by the server's own I/O loop: the
            // ping below is read, decoded and answered there while a worker sits in the policy.
            assertTrue(Probes.await(() -> server.ownedConnections() == 1, java.time.Duration.ofSeconds(20)),
                    "the connection is on the server's I/O loop");
            slow.send(new MsgpackCodec().pack(TestPolicies.observation(1)));
            assertTrue(policy.entered.await(10, TimeUnit.SECONDS), "the policy call started");

            slow.sendPing();
            assertTrue(slow.pong.await(10, TimeUnit.SECONDS), "a ping is answered on the connection whose call runs");
            RawClient other = RawClient.connect(server.port());
            assertTrue(other.nextBinary().length > 0, "another connection gets its metadata");
            assertTrue(PolicyServerClientTest.httpGet(server.port(), "/healthz", null).startsWith("HTTP/1.1 200"));
            assertEquals(1, policy.release.getCount(), "all of it while the policy call was still running");

            policy.release.countDown();
            Object reply = new MsgpackCodec().unpack(slow.nextBinary());
            assertTrue(reply instanceof java.util.Map<?, ?> m && m.containsKey("actions"), "then the reply: " + reply);
            slow.closeBlocking();
            other.closeBlocking();
        }
    }
}
