package org.webpolicy.transport.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.TestTls;

/**
 * The server's TLS channel on its own, against a JDK {@link SSLSocket} peer: the handshake,
 * writes the socket cannot take at once, reads into buffers of every size, the peer closing with
 * and without close_notify, bytes that are not TLS, and a peer that stops reading. The channel is
 * driven as the I/O loop drives it, non-blocking; every wait here has a deadline, so a call that
 * blocked or a loop that never ended fails the test instead of hanging it.
 */
class TlsChannelTest {

    private final ExecutorService peerThreads = Executors.newCachedThreadPool();
    private ServerSocketChannel listener;
    private Selector selector;
    private SocketChannel accepted;
    private TlsChannel tls;

    @BeforeEach
    void listen() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        selector = Selector.open();
    }

    @AfterEach
    void closeAll() throws IOException {
        peerThreads.shutdownNow();
        if (tls != null) {
            tls.close();
        }
        selector.close();
        listener.close();
    }

    /** A TLS peer connected over TCP, its handshake not begun. */
    private SSLSocket peer() throws IOException {
        SSLSocket s = (SSLSocket) TestTls.get().client.getSocketFactory().createSocket("127.0.0.1", listener.socket().getLocalPort());
        s.setSoTimeout(20_000);
        accept();
        return s;
    }

    /** A plain TCP peer, for bytes that are not TLS. */
    private Socket plainPeer() throws IOException {
        Socket s = new Socket("127.0.0.1", listener.socket().getLocalPort());
        s.setSoTimeout(20_000);
        accept();
        return s;
    }

    private void accept() throws IOException {
        accepted = listener.accept();
        accepted.configureBlocking(false);
        accepted.register(selector, SelectionKey.OP_READ);
        SSLEngine engine = TestTls.get().server.createSSLEngine();
        engine.setUseClientMode(false);
        tls = new TlsChannel(accepted, engine, null);
    }

    private static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    }

    /** Reads until {@code dst} is full or the stream ends; waits for the socket between reads. */
    private int readFully(ByteBuffer dst) throws IOException {
        long deadline = deadline();
        int total = 0;
        while (dst.hasRemaining()) {
            int n = tls.read(dst);
            if (n < 0) {
                return total == 0 ? -1 : total;
            }
            total += n;
            assertTrue(System.nanoTime() < deadline, "not filled within 20 s; read " + total);
            if (n == 0) {
                assertFalse(tls.hasBufferedInput(), "a read gave nothing while bytes were said to wait");
                selector.select(100);
                selector.selectedKeys().clear();
            }
        }
        return total;
    }

    /** Writes all of {@code src}, waiting for write readiness whenever the socket takes nothing. */
    private void writeFully(ByteBuffer src) throws IOException {
        long deadline = deadline();
        try (Selector writable = Selector.open()) {
            accepted.register(writable, SelectionKey.OP_WRITE);
            while (src.hasRemaining()) {
                if (tls.write(src) == 0) {
                    assertTrue(System.nanoTime() < deadline, "the peer took nothing within 20 s");
                    writable.select(100);
                    writable.selectedKeys().clear();
                }
            }
            // A batch's records are on the wire once the write that counted them returned.
            assertFalse(tls.hasPendingOutput(), "records left behind after the last write");
        }
    }

    /** The peer's handshake, run on a thread of its own: it blocks until our side answers. */
    private Future<Void> handshake(SSLSocket peer) {
        return CompletableFuture.runAsync(() -> {
            try {
                peer.startHandshake();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, peerThreads);
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 11));
        }
        return b;
    }

    @Test
    void aHandshakeThenBytesBothWays() throws Exception {
        try (SSLSocket peer = peer()) {
            Future<Void> hs = handshake(peer);
            Future<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    hs.get(20, TimeUnit.SECONDS);
                    peer.getOutputStream().write("hello over tls".getBytes(StandardCharsets.US_ASCII));
                    peer.getOutputStream().flush();
                    return peer.getInputStream().readNBytes(5);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            ByteBuffer in = ByteBuffer.allocate(14);
            assertEquals(14, readFully(in));
            assertEquals("hello over tls", new String(in.array(), StandardCharsets.US_ASCII));
            assertFalse(tls.hasBufferedInput());
            writeFully(ByteBuffer.wrap("reply".getBytes(StandardCharsets.US_ASCII)));
            assertEquals("reply", new String(received.get(20, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aLargeWriteThePeerIsNotReadingIsHeldAndGoesOutWhole() throws Exception {
        try (SSLSocket peer = peer()) {
            Future<Void> hs = handshake(peer);
            ByteBuffer first = ByteBuffer.allocate(1);
            // Our side of the handshake runs inside reads: read until the peer's handshake is done.
            long deadline = deadline();
            while (!hs.isDone()) {
                assertEquals(0, tls.read(first));
                assertTrue(System.nanoTime() < deadline, "no handshake within 20 s");
                selector.select(50);
                selector.selectedKeys().clear();
            }
            hs.get();
            byte[] data = pattern(16 << 20, 1);
            ByteBuffer src = ByteBuffer.wrap(data);
            // Our engine takes the peer's Finished in a read before it sends application data.
            while (src.position() == 0) {
                tls.read(first);
                tls.write(src);
                assertTrue(System.nanoTime() < deadline, "no application data accepted within 20 s");
                selector.select(20);
                selector.selectedKeys().clear();
            }
            // The peer reads nothing yet: writes stop returning bytes once the socket buffers are full.
            int zeros = 0;
            while (zeros < 3) {
                int before = src.position();
                int n = tls.write(src);
                assertEquals(n, src.position() - before, "a write reports exactly what it moved");
                zeros = n == 0 ? zeros + 1 : 0;
            }
            int stuckAt = src.position();
            assertTrue(stuckAt < data.length, "16 MiB fitted the socket buffers: the test proves nothing");
            assertEquals(stuckAt, src.position(), "nothing counted as written while the peer reads nothing");
            assertFalse(tls.hasPendingOutput(), "the records in flight belong to the held buffer, not to the engine");
            // The peer reads now; the rest goes out through the same buffer.
            Future<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return peer.getInputStream().readNBytes(data.length);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            writeFully(src);
            assertArrayEquals(data, received.get(30, TimeUnit.SECONDS), "every byte once, in order");
        }
    }

    @Test
    void readsIntoBuffersOfEverySizeGiveEveryByteOnce() throws Exception {
        byte[] data = pattern(3 << 20, 2);
        try (SSLSocket peer = peer()) {
            CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = peer.getOutputStream();
                    for (int at = 0; at < data.length; at += 70_001) {
                        out.write(data, at, Math.min(70_001, data.length - at));
                    }
                    out.flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            int[] sizes = {1, 7, 100, 16 << 10, (16 << 10) + 1, 1 << 20};
            boolean sawBuffered = false;
            for (int i = 0; got.size() < data.length; i++) {
                ByteBuffer dst = ByteBuffer.allocate(Math.min(sizes[i % sizes.length], data.length - got.size()));
                assertEquals(dst.capacity(), readFully(dst));
                got.write(dst.array(), 0, dst.capacity());
                sawBuffered |= tls.hasBufferedInput();
            }
            assertArrayEquals(data, got.toByteArray());
            assertTrue(sawBuffered, "small reads left decrypted bytes for the next read");
        }
    }

    @Test
    void thePeersCloseNotifyEndsTheStreamAndOursReachesThePeer() throws Exception {
        try (SSLSocket peer = peer()) {
            CompletableFuture.runAsync(() -> {
                try {
                    peer.getOutputStream().write(new byte[] {1, 2, 3});
                    peer.shutdownOutput(); // close_notify, the peer still reading
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            ByteBuffer dst = ByteBuffer.allocate(3);
            assertEquals(3, readFully(dst), "the bytes before the close_notify");
            dst = ByteBuffer.allocate(100);
            assertEquals(-1, readFully(dst), "then the end of the stream");
            Future<Integer> peerRead = CompletableFuture.supplyAsync(() -> {
                try {
                    return peer.getInputStream().read();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            tls.close();
            assertEquals(-1, peerRead.get(20, TimeUnit.SECONDS), "our close_notify ends the peer's stream");
            assertFalse(tls.isOpen());
            assertThrows(ClosedChannelException.class, () -> tls.write(ByteBuffer.allocate(1)));
        }
    }

    @Test
    void aPeerThatDropsTcpWithoutCloseNotifyEndsTheStream() throws Exception {
        Socket tcp = plainPeer();
        SSLSocket peer = (SSLSocket) TestTls.get().client.getSocketFactory().createSocket(tcp, "127.0.0.1", tcp.getPort(), true);
        Future<Void> written = CompletableFuture.runAsync(() -> {
            try {
                peer.getOutputStream().write(new byte[] {9, 8, 7});
                peer.getOutputStream().flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }, peerThreads);
        ByteBuffer dst = ByteBuffer.allocate(3);
        assertEquals(3, readFully(dst));
        written.get(20, TimeUnit.SECONDS);
        tcp.close(); // the TCP socket under the TLS: no close_notify
        assertEquals(-1, readFully(ByteBuffer.allocate(100)), "a truncated stream ends, it does not hang");
    }

    @Test
    void bytesThatAreNotTlsFailTheReadAtOnce() throws Exception {
        try (Socket peer = plainPeer()) {
            OutputStream out = peer.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long deadline = deadline();
            IOException failure = null;
            ByteBuffer dst = ByteBuffer.allocate(1 << 16);
            while (failure == null) {
                try {
                    assertEquals(0, tls.read(dst), "no plaintext out of plaintext");
                } catch (IOException e) {
                    failure = e;
                }
                assertTrue(System.nanoTime() < deadline, "garbage was neither refused nor read within 20 s");
                selector.select(50);
                selector.selectedKeys().clear();
            }
            assertTrue(failure instanceof SSLException, String.valueOf(failure));
            tls.close(); // an alert if the socket takes it, then the socket closes
            assertFalse(accepted.isOpen());
            InputStream in = peer.getInputStream();
            try {
                in.readAllBytes(); // the alert, if any, then the end: nothing keeps the peer waiting
            } catch (IOException e) {
                // reset: closed with our garbage unread, which ends the peer's wait just as well
            }
        }
    }

    @Test
    void aRecordHeaderClaimingMoreThanATlsRecordIsRefusedBeforeItsBytesArrive() throws Exception {
        try (Socket peer = plainPeer()) {
            // A handshake record header whose length (0xFFFF) is past what TLS allows (2^14 + 2048).
            OutputStream out = peer.getOutputStream();
            out.write(new byte[] {0x16, 0x03, 0x03, (byte) 0xff, (byte) 0xff});
            out.write(new byte[1000]);
            out.flush();
            long deadline = deadline();
            ByteBuffer dst = ByteBuffer.allocate(1 << 16);
            IOException failure = null;
            while (failure == null) {
                try {
                    tls.read(dst);
                } catch (IOException e) {
                    failure = e;
                }
                assertTrue(System.nanoTime() < deadline, "an oversized record was neither refused nor read within 20 s");
                selector.select(50);
                selector.selectedKeys().clear();
            }
            assertTrue(failure instanceof SSLException, String.valueOf(failure));
        }
    }

    @Test
    void afterTheHandOverTheLibraryGetsNothingMoreAndTheBytesWaitForTheLoop() throws Exception {
        try (SSLSocket peer = peer()) {
            SSLEngine engine = TestTls.get().server.createSSLEngine();
            engine.setUseClientMode(false);
            SelectionKey libraryKey = accepted.keyFor(selector);
            tls = new TlsChannel(accepted, engine, libraryKey);
            byte[] data = pattern(200_000, 3);
            CompletableFuture.runAsync(() -> {
                try {
                    peer.getOutputStream().write(data);
                    peer.getOutputStream().flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, peerThreads);
            ByteBuffer small = ByteBuffer.allocate(1000);
            assertEquals(1000, readFully(small));
            assertTrue(tls.isNeedRead(), "the library is told to read the rest (readMore)");
            tls.leaveLibrary();
            assertFalse(tls.isNeedRead(), "handed over: the library reads no more");
            assertEquals(0, tls.readMore(ByteBuffer.allocate(1000)));
            assertTrue(tls.hasBufferedInput(), "the bytes stay for the I/O loop");
            ByteBuffer rest = ByteBuffer.allocate(data.length - 1000);
            assertEquals(rest.capacity(), readFully(rest));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            got.write(small.array());
            got.write(rest.array());
            assertArrayEquals(data, got.toByteArray());
        }
    }

    @Test
    void aClientModeEngineIsRefused() throws Exception {
        try (SocketChannel ch = SocketChannel.open()) {
            SSLEngine client = TestTls.get().client.createSSLEngine();
            client.setUseClientMode(true);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TlsChannel(ch, client, null));
            assertTrue(e.getMessage().contains("server-mode"), e.getMessage());
        }
    }
}
