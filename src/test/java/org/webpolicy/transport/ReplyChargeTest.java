package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;

/**
 * A reply larger than a step is charged to the inbound memory budget until it is written: a
 * client that sends a few bytes and reads nothing cannot park memory outside every budget.
 */
class ReplyChargeTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final int BLOB = 16 << 20;

    /** Answers every step with 16 MiB, as an echo of a 16 KB compressed image does. */
    static final class Blob implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return Map.of("blob", NdArray.zeros(DType.UINT8, BLOB));
        }
    }

    @Test
    void anUnreadLargeReplyIsChargedUntilItsClientLeaves() throws Exception {
        try (PolicyServer server = PolicyServer.builder(new Blob()).inboundMemoryBytes(24 << 20).host("127.0.0.1").port(0)
                .build().start()) {
            byte[] request = CODEC.pack(TestPolicies.observation(1));
            // A client with a tiny receive window: the kernel takes a few MB, the rest waits in the server.
            java.net.Socket socket = new java.net.Socket();
            socket.setReceiveBufferSize(4096);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()), 10_000);
            WireSocket parker = new WireSocket(socket);
            parker.write(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
            assertTrue(parker.readHttpHead().startsWith("HTTP/1.1 101"));
            assertEquals(WireSocket.BINARY, parker.readFrame().opcode(), "metadata");
            parker.sendFrame(WireSocket.BINARY, request); // and never reads the reply
            assertTrue(Probes.await(() -> server.inboundBytes() >= BLOB, Duration.ofSeconds(20)),
                    "the unread reply is charged: " + server.inboundBytes());
            // A second client's 16 MiB reply does not fit beside it: refused, not parked.
            try (WireSocket second = WireSocket.open(server.port())) {
                second.sendFrame(WireSocket.BINARY, request);
                WireSocket.Frame text = second.readFrame();
                assertEquals(1, text.opcode(), "an error text");
                String reason = new String(text.payload(), StandardCharsets.UTF_8);
                assertTrue(reason.contains("does not fit the server's memory budget now"), reason);
                assertEquals(1011, second.readFrame().closeCode());
            }
            parker.close();
            assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(20)),
                    "given back once its client left: " + server.inboundBytes());
            // A client that reads its reply gets it, and the budget is whole again after.
            try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port()).build()) {
                assertEquals(BLOB, ((NdArray) client.step(TestPolicies.observation(2)).get("blob")).nbytes());
            }
            assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(20)), "" + server.inboundBytes());
        }
    }
}
