package org.webpolicy.transport;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;

/** A bare WebSocket client for tests: sends whatever bytes it is given and records every event. */
final class RawClient extends WebSocketClient {

    /** A frame or a close, in arrival order. */
    record Event(byte[] binary, String text, Integer closeCode, String closeReason) {
    }

    final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    volatile ServerHandshake handshake;

    RawClient(int port) {
        this(port, Map.of());
    }

    RawClient(int port, Map<String, String> headers) {
        this(Wire.WS, port, headers);
    }

    RawClient(Wire wire, int port, Map<String, String> headers) {
        super(URI.create(wire.uri(port)), headers);
        if (wire == Wire.WSS) {
            setSocketFactory(TestTls.get().client.getSocketFactory());
        }
    }

    static RawClient connect(int port) throws InterruptedException {
        return connect(Wire.WS, port);
    }

    static RawClient connect(Wire wire, int port) throws InterruptedException {
        RawClient c = new RawClient(wire, port, Map.of());
        if (!c.connectBlocking(10, TimeUnit.SECONDS)) {
            throw new AssertionError("raw client could not connect to port " + port);
        }
        return c;
    }

    Event next() throws InterruptedException {
        Event e = events.poll(20, TimeUnit.SECONDS);
        if (e == null) {
            throw new AssertionError("no event within 20 s");
        }
        return e;
    }

    byte[] nextBinary() throws InterruptedException {
        Event e = next();
        if (e.binary == null) {
            throw new AssertionError("expected a binary frame, got " + e);
        }
        return e.binary;
    }

    @Override
    public void onOpen(ServerHandshake h) {
        handshake = h;
    }

    @Override
    public void onMessage(String message) {
        events.add(new Event(null, message, null, null));
    }

    @Override
    public void onMessage(ByteBuffer bytes) {
        byte[] b = new byte[bytes.remaining()];
        bytes.get(b);
        events.add(new Event(b, null, null, null));
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
        events.add(new Event(null, null, code, reason));
    }

    @Override
    public void onError(Exception ex) {
    }
}
