package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The TCP socket of a {@code ws://} client connection: a {@link SocketChannel} that the WebSocket
 * library uses as a plain socket (connect, options, its read stream, its writes of the handshake,
 * pings, pongs and the close frame), and that the connection writes its request frames to from a
 * direct buffer with {@link #writeFully}: a socket's stream first copies every heap array it is
 * given into a temporary direct buffer, a second copy of a camera observation per step.
 *
 * <p>Every write, the library's and ours, holds one lock for its whole frame, so frames never
 * interleave whatever the channel does with a long write. The library's writes run on a thread of
 * ours, not on the library's writer thread, because the library interrupts that thread when the
 * connection closes and an interrupt closes a channel in the middle of a write: the close frame
 * being written would be lost (a socket's stream ignores interrupts).
 *
 * <p>Only what the library and the connection call is delegated to the channel's socket.
 */
public final class ChannelSocket extends Socket {

    /** Runs the library's writes; a thread lives on briefly after its last write. */
    private static final ExecutorService LIBRARY_WRITES = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "webpolicy-client-control-write");
        t.setDaemon(true);
        return t;
    });

    private final SocketChannel channel;
    private final Socket socket;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final OutputStream libraryWrites = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer frame = ByteBuffer.wrap(b, off, len);
            awaitUninterruptibly(LIBRARY_WRITES.submit(() -> {
                writeFully(frame);
                return null;
            }));
        }
    };

    /**
     * An unconnected socket.
     *
     * @throws IOException when the channel cannot be opened
     */
    ChannelSocket() throws IOException {
        this.channel = SocketChannel.open();
        this.socket = channel.socket();
    }

    /**
     * Writes all of {@code frame} (from its position to its limit) on the calling thread, no
     * other frame in between. Interrupting the calling thread closes the connection.
     *
     * @throws IOException when the connection fails or is closed during the write
     */
    void writeFully(ByteBuffer frame) throws IOException {
        writeLock.lock();
        try {
            while (frame.hasRemaining()) {
                channel.write(frame);
            }
        } finally {
            writeLock.unlock();
        }
    }

    private static void awaitUninterruptibly(Future<?> write) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    write.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true; // the library's close: the frame being written still goes
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new InterruptedIOException("write failed: " + e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public SocketChannel getChannel() {
        return channel;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        if (!isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        return libraryWrites;
    }

    @Override
    public InputStream getInputStream() throws IOException {
        return socket.getInputStream();
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        socket.connect(endpoint);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        socket.connect(endpoint, timeout);
    }

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        socket.bind(bindpoint);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public boolean isConnected() {
        return socket.isConnected();
    }

    @Override
    public boolean isBound() {
        return socket.isBound();
    }

    @Override
    public boolean isClosed() {
        return socket.isClosed();
    }

    @Override
    public void shutdownInput() throws IOException {
        socket.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public boolean isInputShutdown() {
        return socket.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
        return socket.isOutputShutdown();
    }

    @Override
    public InetAddress getInetAddress() {
        return socket.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return socket.getLocalAddress();
    }

    @Override
    public int getPort() {
        return socket.getPort();
    }

    @Override
    public int getLocalPort() {
        return socket.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return socket.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return socket.getLocalSocketAddress();
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        socket.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return socket.getTcpNoDelay();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        socket.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return socket.getReuseAddress();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        socket.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return socket.getReceiveBufferSize();
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        socket.setSendBufferSize(size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return socket.getSendBufferSize();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        socket.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return socket.getSoTimeout();
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        socket.setKeepAlive(on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return socket.getKeepAlive();
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        socket.setSoLinger(on, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return socket.getSoLinger();
    }

    @Override
    public String toString() {
        return socket.toString();
    }
}
