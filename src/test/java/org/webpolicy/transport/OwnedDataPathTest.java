package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.array.NdArray;
import org.webpolicy.policy.Policy;

/**
 * Plain connections are read and written by the server's own I/O loop once their handshake is
 * done: the hand-over loses and reorders nothing, replies larger than the socket buffer are
 * finished by the loop, pings, closes and liveness checks work as on the library's threads, and
 * one loop serves many connections. Over {@code ws://} and {@code wss://} (through the TLS channel).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class OwnedDataPathTest {

    private final Wire wire;

    OwnedDataPathTest(Wire wire) {
        this.wire = wire;
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final TestResources open = new TestResources();

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    private byte[] step(float tag) {
        return codec.pack(TestPolicies.observation(tag));
    }

    private float echoedTag(WireSocket.Frame reply) {
        assertNotNull(reply, "the server closed the connection instead of replying");
        assertEquals(WireSocket.BINARY, reply.opcode(), () -> "expected a reply, got " + reply.text());
        Map<?, ?> action = (Map<?, ?>) codec.unpack(reply.payload());
        return ((NdArray) ((Map<?, ?>) action.get("echo")).get("state")).getFloat(0);
    }

    private static void awaitOwned(PolicyServer server, int connections) throws InterruptedException {
        assertTrue(Probes.await(() -> server.ownedConnections() == connections, Duration.ofSeconds(20)),
                "expected " + connections + " connections on the server's I/O loop, found " + server.ownedConnections());
    }

    @Test
    void requestsPipelinedBehindTheHandshakeAreAnsweredInOrder() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        // Many connections, so that the two frames fall on either side of the hand-over in some.
        for (int c = 0; c < 20; c++) {
            try (WireSocket w = WireSocket.tcp(wire, server.port())) {
                ByteArrayOutputStream burst = new ByteArrayOutputStream();
                burst.write(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
                burst.write(WireSocket.frame(WireSocket.BINARY, step(c + 0.25f), true));
                burst.write(WireSocket.frame(WireSocket.BINARY, step(c + 0.5f), true));
                w.write(burst.toByteArray());
                assertTrue(w.readHttpHead().startsWith("HTTP/1.1 101"));
                assertEquals(WireSocket.BINARY, w.readFrame().opcode(), "the metadata first");
                assertEquals(c + 0.25f, echoedTag(w.readMessage()));
                assertEquals(c + 0.5f, echoedTag(w.readMessage()));
                awaitOwned(server, 1);
                w.sendFrame(WireSocket.BINARY, step(c + 0.75f));
                assertEquals(c + 0.75f, echoedTag(w.readMessage()), "and the loop reads what follows");
            }
            assertTrue(Probes.await(() -> server.acceptedConnections() == 0, Duration.ofSeconds(20)));
        }
    }

    @Test
    void aReplyLargerThanTheSocketBufferReachesASlowReaderWhole() throws Exception {
        byte[] blob = new byte[6 << 20];
        new Random(3).nextBytes(blob);
        Policy policy = obs -> Map.of("blob", blob);
        PolicyServer server = open.serve(wire, PolicyServer.builder(policy));
        WireSocket w = open.add(WireSocket.open(wire, server.port()));
        w.socket.setReceiveBufferSize(32 << 10);
        awaitOwned(server, 1);
        w.sendFrame(WireSocket.BINARY, step(1));
        Thread.sleep(300); // the socket buffers fill; the rest of the reply waits in the writer
        assertTrue(server.connectionCount() == 1, "a reply waiting for its reader is within the bounds");
        WireSocket.Frame reply = w.readMessage();
        assertNotNull(reply);
        Map<?, ?> action = (Map<?, ?>) codec.unpack(reply.payload());
        assertArrayEquals(blob, (byte[]) action.get("blob"));
        w.sendFrame(WireSocket.BINARY, step(2));
        assertNotNull(w.readMessage(), "the next request is answered too");
    }

    @Test
    void pingsOnOwnedConnectionsAreAnsweredWithTheirPayload() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = open.add(WireSocket.open(wire, server.port()));
        awaitOwned(server, 1);
        byte[] payload = "are you there".getBytes(StandardCharsets.US_ASCII);
        w.sendFrame(WireSocket.PING, payload);
        WireSocket.Frame pong = w.readFrame();
        assertEquals(WireSocket.PONG, pong.opcode());
        assertArrayEquals(payload, pong.payload());
        w.sendFrame(WireSocket.BINARY, step(3));
        assertEquals(3f, echoedTag(w.readMessage()));
    }

    @Test
    void aCloseFromTheClientIsAnsweredAndTheSocketClosed() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = open.add(WireSocket.open(wire, server.port()));
        awaitOwned(server, 1);
        w.sendFrame(WireSocket.CLOSE, new byte[] {0x03, (byte) 0xe8}); // 1000
        WireSocket.Frame answer = w.readFrame();
        assertEquals(WireSocket.CLOSE, answer.opcode());
        assertEquals(1000, answer.closeCode());
        assertTrue(w.closedWithin(Duration.ofSeconds(20)), "the server closes the socket after its close frame");
        assertTrue(Probes.await(() -> server.acceptedConnections() == 0, Duration.ofSeconds(20)));
    }

    @Test
    void aCloseFromTheServerSaysWhyThenClosesTheSocket() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        WireSocket w = open.add(WireSocket.open(wire, server.port()));
        awaitOwned(server, 1);
        w.sendFrame(WireSocket.TEXT, "not msgpack".getBytes(StandardCharsets.US_ASCII));
        WireSocket.Frame why = w.readFrame();
        assertEquals(WireSocket.TEXT, why.opcode());
        assertTrue(why.text().contains("binary"), why.text());
        WireSocket.Frame close = w.readFrame();
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertEquals(1011, close.closeCode());
        assertTrue(w.closedWithin(Duration.ofSeconds(20)));
        Probes.assertServes(server);
    }

    @Test
    void aConnectionClosedPastABoundIsCountedOutOnce() throws Exception {
        // A bound closes with a close frame and cuts the socket a second later whatever the
        // client does: both paths reach the library's close, which must count the connection once.
        TestPolicies.Gated gated = new TestPolicies.Gated();
        PolicyServer server = open.serve(wire, PolicyServer.builder(gated).maxQueuedRequests(2));
        WireSocket w = open.add(WireSocket.open(wire, server.port()));
        awaitOwned(server, 1);
        ByteArrayOutputStream burst = new ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) {
            burst.write(WireSocket.frame(WireSocket.BINARY, step(i), true));
        }
        w.write(burst.toByteArray());
        WireSocket.Frame close = w.readMessage();
        assertEquals(WireSocket.CLOSE, close.opcode());
        assertEquals(1008, close.closeCode());
        assertTrue(w.closedWithin(Duration.ofSeconds(20)));
        gated.release.countDown();
        assertTrue(Probes.await(() -> server.acceptedConnections() == 0, Duration.ofSeconds(20)));
        Thread.sleep(1500); // past the second path's cut
        assertEquals(0, server.acceptedConnections(), "counted out once");
    }

    @Test
    void closingTheServerClosesOwnedConnectionsWith1001() throws Exception {
        PolicyServer server = wire.on(PolicyServer.builder(new TestPolicies.Echo())).host("127.0.0.1").port(0).build().start();
        try (WireSocket w = WireSocket.open(wire, server.port())) {
            awaitOwned(server, 1);
            server.close();
            WireSocket.Frame close = w.readMessage();
            assertEquals(WireSocket.CLOSE, close.opcode());
            assertEquals(1001, close.closeCode());
            assertTrue(w.closedWithin(Duration.ofSeconds(20)));
        } finally {
            server.close();
        }
    }

    @Test
    void theIdleCheckClosesASilentPeerAndKeepsALiveOne() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()).pingInterval(Duration.ofSeconds(2)));
        RawClient live = RawClient.connect(wire, server.port()); // answers pings by itself
        open.add(live::closeBlocking);
        live.nextBinary();
        WireSocket silent = open.add(WireSocket.open(wire, server.port())); // reads nothing, answers nothing
        awaitOwned(server, 2);
        assertTrue(Probes.await(() -> server.connectionCount() == 1, Duration.ofSeconds(30)),
                "the peer that answers no ping is closed");
        assertTrue(live.isOpen(), "the peer that answers pings is kept");
        live.send(step(4));
        assertEquals(4f, ((NdArray) ((Map<?, ?>) ((Map<?, ?>) codec.unpack(live.nextBinary())).get("echo"))
                .get("state")).getFloat(0));
        silent.close();
    }

    @Test
    void oneLoopServesManyConnections() throws Exception {
        PolicyServer server = open.serve(wire, PolicyServer.builder(new TestPolicies.Echo()));
        List<WireSocket> sockets = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            sockets.add(open.add(WireSocket.open(wire, server.port())));
        }
        awaitOwned(server, 64);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < sockets.size(); i++) {
                sockets.get(i).sendFrame(WireSocket.BINARY, step(i * 10 + round));
            }
            for (int i = 0; i < sockets.size(); i++) {
                assertEquals(i * 10 + round, echoedTag(sockets.get(i).readMessage()));
            }
        }
    }
}
