package org.webpolicy.transport.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The socket of a ws:// client connection: request frames written from direct buffers and the
 * WebSocket library's own writes never interleave, and the library's writes survive the interrupt
 * it sends its writer thread when a connection closes.
 */
class ChannelSocketTest {

    private static final int REQUEST_BYTES = 1 << 20;
    private static final int CONTROL_BYTES = 7;

    /** Everything the peer receives until the client closes its side. */
    private static CompletableFuture<byte[]> drain(ServerSocket listener) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = listener.accept(); InputStream in = s.getInputStream()) {
                s.setSoTimeout(60_000);
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                in.transferTo(all);
                return all.toByteArray();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void requestFramesAndLibraryWritesArriveWholeAndNeverInterleaved() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> received = drain(listener);
            int requests = 40;
            int controls = 400;
            try (ChannelSocket socket = new ChannelSocket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5_000);
                OutputStream library = socket.getOutputStream();
                CompletableFuture<Void> control = CompletableFuture.runAsync(() -> {
                    byte[] frame = new byte[CONTROL_BYTES];
                    Arrays.fill(frame, (byte) 'c');
                    try {
                        for (int i = 0; i < controls; i++) {
                            library.write(frame);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                ByteBuffer request = ByteBuffer.allocateDirect(REQUEST_BYTES);
                for (int i = 0; i < requests; i++) {
                    request.clear();
                    while (request.hasRemaining()) {
                        request.put((byte) 'r');
                    }
                    request.flip();
                    socket.writeFully(request);
                    assertFalse(request.hasRemaining());
                }
                control.get(60, TimeUnit.SECONDS);
            }
            byte[] bytes = received.get(60, TimeUnit.SECONDS);
            assertEquals((long) requests * REQUEST_BYTES + (long) controls * CONTROL_BYTES, bytes.length);
            // Each run of one kind of byte is a whole number of that kind's writes.
            int start = 0;
            for (int i = 1; i <= bytes.length; i++) {
                if (i == bytes.length || bytes[i] != bytes[start]) {
                    int unit = bytes[start] == 'r' ? REQUEST_BYTES : CONTROL_BYTES;
                    assertEquals(0, (i - start) % unit, "a run of " + (i - start) + " '" + (char) bytes[start]
                            + "' bytes at " + start + ": a write was split by another");
                    start = i;
                }
            }
        }
    }

    @Test
    void aLibraryWriteFromAnInterruptedThreadIsStillWritten() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> received = drain(listener);
            byte[] closeFrame = {(byte) 0x88, (byte) 0x82, 1, 2, 3, 4, 0x03 ^ 1, (byte) (0xe8 ^ 2)};
            boolean[] stillInterrupted = new boolean[1];
            try (ChannelSocket socket = new ChannelSocket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5_000);
                Thread writer = new Thread(() -> {
                    Thread.currentThread().interrupt(); // as the library's writer thread when a connection closes
                    try {
                        socket.getOutputStream().write(closeFrame);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    stillInterrupted[0] = Thread.currentThread().isInterrupted();
                });
                writer.start();
                writer.join(30_000);
                assertFalse(writer.isAlive());
                assertTrue(socket.getChannel().isOpen(), "the interrupt closed the channel");
                socket.writeFully(ByteBuffer.wrap(new byte[] {42}));
            }
            assertTrue(stillInterrupted[0], "the writer's interrupt status is kept");
            byte[] expected = Arrays.copyOf(closeFrame, closeFrame.length + 1);
            expected[closeFrame.length] = 42;
            assertArrayEquals(expected, received.get(60, TimeUnit.SECONDS));
        }
    }
}
