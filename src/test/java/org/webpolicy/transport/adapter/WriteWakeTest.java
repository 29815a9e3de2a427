package org.webpolicy.transport.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft_6455;
import org.junit.jupiter.api.Test;

/**
 * The write wake-up restores write interest the selector withdrew while a frame was being queued:
 * a selector loop that, as the library's, reads every readable key's channel, finds the
 * placeholder's key readable after {@link WriteWake#demand} and, reading it, asks for write
 * readiness for the connection whose frame waits, and for no connection whose queue is empty.
 */
class WriteWakeTest {

    private static final WebSocketAdapter NO_LISTENER = new WebSocketAdapter() {
        @Override
        public void onWebsocketMessage(org.java_websocket.WebSocket conn, String message) {
        }

        @Override
        public void onWebsocketMessage(org.java_websocket.WebSocket conn, ByteBuffer blob) {
        }

        @Override
        public void onWebsocketOpen(org.java_websocket.WebSocket conn, org.java_websocket.handshake.Handshakedata d) {
        }

        @Override
        public void onWebsocketClose(org.java_websocket.WebSocket ws, int code, String reason, boolean remote) {
        }

        @Override
        public void onWebsocketClosing(org.java_websocket.WebSocket ws, int code, String reason, boolean remote) {
        }

        @Override
        public void onWebsocketCloseInitiated(org.java_websocket.WebSocket ws, int code, String reason) {
        }

        @Override
        public void onWebsocketError(org.java_websocket.WebSocket conn, Exception ex) {
        }

        @Override
        public void onWriteDemand(org.java_websocket.WebSocket conn) {
        }

        @Override
        public InetSocketAddress getLocalSocketAddress(org.java_websocket.WebSocket conn) {
            return null;
        }

        @Override
        public InetSocketAddress getRemoteSocketAddress(org.java_websocket.WebSocket conn) {
            return null;
        }
    };

    /** One pass of a library-like loop: every readable key's channel is read, as doRead does. */
    private static void selectOnce(Selector selector) throws Exception {
        selector.select(2000);
        for (SelectionKey key : selector.selectedKeys()) {
            if (key.isValid() && key.isReadable() && key.attachment() instanceof WebSocketImpl conn) {
                assertEquals(0, conn.getChannel().read(ByteBuffer.allocate(16)), "the placeholder gives no bytes");
            }
        }
        selector.selectedKeys().clear();
    }

    @Test
    void writeInterestWithdrawnWhileAFrameWaitsIsAskedAgainOnTheSelectorThread() throws Exception {
        try (Selector selector = Selector.open();
                ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel a = SocketChannel.open(listener.getLocalAddress());
                SocketChannel b = SocketChannel.open(listener.getLocalAddress());
                WriteWake wake = new WriteWake()) {
            a.configureBlocking(false);
            b.configureBlocking(false);
            WebSocketImpl waiting = new WebSocketImpl(NO_LISTENER, new Draft_6455());
            WebSocketImpl idle = new WebSocketImpl(NO_LISTENER, new Draft_6455());
            waiting.setSelectionKey(a.register(selector, SelectionKey.OP_READ, waiting));
            idle.setSelectionKey(b.register(selector, SelectionKey.OP_READ, idle));
            assertFalse(wake.demand(waiting), "no pipe before the selector is known");
            wake.register(selector, NO_LISTENER);

            // The lost write: a frame is queued and write interest is off, as the selector left it.
            waiting.outQueue.put(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertTrue(wake.demand(waiting));
            assertTrue(wake.demand(idle));
            selectOnce(selector);
            assertEquals(SelectionKey.OP_READ | SelectionKey.OP_WRITE, waiting.getSelectionKey().interestOps());
            assertEquals(SelectionKey.OP_READ, idle.getSelectionKey().interestOps(), "nothing waits: no write interest");

            // Again after the selector withdrew interest once more: each demand wakes it anew.
            waiting.getSelectionKey().interestOps(SelectionKey.OP_READ);
            assertTrue(wake.demand(waiting));
            selectOnce(selector);
            assertEquals(SelectionKey.OP_READ | SelectionKey.OP_WRITE, waiting.getSelectionKey().interestOps());
        }
    }
}
