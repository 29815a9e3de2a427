package org.webpolicy.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import javax.net.ssl.SSLSocket;

/**
 * What a server test runs over: plain {@code ws://} or {@code wss://} with the test certificate
 * ({@link TestTls}). Tests of the server take one as a class parameter and build their servers,
 * clients and raw sockets through it, so the same assertions hold over both.
 */
enum Wire {
    WS, WSS;

    /** What {@code server} serves. */
    static Wire of(PolicyServer server) {
        return server.secure() ? WSS : WS;
    }

    /** The builder, serving TLS when this is {@link #WSS}. */
    PolicyServerBuilder on(PolicyServerBuilder builder) {
        return this == WSS ? builder.sslContext(TestTls.get().server) : builder;
    }

    /** A client builder for a server on this machine's {@code port}. */
    PolicyClientBuilder client(int port) {
        if (this == WS) {
            return PolicyClient.builder().host("127.0.0.1").port(port);
        }
        return PolicyClient.builder().uri("wss://127.0.0.1:" + port).sslContext(TestTls.get().client);
    }

    /** The server's TLS context for a scripted or bare server, or null over {@link #WS}. */
    javax.net.ssl.SSLContext serverTls() {
        return this == WSS ? TestTls.get().server : null;
    }

    /** A client builder, trusting the test certificate over TLS; the address is the caller's to give. */
    PolicyClientBuilder builder() {
        return this == WSS ? PolicyClient.builder().sslContext(TestTls.get().client) : PolicyClient.builder();
    }

    /** The URI of a server on this machine's {@code port}. */
    String uri(int port) {
        return (this == WS ? "ws" : "wss") + "://127.0.0.1:" + port;
    }

    /** A listening socket on a free loopback port; with TLS, the test certificate's. */
    ServerSocket listen() throws IOException {
        if (this == WS) {
            return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        }
        return TestTls.get().server.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    /**
     * A connected socket; with TLS, its TLS handshake done, so what is written next is what the
     * server's WebSocket side reads.
     */
    Socket socket(int port) throws IOException {
        if (this == WS) {
            return new Socket("127.0.0.1", port);
        }
        SSLSocket s = (SSLSocket) TestTls.get().client.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout((int) Duration.ofSeconds(20).toMillis());
        s.startHandshake();
        return s;
    }
}
