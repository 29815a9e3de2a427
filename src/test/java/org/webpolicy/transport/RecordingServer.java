package org.webpolicy.transport;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import org.java_websocket.WebSocket;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.server.DefaultSSLWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;

/**
 * A bare peer standing in for a Python server: it knows none of our headers, sends an empty
 * metadata frame, records every handshake and request as received, and answers each request with
 * {@link #reply}. Tests compare what our client put on the wire with what a Python peer expects.
 */
final class RecordingServer extends WebSocketServer {
    final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();
    final BlockingQueue<ClientHandshake> handshakes = new LinkedBlockingQueue<>();
    final CountDownLatch started = new CountDownLatch(1);
    volatile byte[] reply;

    RecordingServer(byte[] reply) {
        this(Wire.WS, reply);
    }

    /** A recorder over {@code wire}: with TLS, serving the test certificate. */
    RecordingServer(Wire wire, byte[] reply) {
        super(new InetSocketAddress("127.0.0.1", 0));
        setReuseAddr(true);
        if (wire == Wire.WSS) {
            setWebSocketFactory(new DefaultSSLWebSocketServerFactory(TestTls.get().server));
        }
        this.reply = reply;
    }

    @Override
    public void onOpen(WebSocket conn, ClientHandshake handshake) {
        handshakes.add(handshake);
        conn.send(new byte[] {(byte) 0x80}); // the empty metadata map
    }

    @Override
    public void onMessage(WebSocket conn, ByteBuffer message) {
        byte[] b = new byte[message.remaining()];
        message.get(b);
        requests.add(b);
        conn.send(reply);
    }

    @Override
    public void onMessage(WebSocket conn, String message) {
    }

    @Override
    public void onClose(WebSocket conn, int code, String reason, boolean remote) {
    }

    @Override
    public void onError(WebSocket conn, Exception ex) {
    }

    @Override
    public void onStart() {
        started.countDown();
    }
}
