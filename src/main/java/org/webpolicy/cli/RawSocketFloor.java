package org.webpolicy.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor the transport is measured against: a ping-pong of raw bytes over loopback TCP with
 * the same request and reply sizes as the WebSocket frames, no framing, no codec, blocking NIO
 * channels and direct buffers reused for every message, one server thread per connection. What
 * is left between it and the transport is what the transport itself costs.
 */
final class RawSocketFloor implements AutoCloseable {

    private final int requestBytes;
    private final int replyBytes;
    private final ServerSocketChannel listener;
    private final List<SocketChannel> open = new ArrayList<>();
    private final Thread acceptor;

    /** Listens on a free loopback port; each connection answers {@code replyBytes} per {@code requestBytes}. */
    RawSocketFloor(int requestBytes, int replyBytes) throws IOException {
        this.requestBytes = requestBytes;
        this.replyBytes = replyBytes;
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        acceptor = new Thread(this::accept, "floor-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel ch = listener.accept();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                synchronized (open) {
                    open.add(ch);
                }
                Thread t = new Thread(() -> serve(ch), "floor-server");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void serve(SocketChannel ch) {
        ByteBuffer in = ByteBuffer.allocateDirect(requestBytes);
        ByteBuffer out = ByteBuffer.allocateDirect(replyBytes);
        try {
            while (true) {
                in.clear();
                if (!readFully(ch, in)) {
                    return;
                }
                out.clear();
                writeFully(ch, out);
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** A client connection of the floor: {@link #roundTrip} sends a request and reads its reply. */
    final class Client implements AutoCloseable {
        private final SocketChannel ch;
        private final ByteBuffer out = ByteBuffer.allocateDirect(requestBytes);
        private final ByteBuffer in = ByteBuffer.allocateDirect(replyBytes);

        Client() throws IOException {
            ch = SocketChannel.open(listener.getLocalAddress());
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }

        void roundTrip() {
            try {
                out.clear();
                writeFully(ch, out);
                in.clear();
                if (!readFully(ch, in)) {
                    throw new IOException("the floor server closed the connection");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    Client client() throws IOException {
        return new Client();
    }

    private static boolean readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        synchronized (open) {
            for (SocketChannel ch : open) {
                ch.close();
            }
        }
    }
}
