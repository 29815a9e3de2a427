package org.webpolicy.transport.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Map;
import org.webpolicy.transport.ClientOptions;

/**
 * The opening of a client connection, on its reader thread: the TCP connection, TLS for
 * {@code wss://} ({@link ClientTls}), then the HTTP upgrade ({@link ClientUpgrade}); each step
 * bounded by the attempt's time, should the caller not cut the connection first.
 */
final class ClientOpening {

    /**
     * What an opening gave.
     *
     * @param response the server's 101
     * @param in where the connection's plaintext is read from from now on
     */
    record Opened(ClientUpgrade.Response response, InputStream in) {
    }

    private ClientOpening() {
    }

    /**
     * Connects {@code channel} to {@code uri}'s server, runs TLS when {@code tls}, attaches
     * {@code writer} and performs the upgrade; leaves the bytes read past the upgrade's answer in
     * {@code buffer} and the socket waiting at most {@code pingInterval} per read.
     *
     * @throws IOException when any step failed or ran out of {@code connectTimeoutMillis}
     */
    static Opened open(SocketChannel channel, URI uri, int port, boolean tls, ClientOptions options,
            Map<String, String> headers, int connectTimeoutMillis, ClientFrameWriter writer, ByteBuffer buffer)
            throws IOException {
        Socket socket = channel.socket();
        socket.setTcpNoDelay(true);
        socket.setReceiveBufferSize(ClientOptions.READ_BUFFER_BYTES);
        socket.connect(new InetSocketAddress(uri.getHost(), port), connectTimeoutMillis);
        // A bound on the TLS handshake and the upgrade, should the caller not cut first.
        socket.setSoTimeout(connectTimeoutMillis);
        InputStream in;
        OutputStream out;
        if (tls) {
            ClientTls t = new ClientTls(channel, options.sslContext(), uri.getHost(), port);
            t.handshake();
            in = t.input();
            out = t.output();
            writer.attach(channel, t);
        } else {
            in = socket.getInputStream();
            out = socket.getOutputStream();
            writer.attach(channel, null);
        }
        ClientUpgrade.Response response = ClientUpgrade.perform(in, out, uri, headers, buffer);
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, options.pingInterval().toMillis())));
        return new Opened(response, in);
    }
}
