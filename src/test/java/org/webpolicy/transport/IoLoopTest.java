package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.Handshakedata;
import org.junit.jupiter.api.Test;

/**
 * The I/O loop on its own, with a connection handed over as the server hands one over: an Error
 * while decoding on the loop (out of memory, say) reports the server down, as one on the
 * library's threads does, and the loop's connections are closed.
 */
class IoLoopTest {

    /** The library's side of one connection: throws {@code thrown} on the first binary message. */
    private static final class Listener extends WebSocketAdapter {
        private final Error thrown;
        private final InetSocketAddress address = new InetSocketAddress("127.0.0.1", 1);

        Listener(Error thrown) {
            this.thrown = thrown;
        }

        @Override
        public void onWebsocketMessage(WebSocket conn, String message) {
        }

        @Override
        public void onWebsocketMessage(WebSocket conn, ByteBuffer blob) {
            throw thrown;
        }

        @Override
        public void onWebsocketOpen(WebSocket conn, Handshakedata d) {
        }

        @Override
        public void onWebsocketClose(WebSocket ws, int code, String reason, boolean remote) {
        }

        @Override
        public void onWebsocketClosing(WebSocket ws, int code, String reason, boolean remote) {
        }

        @Override
        public void onWebsocketCloseInitiated(WebSocket ws, int code, String reason) {
        }

        @Override
        public void onWebsocketError(WebSocket conn, Exception ex) {
        }

        @Override
        public void onWriteDemand(WebSocket conn) {
        }

        @Override
        public InetSocketAddress getLocalSocketAddress(WebSocket conn) {
            return address;
        }

        @Override
        public InetSocketAddress getRemoteSocketAddress(WebSocket conn) {
            return address;
        }
    }

    @Test
    void anErrorWhileDecodingOnTheLoopReportsTheServerDownAndClosesItsConnections() throws Exception {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space (test)");
        BlockingQueue<Throwable> fatal = new ArrayBlockingQueue<>(4);
        try (ServerSocketChannel listener = ServerSocketChannel.open();
                Selector librarySelector = Selector.open()) {
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            try (WireSocket client = WireSocket.tcp(((InetSocketAddress) listener.getLocalAddress()).getPort());
                    SocketChannel accepted = listener.accept()) {
                accepted.configureBlocking(false);
                OwnedSocket conn = new OwnedSocket(new Listener(oom), List.of(new WireDraft(1 << 20)));
                conn.setSelectionKey(accepted.register(librarySelector, SelectionKey.OP_READ, conn));
                conn.setChannel(accepted);
                // The handshake as the library's decoder thread decodes it; its answer waits in the
                // library's queue and must reach the client through our writer.
                conn.decode(ByteBuffer.wrap(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII)));
                assertTrue(conn.isOpen());
                IoLoop loop = new IoLoop("webpolicy-io-test", fatal::add);
                try {
                    assertTrue(conn.handOver(loop));
                    assertTrue(client.readHttpHead().startsWith("HTTP/1.1 101"), "the handshake answer moved with the socket");
                    client.sendFrame(WireSocket.BINARY, new byte[] {1, 2, 3});
                    assertSame(oom, fatal.poll(20, TimeUnit.SECONDS), "the loop's Error reaches the server");
                    assertTrue(client.closedWithin(Duration.ofSeconds(20)), "and the loop's connections are closed");
                    assertEquals(0, fatal.size());
                } finally {
                    loop.close();
                }
            }
        }
    }
}
