package org.webpolicy.record;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.webpolicy.transport.ExchangeTap;
import org.webpolicy.transport.protocol.Headers;

/** A server's {@link ExchangeTap} that records into a {@link Recorder}: one recorded connection per robot address. */
final class ServerTap implements ExchangeTap {

    /** What our server's handshake tells a client: envelopes welcome, request ids echoed. */
    private static final java.util.Map<String, String> OUR_SERVER_HANDSHAKE =
            java.util.Map.of(Headers.PROTOCOL, Headers.ENVELOPE, Headers.REQUEST_ID, Headers.ECHO);

    private final Recorder recorder;
    private final ConcurrentHashMap<SocketAddress, Long> connections = new ConcurrentHashMap<>();

    ServerTap(Recorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, List<ByteBuffer> reply,
            String failure, long receivedNanos, long doneNanos) {
        long connection = connections.computeIfAbsent(robot,
                r -> recorder.connectionOpened(String.valueOf(r), OUR_SERVER_HANDSHAKE, List.of(metadata)));
        if (failure != null) {
            recorder.failed(connection, List.of(request), failure, receivedNanos, doneNanos);
            connections.remove(robot); // the server closes a connection whose request failed
        } else {
            recorder.exchanged(connection, List.of(request), reply, receivedNanos, doneNanos);
        }
    }

    @Override
    public void exchanged(SocketAddress robot, ByteBuffer metadata, ByteBuffer request, Runnable requestDone,
            List<ByteBuffer> reply, long receivedNanos, long doneNanos) {
        long connection = connections.computeIfAbsent(robot,
                r -> recorder.connectionOpened(String.valueOf(r), OUR_SERVER_HANDSHAKE, List.of(metadata)));
        // The writer runs the lease once the request (and the reply, which may be a view of it) is written or dropped.
        recorder.exchanged(connection, List.of(request), requestDone, reply, receivedNanos, doneNanos);
    }
}
