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
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.webpolicy.transport.ClientOptions;

/**
 * The opening of a client connection, on its reader thread: the TCP connection, TLS for
 * {@code wss://} (the JDK's {@link SSLSocket} layered on the channel, host name verified), then the HTTP upgrade ({@link ClientUpgrade}); each step
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
            SSLSocket ssl = (SSLSocket) options.sslContext().getSocketFactory().createSocket(socket, uri.getHost(), port, true);
            SSLParameters parameters = ssl.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(parameters);
            ssl.startHandshake();
            in = ssl.getInputStream();
            out = ssl.getOutputStream();
            writer.attach(channel, out);
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
