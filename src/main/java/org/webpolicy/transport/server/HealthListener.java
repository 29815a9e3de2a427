package org.webpolicy.transport.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /healthz}, {@code GET /readyz} (and {@code GET /metrics} when the metrics are public) on a port of its
 * own, answered by a thread of its own: health checks then share nothing with the WebSocket
 * port, neither its connection slots nor its network threads, so no flood of untrusted
 * connections there can delay them. Meant for the load balancer or the orchestrator only: it
 * serves one request at a time, each given at most {@link #READ_MILLIS} to arrive.
 */
public final class HealthListener implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthListener.class);
    /** How long one request may take to arrive before the listener moves on. */
    static final int READ_MILLIS = 500;
    private static final int MAX_HEAD = 8 << 10;

    /** What the listener reports; called on its thread. */
    public interface State {
        /**
         * 200 while serving, 503 while draining or after a failure.
         *
         * @return the HTTP status
         */
        int healthStatus();

        /**
         * The answer to {@code GET /readyz}; by default the liveness status, ready when alive.
         *
         * @return the status and its text
         */
        default Readiness.Answer readiness() {
            int status = healthStatus();
            return new Readiness.Answer(status, status == 200 ? Readiness.READY_TEXT : "Service Unavailable\n");
        }

        /**
         * The Prometheus text, or null when the metrics are not public.
         *
         * @return the text, or null
         */
        String publicMetrics();
    }

    private final ServerSocket socket;
    private final State state;
    private final Thread thread;

    /**
     * Binds the port and starts the listener's thread, a daemon.
     *
     * @param host the address to listen on
     * @param port the port, 0 for a free one
     * @param state what the listener reports
     * @throws IOException when the port cannot be bound
     */
    public HealthListener(String host, int port, State state) throws IOException {
        this.state = state;
        this.socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(host, port), 64);
        this.thread = ServerThreads.daemon("webpolicy-health-").newThread(this::serve);
        thread.start();
    }

    /**
     * The port listened on: the one chosen when 0 was asked for.
     *
     * @return the port
     */
    public int port() {
        return socket.getLocalPort();
    }

    private void serve() {
        while (!socket.isClosed()) {
            try (Socket s = socket.accept()) {
                s.setSoTimeout(READ_MILLIS);
                answer(s);
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    log.debug("Health check connection: {}", e.toString());
                }
            } catch (RuntimeException e) {
                log.warn("Health check failed: {}", e.toString());
            }
        }
    }

    private void answer(Socket s) throws IOException {
        String path = requestPath(s.getInputStream());
        int status;
        String body;
        boolean prometheus = false;
        if ("/healthz".equals(path)) {
            status = state.healthStatus();
            body = status == 200 ? "OK\n" : "Service Unavailable\n";
        } else if ("/readyz".equals(path)) {
            Readiness.Answer ready = state.readiness();
            status = ready.status();
            body = ready.body();
        } else if ("/metrics".equals(path) && state.publicMetrics() != null) {
            status = 200;
            body = state.publicMetrics();
            prometheus = true;
        } else {
            status = 404;
            body = "Not Found: this port answers GET /healthz, GET /readyz (and GET /metrics when they are public)\n";
        }
        String reason = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found";
        byte[] text = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: text/plain; "
                + (prometheus ? "version=0.0.4; " : "") + "charset=utf-8\r\nContent-Length: " + text.length
                + "\r\nConnection: close\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(text);
        out.flush();
    }

    /** The path of a {@code GET} request head, or null for anything else. */
    private static String requestPath(InputStream in) throws IOException {
        byte[] head = new byte[MAX_HEAD];
        int n = 0;
        while (n < MAX_HEAD) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head[n++] = (byte) b;
            if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n') {
                break;
            }
        }
        String line = new String(head, 0, n, StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[0].equals("GET")) {
            return null;
        }
        return parts[1];
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing
        }
        thread.interrupt();
    }
}
