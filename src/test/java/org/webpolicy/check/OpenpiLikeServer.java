package org.webpolicy.check;

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
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;

/**
 * A server that behaves as openpi's, over a plain socket, except for the one thing its
 * {@link Fault} says: it answers {@code /healthz}, upgrades without any header of ours, sends a
 * metadata map, answers each observation with an action map and {@code server_timing}, and a
 * request it cannot decode with a traceback text and close 1011. Pings are answered and a close
 * is echoed.
 */
public final class OpenpiLikeServer implements AutoCloseable {

    /** What the server gets wrong. */
    public enum Fault {
        /** Nothing: an honest openpi-style server. */
        NONE,
        /** Every reply is the byte 0xc1, which is no msgpack value. */
        GARBAGE_REPLY,
        /** A request it cannot decode is answered by closing with 1000, no error text. */
        SILENT_CLOSE_ON_ERROR
    }

    private final MsgpackCodec codec = new MsgpackCodec();
    private final ServerSocket listener;
    private final Fault fault;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Map<String, String> headers;
    /** Every binary request received, as it arrived (unmasked), in order. */
    final BlockingQueue<byte[]> requests = new LinkedBlockingQueue<>();

    /**
     * Starts listening on a free loopback port.
     *
     * @param fault what to get wrong
     * @throws IOException when it cannot listen
     */
    public OpenpiLikeServer(Fault fault) throws IOException {
        this(fault, Map.of());
    }

    /**
     * Starts listening on a free loopback port, adding {@code headers} to its 101 answer (ours,
     * to look like a server of the envelope form; it then answers envelopes and echoes ids).
     *
     * @param fault what to get wrong
     * @param headers extra headers of the 101 answer
     * @throws IOException when it cannot listen
     */
    public OpenpiLikeServer(Fault fault, Map<String, String> headers) throws IOException {
        this.headers = headers;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.fault = fault;
        Thread acceptor = new Thread(this::acceptLoop, "broken-server-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port it listens on. */
    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "broken-server-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head = readHead(in);
            if (head.startsWith("GET /healthz ")) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            String key = "";
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("sec-websocket-key:")) {
                    key = line.substring(line.indexOf(':') + 1).trim();
                }
            }
            StringBuilder answer = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + "\r\n");
            headers.forEach((name, value) -> answer.append(name).append(": ").append(value).append("\r\n"));
            out.write(answer.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.write(frame(0x2, codec.pack(Map.of("server", "broken"))));
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    return;
                }
                byte[] payload = readMaskedPayload(in);
                switch (b0 & 0x0f) {
                    case 0x2 -> {
                        requests.add(payload);
                        out.write(reply(payload));
                    }
                    case 0x9 -> out.write(frame(0xA, payload));
                    case 0x8 -> {
                        out.write(frame(0x8, new byte[] {0x03, (byte) 0xe8}));
                        return;
                    }
                    default -> { }
                }
            }
        } catch (IOException e) {
            // the check went away: that ends the connection
        }
    }

    private byte[] reply(byte[] request) {
        if (fault == Fault.GARBAGE_REPLY) {
            return frame(0x2, new byte[] {(byte) 0xc1});
        }
        try {
            Map<?, ?> observation = (Map<?, ?>) codec.unpack(request);
            Map<String, Object> action = new LinkedHashMap<>();
            action.put("actions", NdArray.zeros(DType.FLOAT32, 2, observation.size()));
            if (observation.containsKey("__webpolicy_op__")) {
                Map<String, Object> reply = new LinkedHashMap<>();
                reply.put("action", action);
                if (observation.containsKey("__webpolicy_id__")) {
                    reply.put("__webpolicy_id__", observation.get("__webpolicy_id__"));
                }
                return frame(0x2, codec.pack(reply));
            }
            action.put("server_timing", Map.of("infer_ms", 0.25));
            return frame(0x2, codec.pack(action));
        } catch (RuntimeException e) {
            if (fault == Fault.SILENT_CLOSE_ON_ERROR) {
                return frame(0x8, new byte[] {0x03, (byte) 0xe8});
            }
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.writeBytes(frame(0x1, ("Traceback (most recent call last):\n  File \"server.py\", line 1\n" + e)
                    .getBytes(StandardCharsets.UTF_8)));
            byte[] reason = "Internal server error. Traceback included in previous frame.".getBytes(StandardCharsets.UTF_8);
            byte[] close = new byte[2 + reason.length];
            close[0] = 0x03;
            close[1] = (byte) 0xf3;
            System.arraycopy(reason, 0, close, 2, reason.length);
            both.writeBytes(frame(0x8, close));
            return both.toByteArray();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("closed during the handshake");
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readMaskedPayload(InputStream in) throws IOException {
        int b1 = in.read();
        long len = b1 & 0x7f;
        if (len >= 126) {
            int bytes = len == 126 ? 2 : 8;
            len = 0;
            for (int i = 0; i < bytes; i++) {
                len = (len << 8) | in.read();
            }
        }
        byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : new byte[4];
        byte[] payload = in.readNBytes((int) len);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= mask[i & 3];
        }
        return payload;
    }

    private static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x80 | opcode);
        if (payload.length < 126) {
            f.write(payload.length);
        } else {
            f.write(126);
            f.write(payload.length >>> 8);
            f.write(payload.length);
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
        for (Socket s : sockets) {
            s.close();
        }
    }
}
