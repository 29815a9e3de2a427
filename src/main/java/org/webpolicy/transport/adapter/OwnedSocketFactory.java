package org.webpolicy.transport.adapter;

import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.drafts.Draft;

/**
 * Makes the library's server connections {@link OwnedSocket}s, whose sockets we take over after
 * the handshake; with TLS, each socket is wrapped in a {@link TlsChannel} first, which the library
 * reads and writes for the HTTP upgrade and the I/O loop after the hand-over.
 */
public final class OwnedSocketFactory implements WebSocketServerFactory {

    private final SSLContext tls;

    /**
     * A factory for plain sockets ({@code tls} null) or TLS ones.
     *
     * @param tls the server's TLS context, or null
     */
    OwnedSocketFactory(SSLContext tls) {
        this.tls = tls;
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
        return new OwnedSocket(adapter, List.of(draft));
    }

    @Override
    public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
        return new OwnedSocket(adapter, drafts);
    }

    @Override
    public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) {
        if (tls == null) {
            return channel;
        }
        SSLEngine engine = tls.createSSLEngine();
        engine.setUseClientMode(false);
        return new TlsChannel(channel, engine, key);
    }

    @Override
    public void close() {
        // nothing held
    }
}
