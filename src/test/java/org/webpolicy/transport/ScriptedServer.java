package org.webpolicy.transport;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.protocol.Envelope;
import org.webpolicy.transport.protocol.Headers;

/**
 * A WebSocket server written over a plain socket for client tests: it speaks just enough RFC
 * 6455 (handshake, unmasked server frames, masked client frames, ping, close) and does whatever
 * its {@link Script} says with each request, including what no correct server does: frames
 * nobody asked for, two replies to one request, replies carrying another request's id.
 */
final class ScriptedServer implements AutoCloseable {

    /** The handshake headers of our server: the envelope form and request-id echo. */
    static final Map<String, String> OUR_HEADERS = Map.of(Headers.PROTOCOL, Headers.ENVELOPE,
            Headers.REQUEST_ID, Headers.ECHO);

    /** What the server does on each connection. */
    interface Script {
        /** Right after the metadata frame was sent. */
        default void opened(Peer peer) throws IOException {
        }

        /** Request number {@code n} (from 1) of this connection, decoded. */
        void request(Peer peer, int n, Object request) throws IOException;
    }

    /** One connection, as the script sees it. */
    final class Peer {
        /** The connection's number, from 1, in accept order. */
        final int number;
        private final OutputStream out;

        private Peer(int number, OutputStream out) {
            this.number = number;
            this.out = out;
        }

        /** Sends each value packed in a binary frame, all in one write. */
        void send(Object... values) throws IOException {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (Object v : values) {
                all.writeBytes(frame(0x2, codec.pack(v)));
            }
            write(all.toByteArray());
        }

        void sendText(String text) throws IOException {
            write(frame(0x1, text.getBytes(StandardCharsets.UTF_8)));
        }

        synchronized void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final ServerSocket listener;
    private final Map<String, String> headers;
    private final Script script;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> sockets = new ArrayList<>();
    /** Every request received, decoded, in arrival order. */
    final BlockingQueue<Object> requests = new LinkedBlockingQueue<>();
    /** Pings received from clients (each answered with a pong). */
    final AtomicInteger pings = new AtomicInteger();
    /** Close frames received from clients. */
    final AtomicInteger closeFrames = new AtomicInteger();
    /** The number of each connection the client ended (close frame or TCP close), in order. */
    final BlockingQueue<Integer> ended = new LinkedBlockingQueue<>();

    /** Starts listening on a free loopback port, answering each handshake with {@code headers}. */
    ScriptedServer(Map<String, String> headers, Script script) throws IOException {
        this(null, headers, script);
    }

    /** As {@link #ScriptedServer(Map, Script)}, over TLS with {@code tls} when it is not null (wss://). */
    ScriptedServer(javax.net.ssl.SSLContext tls, Map<String, String> headers, Script script) throws IOException {
        this.listener = tls == null ? new ServerSocket(0, 50, InetAddress.getLoopbackAddress())
                : tls.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.headers = headers;
        this.script = script;
        Thread acceptor = new Thread(this::acceptLoop, "scripted-server-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    int connections() {
        return connections.get();
    }

    /** The number of the next connection the client ends; fails after 20 s. */
    int nextEnded() throws InterruptedException {
        Integer n = ended.poll(20, TimeUnit.SECONDS);
        if (n == null) {
            throw new AssertionError("the client did not drop its connection within 20 s");
        }
        return n;
    }

    /** A reply as our server gives it: the action in an envelope, with the request's id when it has one. */
    static Map<String, Object> envelopeReply(Object request, Object action) {
        Map<String, Object> reply = new LinkedHashMap<>();
        Map<?, ?> req = (Map<?, ?>) request;
        if (Envelope.OP_RESET.equals(req.get(Envelope.OP))) {
            reply.put(Envelope.RESET_ACK, true);
        } else {
            reply.put(Envelope.ACTION, action);
        }
        if (req.containsKey(Envelope.REQUEST_ID)) {
            reply.put(Envelope.REQUEST_ID, req.get(Envelope.REQUEST_ID));
        }
        return reply;
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                synchronized (sockets) {
                    sockets.add(s);
                }
                int number = connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s, number), "scripted-server-" + number);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s, int number) {
        try (s) {
            InputStream in = s.getInputStream();
            Peer peer = new Peer(number, s.getOutputStream());
            String key = null;
            for (String line : readHead(in).split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("sec-websocket-key:")) {
                    key = line.substring(line.indexOf(':') + 1).trim();
                }
            }
            StringBuilder response = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n");
            headers.forEach((k, v) -> response.append(k).append(": ").append(v).append("\r\n"));
            peer.write(response.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            peer.send(Map.of("server", "scripted"));
            script.opened(peer);
            int n = 0;
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    break;
                }
                int opcode = b0 & 0x0f;
                byte[] payload = readMaskedPayload(in);
                if (opcode == 0x2) {
                    Object request = codec.unpack(payload);
                    requests.add(request);
                    script.request(peer, ++n, request);
                } else if (opcode == 0x9) {
                    pings.incrementAndGet();
                    peer.write(frame(0xA, payload));
                } else if (opcode == 0x8) {
                    closeFrames.incrementAndGet();
                    peer.write(frame(0x8, payload.length >= 2 ? new byte[] {payload[0], payload[1]} : new byte[0]));
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client went away mid-frame: that ends the connection too
        } finally {
            ended.add(number);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed during the handshake");
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readMaskedPayload(InputStream in) throws IOException {
        int b1 = readByte(in);
        long len = b1 & 0x7f;
        if (len == 126) {
            len = (readByte(in) << 8) | readByte(in);
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | readByte(in);
            }
        }
        byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : new byte[4];
        byte[] payload = in.readNBytes((int) len);
        if (payload.length < len) {
            throw new EOFException("client frame cut short");
        }
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= mask[i & 3];
        }
        return payload;
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("client frame cut short");
        }
        return b;
    }

    /** An unmasked server frame. */
    static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode);
        if (payload.length < 126) {
            f.write(payload.length);
        } else if (payload.length <= 0xffff) {
            f.write(126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
        } else {
            f.write(127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) ((long) payload.length >>> (8 * i)));
            }
        }
        f.writeBytes(payload);
        return f.toByteArray();
    }

    private static String accept(String key) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        synchronized (sockets) {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
