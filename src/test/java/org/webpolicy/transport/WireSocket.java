package org.webpolicy.transport;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

/**
 * A WebSocket client written byte by byte over a plain or TLS socket ({@link Wire}), for tests that must send what no
 * well-behaved client library would: broken frames, frames cut short, headers that lie about
 * their length, handshakes that never end. Reads the server's frames without interpretation.
 */
final class WireSocket implements Closeable {

    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    /** One frame from the server; {@code closeCode} is set for close frames that carry one. */
    record Frame(int opcode, byte[] payload) {
        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }

        String text() {
            return new String(payload, opcode == CLOSE && payload.length >= 2 ? 2 : 0,
                    opcode == CLOSE && payload.length >= 2 ? payload.length - 2 : payload.length, StandardCharsets.UTF_8);
        }
    }

    private static final Random MASKS = new Random(7);

    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    WireSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** A TCP connection with no handshake yet. */
    static WireSocket tcp(int port) throws IOException {
        return tcp(Wire.WS, port);
    }

    /** A connection with no WebSocket handshake yet (its TLS handshake done, over {@code wss://}). */
    static WireSocket tcp(Wire wire, int port) throws IOException {
        Socket s = wire.socket(port);
        s.setTcpNoDelay(true);
        s.setSoTimeout(20_000);
        return new WireSocket(s);
    }

    /** A connection whose WebSocket handshake is done and whose metadata frame has been read. */
    static WireSocket open(int port) throws IOException {
        return open(Wire.WS, port);
    }

    /** As {@link #open(int)}, over {@code wire}. */
    static WireSocket open(Wire wire, int port) throws IOException {
        WireSocket w = tcp(wire, port);
        w.write(upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
        String status = w.readHttpHead();
        if (!status.startsWith("HTTP/1.1 101")) {
            w.close();
            throw new IOException("handshake refused: " + status);
        }
        Frame metadata = w.readFrame();
        if (metadata == null || metadata.opcode() != BINARY) {
            w.close();
            throw new IOException("expected the metadata frame, got " + metadata);
        }
        return w;
    }

    static String upgradeRequest(String extraHeaders) {
        return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extraHeaders + "\r\n";
    }

    /** Reads an HTTP response head up to the blank line and returns it. */
    String readHttpHead() throws IOException {
        return readHttpHead(in);
    }

    /** Reads an HTTP head (request or response) from {@code in} up to the blank line and returns it. */
    static String readHttpHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void sendFrame(int opcode, byte[] payload) throws IOException {
        write(frame(opcode, payload, true));
    }

    /** A masked client frame, as RFC 6455 requires of clients. */
    static byte[] frame(int opcode, byte[] payload, boolean fin) {
        return frameHeader(opcode, payload.length, fin, payload);
    }

    /**
     * A masked frame header that claims {@code claimedLength} payload bytes, followed by
     * {@code payload} (masked), which may be shorter than claimed.
     */
    static byte[] frameHeader(int opcode, long claimedLength, boolean fin, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | opcode);
        if (claimedLength >= 0 && claimedLength < 126) {
            f.write(0x80 | (int) claimedLength);
        } else if (claimedLength >= 0 && claimedLength <= 0xffff) {
            f.write(0x80 | 126);
            f.write((int) (claimedLength >>> 8));
            f.write((int) claimedLength);
        } else {
            f.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) (claimedLength >>> (8 * i)));
            }
        }
        byte[] mask = new byte[4];
        synchronized (MASKS) {
            MASKS.nextBytes(mask);
        }
        f.write(mask, 0, 4);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i & 3]);
        }
        return f.toByteArray();
    }

    /** The next frame, or null when the server closed the TCP connection. */
    Frame readFrame() throws IOException {
        int b0;
        try {
            b0 = in.read();
        } catch (SocketException e) {
            return null; // reset by the server
        }
        if (b0 < 0) {
            return null;
        }
        int b1 = readByte();
        long len = b1 & 0x7f;
        if (len == 126) {
            len = (readByte() << 8) | readByte();
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | readByte();
            }
        }
        if (len > 512L * 1024 * 1024) {
            throw new IOException("server frame claims " + len + " bytes");
        }
        byte[] payload = in.readNBytes((int) len);
        if (payload.length < len) {
            throw new EOFException("server frame cut short");
        }
        return new Frame(b0 & 0x0f, payload);
    }

    /** The next data or close frame, answering pings; null on TCP close. */
    Frame readMessage() throws IOException {
        while (true) {
            Frame f = readFrame();
            if (f == null || f.opcode() != PING) {
                return f;
            }
            sendFrame(PONG, f.payload());
        }
    }

    /**
     * True when the server closes the TCP connection within {@code timeout}, reading and
     * dropping whatever it sends until then.
     */
    boolean closedWithin(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] sink = new byte[8192];
        while (System.nanoTime() < deadline) {
            socket.setSoTimeout((int) Math.max(1, Math.min(500, (deadline - System.nanoTime()) / 1_000_000)));
            try {
                if (in.read(sink) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // keep waiting
            } catch (SocketException e) {
                return true; // reset
            }
        }
        return false;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("server frame cut short");
        }
        return b;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
    }
}
