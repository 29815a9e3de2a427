package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.client.ConnectFailure;
import org.webpolicy.transport.client.ClientUpgrade;

/**
 * The client's own connection code against a hand-written server: the upgrade refused, garbled
 * or never answered, pings answered with the same payload, a server that answers nothing cut by
 * the liveness pings, the close handshake, and a server that stops reading while a request is
 * written. {@link ClientTransportWssTest} runs the same over TLS.
 */
class ClientTransportTest {

    private final TestResources open = new TestResources();

    /** The scheme these tests run over. */
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WS;
    }

    @AfterEach
    void closeAll() throws Exception {
        open.close();
    }

    /** A listening socket, TLS over wss; each test plays the server by hand. */
    private ServerSocket listen() throws IOException {
        ServerSocket s = scheme() == TestTls.Scheme.WSS
                ? TestTls.get().server.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress())
                : new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(s);
        return s;
    }

    private PolicyClientBuilder client(ServerSocket server) {
        return scheme().client(server.getLocalPort()).protocolMode(ProtocolMode.RAW).connectTimeout(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(10)).reconnect(false);
    }

    /** Accepts one connection and answers every upgrade on it with {@code answer}. */
    private static CompletableFuture<String> answerWith(ServerSocket server, String answer) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(20_000);
                String head = WireSocket.readHttpHead(s.getInputStream());
                s.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                Thread.sleep(200);
                return head;
            } catch (IOException | InterruptedException e) {
                return null;
            }
        });
    }

    private static String connectFailure(PolicyClientBuilder builder) {
        try (PolicyClient client = builder.build()) {
            return assertThrows(PolicyConnectionException.class, client::connect).getMessage();
        }
    }

    @Test
    void aRefusedUpgradeNamesTheStatus() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<String> head = answerWith(server,
                "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n");
        String message = connectFailure(client(server).apiKey("secret-key"));
        assertTrue(message.contains("HTTP/1.1 426 Upgrade Required"), message);
        assertTrue(message.contains("1 attempt"), "a 426 is not tried again: " + message);
        String request = head.get(20, TimeUnit.SECONDS);
        assertNotNull(request);
        assertTrue(request.startsWith("GET / HTTP/1.1\r\n"), request);
        assertTrue(request.contains("\r\nHost: 127.0.0.1:" + server.getLocalPort() + "\r\n"), request);
        assertTrue(request.contains("\r\nUpgrade: websocket\r\n") && request.contains("\r\nConnection: Upgrade\r\n")
                && request.contains("\r\nSec-WebSocket-Version: 13\r\n"), request);
        assertTrue(request.contains("\r\nAuthorization: Api-Key secret-key\r\n"), request);
        assertTrue(Pattern.compile("\r\nSec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n").matcher(request).find(), request);
    }

    @Test
    void a401SaysHowToPassTheKey() throws Exception {
        ServerSocket server = listen();
        answerWith(server, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        String message = connectFailure(client(server));
        assertTrue(message.contains(ConnectFailure.refusedKey(false)), message);
    }

    @Test
    void aServerThatIsNotAWebSocketServerIsNamedSo() throws Exception {
        ServerSocket server = listen();
        answerWith(server, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
        String message = connectFailure(client(server));
        assertTrue(message.contains("not a WebSocket server") && message.contains("SSH-2.0"), message);
    }

    @Test
    void aWrongAcceptIsRefused() throws Exception {
        ServerSocket server = listen();
        answerWith(server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        String message = connectFailure(client(server));
        assertTrue(message.contains("wrong Sec-WebSocket-Accept"), message);
    }

    @Test
    void anEndlessAnswerHeadIsRefused() throws Exception {
        ServerSocket server = listen();
        answerWith(server, "HTTP/1.1 101 Switching Protocols\r\nX-Filler: " + "a".repeat(ClientUpgrade.MAX_HEAD_BYTES) + "\r\n\r\n");
        String message = connectFailure(client(server));
        assertTrue(message.contains("no end within " + ClientUpgrade.MAX_HEAD_BYTES + " bytes"), message);
    }

    @Test
    void anUpgradeNeverAnsweredEndsTheAttemptInItsTime() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<Void> silent = CompletableFuture.runAsync(() -> {
            try (Socket s = server.accept()) {
                s.getInputStream().readAllBytes(); // reads the request, answers nothing, until the client leaves
            } catch (IOException e) {
                // the client cut the connection
            }
        });
        String message = connectFailure(client(server).connectTimeout(Duration.ofSeconds(1)));
        assertTrue(message.contains("no handshake within"), message);
        silent.get(20, TimeUnit.SECONDS); // the client closed the socket it gave up on
    }

    @Test
    void aServerThatClosesDuringTheHandshakeIsTriedAgain() throws Exception {
        // A server going away closes connections it has not answered, over TLS in the middle of
        // the TLS handshake: no refusal, so attempts go on until the connect timeout.
        ServerSocket closing = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(closing);
        Thread closer = new Thread(() -> {
            while (!closing.isClosed()) {
                try (Socket s = closing.accept()) {
                    s.getInputStream().read(new byte[64]);
                } catch (IOException e) {
                    // closed: the test is over
                }
            }
        }, "closing-server");
        closer.setDaemon(true);
        closer.start();
        String message;
        try (PolicyClient client = scheme().client(closing.getLocalPort()).connectTimeout(Duration.ofMillis(1500)).build()) {
            message = assertThrows(PolicyConnectionException.class, client::connect).getMessage();
        }
        assertTrue(message.contains("ended during the handshake"), message);
        assertFalse(message.contains(": 1 attempt over"), "tried again: " + message);
    }

    /** Upgrades one accepted connection and sends the metadata frame. */
    private static Peer upgrade(Socket s) throws IOException {
        s.setSoTimeout(20_000);
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        String head = WireSocket.readHttpHead(in);
        Matcher key = Pattern.compile("(?i)Sec-WebSocket-Key: *(\\S+)").matcher(head);
        assertTrue(key.find(), head);
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + ClientUpgrade.accept(key.group(1)) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(ScriptedServer.frame(0x2, new MsgpackCodec().pack(Map.of("server", "by hand"))));
        out.flush();
        return new Peer(s, in, out);
    }

    /** The server's end of one upgraded connection. */
    private record Peer(Socket socket, InputStream in, OutputStream out) {
        void send(int opcode, byte[] payload) throws IOException {
            out.write(ScriptedServer.frame(opcode, payload));
            out.flush();
        }

        /** The client's next frame, unmasked; null when it closed the connection. */
        WireSocket.Frame read() throws IOException {
            int b0;
            try {
                b0 = in.read();
            } catch (SocketException e) {
                return null;
            }
            if (b0 < 0) {
                return null;
            }
            int b1 = in.read();
            assertEquals(0x80, b1 & 0x80, "a client's frames are masked");
            long len = b1 & 0x7f;
            if (len == 126) {
                len = (in.read() << 8) | in.read();
            } else if (len == 127) {
                len = 0;
                for (int i = 0; i < 8; i++) {
                    len = (len << 8) | in.read();
                }
            }
            byte[] mask = in.readNBytes(4);
            byte[] payload = in.readNBytes((int) len);
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= mask[i & 3];
            }
            return new WireSocket.Frame(b0 & 0x0f, payload);
        }
    }

    @Test
    void pingsAreAnsweredWithTheirPayloadAndTheClientPingsAQuietServer() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<PolicyClient> connected = CompletableFuture.supplyAsync(
                () -> open.add(client(server).pingInterval(Duration.ofMillis(300)).build().connect()));
        Peer peer = upgrade(server.accept());
        connected.get(20, TimeUnit.SECONDS);
        byte[] payload = "are you there".getBytes(StandardCharsets.UTF_8);
        peer.send(0x9, payload);
        WireSocket.Frame pong = peer.read();
        assertNotNull(pong);
        assertEquals(0xA, pong.opcode());
        assertArrayEquals(payload, pong.payload());
        // Quiet from here on: the client's own liveness ping comes within an interval or two.
        WireSocket.Frame ping = peer.read();
        assertNotNull(ping);
        assertEquals(0x9, ping.opcode());
        peer.send(0xA, ping.payload());
    }

    @Test
    void aServerThatAnswersNothingIsCutByThePings() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<PolicyClient> connected = CompletableFuture.supplyAsync(
                () -> open.add(client(server).pingInterval(Duration.ofMillis(300)).build().connect()));
        Peer peer = upgrade(server.accept());
        PolicyClient client = connected.get(20, TimeUnit.SECONDS);
        int pings = 0;
        WireSocket.Frame f;
        while ((f = peer.read()) != null && f.opcode() == 0x9) {
            pings++; // never answered
        }
        assertEquals(1, pings, "one unanswered ping, then the cut");
        assertNull(f, "the client cut the connection without a close handshake");
        String lost = client.connectionStats().lastFailure();
        assertNotNull(lost);
        assertTrue(lost.contains("no answer from the server within the ping interval"), lost);
    }

    @Test
    void closingSendsACloseFrameAndEndsWhenTheServerAnswers() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<PolicyClient> connected = CompletableFuture.supplyAsync(
                () -> client(server).build().connect());
        Peer peer = upgrade(server.accept());
        PolicyClient client = connected.get(20, TimeUnit.SECONDS);
        CompletableFuture<Void> closed = CompletableFuture.runAsync(client::close);
        WireSocket.Frame close = peer.read();
        assertNotNull(close);
        assertEquals(0x8, close.opcode());
        assertEquals(1000, ((close.payload()[0] & 0xff) << 8) | (close.payload()[1] & 0xff));
        peer.send(0x8, new byte[] {0x03, (byte) 0xe8});
        closed.get(20, TimeUnit.SECONDS);
        assertNull(peer.read(), "the client closed the TCP connection after the handshake");
    }

    @Test
    void aRequestTheServerDoesNotReadIsCutWithinTheRequestTimeout() throws Exception {
        ServerSocket server = listen();
        CompletableFuture<PolicyClient> connected = CompletableFuture.supplyAsync(
                () -> open.add(client(server).requestTimeout(Duration.ofSeconds(2)).build().connect()));
        Peer peer = upgrade(server.accept()); // and then reads nothing
        PolicyClient client = connected.get(20, TimeUnit.SECONDS);
        int big = 64 << 20; // far more than the kernel buffers between the two hold
        PolicyConnectionException e = assertThrows(PolicyConnectionException.class,
                () -> client.step(Map.of("image", NdArray.ofUint8(new byte[big], big))));
        assertTrue(e.getMessage().contains("not written within the request timeout (2000 ms)"), e.getMessage());
        peer.socket().close();
    }
}
