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
import org.webpolicy.transport.adapter.IoLoop;
import org.webpolicy.transport.adapter.OwnedSocket;
import org.webpolicy.transport.adapter.WireDraft;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.server.ClientLog;
import org.webpolicy.transport.server.ServerConnection;
import org.webpolicy.transport.server.ServerWire;

/**
 * The I/O loop on its own, with a connection handed over as the server hands one over: running
 * out of memory while decoding a connection's bytes cuts that connection and the loop serves the
 * others; any other Error while decoding on the loop reports the server down, as one on the
 * library's threads does, and the loop's connections are closed.
 */
class IoLoopTest {

    /**
     * The library's side of one connection, and the receiver of its messages: throws
     * {@code thrown} on each binary message, or records it when null.
     */
    private static final class Listener extends WebSocketAdapter implements ServerWire.Receiver {
        private final Error thrown;
        private final InetSocketAddress address = new InetSocketAddress("127.0.0.1", 1);
        final BlockingQueue<ByteBuffer> messages = new ArrayBlockingQueue<>(4);

        Listener(Error thrown) {
            this.thrown = thrown;
        }

        @Override
        public void onWebsocketMessage(WebSocket conn, String message) {
        }

        @Override
        public void onWebsocketMessage(WebSocket conn, ByteBuffer blob) {
        }

        @Override
        public void binary(ServerWire wire, ByteBuffer message, long prepaid) {
            if (thrown != null) {
                throw thrown;
            }
            messages.add(message);
        }

        @Override
        public void text(ServerWire wire) {
        }

        @Override
        public void limit(ServerWire wire, int code, String reason, boolean now) {
            wire.cut(code, reason);
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

    /** A connection accepted from {@code listener}, its handshake decoded as the library's decoder thread does. */
    private static OwnedSocket accept(ServerSocketChannel listener, Selector librarySelector, Listener library)
            throws Exception {
        SocketChannel accepted = listener.accept();
        accepted.configureBlocking(false);
        OwnedSocket conn = new OwnedSocket(library, List.of(new WireDraft(1 << 20)));
        conn.setSelectionKey(accepted.register(librarySelector, SelectionKey.OP_READ, conn));
        conn.setChannel(accepted);
        conn.wire(new ServerWire(conn, new ServerConnection(Runnable::run), library, 1 << 20, 1 << 20,
                new InboundBudget(1 << 24), new ClientLog()));
        // The handshake as the library's decoder thread decodes it; its answer waits in the
        // library's queue and must reach the client through our writer.
        conn.decode(ByteBuffer.wrap(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII)));
        assertTrue(conn.isOpen());
        conn.openWire();
        return conn;
    }

    @Test
    void anErrorWhileDecodingOnTheLoopReportsTheServerDownAndClosesItsConnections() throws Exception {
        InternalError error = new InternalError("a JVM error (test)");
        BlockingQueue<Throwable> fatal = new ArrayBlockingQueue<>(4);
        try (ServerSocketChannel listener = ServerSocketChannel.open();
                Selector librarySelector = Selector.open()) {
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            try (WireSocket client = WireSocket.tcp(((InetSocketAddress) listener.getLocalAddress()).getPort())) {
                OwnedSocket conn = accept(listener, librarySelector, new Listener(error));
                IoLoop loop = new IoLoop("webpolicy-io-test", fatal::add);
                try {
                    assertTrue(conn.handOver(loop));
                    assertTrue(client.readHttpHead().startsWith("HTTP/1.1 101"), "the handshake answer moved with the socket");
                    client.sendFrame(WireSocket.BINARY, new byte[] {1, 2, 3});
                    assertSame(error, fatal.poll(20, TimeUnit.SECONDS), "the loop's Error reaches the server");
                    assertTrue(client.closedWithin(Duration.ofSeconds(20)), "and the loop's connections are closed");
                    assertEquals(0, fatal.size());
                } finally {
                    loop.close();
                }
            }
        }
    }

    @Test
    void runningOutOfMemoryWhileDecodingAConnectionCutsItAndTheLoopServesTheOthers() throws Exception {
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space (test)");
        BlockingQueue<Throwable> fatal = new ArrayBlockingQueue<>(4);
        try (ServerSocketChannel listener = ServerSocketChannel.open();
                Selector librarySelector = Selector.open()) {
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            try (WireSocket hostile = WireSocket.tcp(port); WireSocket honest = WireSocket.tcp(port)) {
                OwnedSocket hostileConn = accept(listener, librarySelector, new Listener(oom));
                Listener library = new Listener(null);
                OwnedSocket honestConn = accept(listener, librarySelector, library);
                IoLoop loop = new IoLoop("webpolicy-io-test", fatal::add);
                try {
                    assertTrue(hostileConn.handOver(loop));
                    assertTrue(honestConn.handOver(loop));
                    assertTrue(hostile.readHttpHead().startsWith("HTTP/1.1 101"));
                    assertTrue(honest.readHttpHead().startsWith("HTTP/1.1 101"));
                    hostile.sendFrame(WireSocket.BINARY, new byte[] {1, 2, 3});
                    assertTrue(hostile.closedWithin(Duration.ofSeconds(20)), "the connection whose bytes ran out of memory is cut");
                    honest.sendFrame(WireSocket.BINARY, new byte[] {4, 5});
                    ByteBuffer got = library.messages.poll(20, TimeUnit.SECONDS);
                    assertTrue(got != null && got.remaining() == 2 && got.get(0) == 4, "the loop still serves the others");
                    assertEquals(0, fatal.size(), "the server was not told to go down: " + fatal);
                    assertTrue(honestConn.isOpen());
                } finally {
                    loop.close();
                }
            }
        }
    }
}
