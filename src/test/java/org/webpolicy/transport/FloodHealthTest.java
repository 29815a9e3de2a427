package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.transport.server.ConnectionSlots;

/**
 * Connections nobody has vouched for yet cannot crowd out health checks and robots: silent
 * connections are closed after {@code firstByteTimeout}, handshakes from one address are bounded,
 * and a whole server under a silent connect flood answers every {@code /healthz} and serves new
 * robots while its robots step with sequence checks. The flood comes from 127.0.0.2 (Linux
 * answers for the whole loopback network), the honest clients from 127.0.0.1.
 */
class FloodHealthTest {

    private static final InetAddress ATTACKER = loopback(2);
    private final TestResources open = new TestResources();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Socket> held = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void closeAll() throws Exception {
        threads.shutdownNow();
        synchronized (held) {
            for (Socket s : held) {
                s.close();
            }
        }
        open.close();
    }

    private static InetAddress loopback(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TCP connection from {@code from} that sends nothing. */
    private Socket silent(InetAddress from, int port) throws IOException {
        Socket s = new Socket();
        held.add(s);
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        return s;
    }

    /** Whether the server closed {@code s} within {@code millis} (end of stream or reset). */
    private static boolean closedWithin(Socket s, int millis) throws IOException {
        s.setSoTimeout(millis);
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheFirstByteTimeoutAndOneThatSpeaksIsNot() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo())
                .firstByteTimeout(Duration.ofMillis(300)));
        Socket quiet = silent(InetAddress.getLoopbackAddress(), server.port());
        Socket speaking = silent(InetAddress.getLoopbackAddress(), server.port());
        OutputStream out = speaking.getOutputStream();
        String request = WireSocket.upgradeRequest("");
        out.write(request.substring(0, 3).getBytes(StandardCharsets.US_ASCII)); // "GET", the rest later
        out.flush();
        assertTrue(closedWithin(quiet, 5000), "a silent connection was still open after 5 s (handshake timeout 10 s)");
        out.write(request.substring(3).getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = WireSocket.readHttpHead(speaking.getInputStream());
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
    }

    @Test
    void handshakesPastThePerAddressLimitAreClosedAtOnceAndOtherAddressesStillConnect() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).maxHandshakesPerAddress(8)
                .firstByteTimeout(Duration.ofSeconds(60)).handshakeTimeout(Duration.ofSeconds(60)));
        for (int i = 0; i < 8; i++) {
            silent(ATTACKER, server.port());
        }
        assertTrue(Probes.await(() -> server.endpoint().pendingHandshakes() == 8, Duration.ofSeconds(10)),
                "8 handshakes under way: " + server.endpoint().pendingHandshakes());
        Socket ninth = silent(ATTACKER, server.port());
        assertTrue(closedWithin(ninth, 5000), "the ninth silent connection from one address was kept");
        PolicyClient robot = open.add(PolicyClient.builder().host("127.0.0.1").port(server.port())
                .connectTimeout(Duration.ofSeconds(10)).build());
        assertEquals(1f, echoed(robot.step(TestPolicies.observation(1f))));
        assertEquals(8, server.endpoint().pendingHandshakes(), "the eight kept theirs");
    }

    /**
     * Issue 19 item 6: silent connects at 200/s (each held until the handshake timeout on the old
     * server) against a server of 100 connections. Every health probe is answered 200 within 2 s,
     * a new robot connects and steps every half second, and four robots step throughout with
     * their own sequence numbers: none lost, none crossed.
     */
    @Test
    void healthChecksAndNewRobotsAreAnsweredUnderASilentConnectFlood() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).maxConnections(100));
        int port = server.port();
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong checked = new AtomicLong();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> honest = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            PolicyClient client = open.add(PolicyClient.builder().host("127.0.0.1").port(port)
                    .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(10)).build());
            int base = (r + 1) * 100_000;
            honest.add(threads.submit(() -> {
                for (int seq = base; flooding.get(); seq++) {
                    try {
                        float got = echoed(client.step(TestPolicies.observation(seq)));
                        if (got != (float) seq) {
                            problems.add("crossed: sent " + seq + ", got " + got);
                        }
                        checked.incrementAndGet();
                    } catch (RuntimeException e) {
                        problems.add("lost step " + seq + ": " + e);
                    }
                }
            }));
        }
        AtomicLong floodConnects = new AtomicLong();
        AtomicLong floodRefused = new AtomicLong();
        List<Future<?>> flood = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            flood.add(threads.submit(() -> {
                long next = System.nanoTime();
                while (flooding.get()) {
                    try {
                        silent(ATTACKER, port);
                        floodConnects.incrementAndGet();
                    } catch (IOException e) {
                        floodRefused.incrementAndGet(); // the backlog was full: the flood goes on
                    }
                    next += 20_000_000; // 50 a second from each of 4 threads
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
                return null;
            }));
        }
        int probes = 0;
        int newRobots = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        while (System.nanoTime() < end) {
            String status = healthz(port);
            probes++;
            if (!status.startsWith("HTTP/1.1 200")) {
                problems.add("probe " + probes + ": " + status);
            }
            if (probes % 3 == 0) {
                newRobots++;
                try (PolicyClient robot = PolicyClient.builder().host("127.0.0.1").port(port)
                        .connectTimeout(Duration.ofSeconds(2)).requestTimeout(Duration.ofSeconds(2)).build()) {
                    if (echoed(robot.step(TestPolicies.observation(-newRobots))) != -newRobots) {
                        problems.add("new robot " + newRobots + " got another's reply");
                    }
                } catch (RuntimeException e) {
                    problems.add("new robot " + newRobots + ": " + e);
                }
            }
            Thread.sleep(150);
        }
        flooding.set(false);
        for (Future<?> f : flood) {
            f.get(10, TimeUnit.SECONDS);
        }
        for (Future<?> robot : honest) {
            robot.get(30, TimeUnit.SECONDS);
        }
        assertTrue(checked.get() > 0);
        assertEquals(List.of(), problems, probes + " probes, " + newRobots + " new robots, " + checked.get()
                + " honest steps checked, " + floodConnects.get() + " flood connects, " + floodRefused.get() + " not accepted in time");
        // More than the server's 164 slots (100 connections + 64 handshaking), whatever rate this machine allows.
        assertTrue(floodConnects.get() + floodRefused.get() > 200, "the flood ran: " + floodConnects.get()
                + " connects, " + floodRefused.get() + " not accepted in time");
        System.out.println("FIGURE flood health: " + floodConnects.get() + " silent connects in 6 s ("
                + floodRefused.get() + " more not accepted in time); " + probes
                + " /healthz probes all 200 within 2 s; " + newRobots + " new robots served; " + checked.get()
                + " honest steps checked, 0 lost, 0 crossed");
    }

    /**
     * The separate health listener answers while the WebSocket port has stopped accepting (its
     * slots all held by silent connections, the new bounds lifted so that they hold them), says
     * 503 while draining, and keeps metrics to the main port unless they are public.
     */
    @Test
    void theHealthPortAnswersWhileTheWebSocketPortAcceptsNoOne() throws Exception {
        PolicyServer server = open.serve(PolicyServer.builder(new TestPolicies.Echo()).maxConnections(1)
                .maxHandshakesPerAddress(1000).firstByteTimeout(Duration.ofSeconds(60))
                .handshakeTimeout(Duration.ofSeconds(60)).healthPort(0));
        assertTrue(server.healthPort() > 0);
        int limit = 1 + ConnectionSlots.HANDSHAKE_SLACK;
        for (int i = 0; i < limit + 20; i++) {
            try {
                silent(ATTACKER, server.port());
            } catch (IOException e) {
                break; // the backlog is full too
            }
        }
        assertTrue(Probes.await(() -> server.acceptedConnections() >= limit, Duration.ofSeconds(10)),
                server.acceptedConnections() + " accepted");
        assertEquals("HTTP/1.1 200 OK", status(server.healthPort(), "/healthz"));
        assertEquals("HTTP/1.1 404 Not Found", status(server.healthPort(), "/metrics"));
        assertEquals("HTTP/1.1 404 Not Found", status(server.healthPort(), "/"));
        server.startDraining();
        assertEquals("HTTP/1.1 503 Service Unavailable", status(server.healthPort(), "/healthz"));
    }

    @Test
    void theHealthPortServesPublicMetricsAndClosesWithTheServer() throws Exception {
        PolicyServer server = PolicyServer.builder(new TestPolicies.Echo()).host("127.0.0.1").port(0).healthPort(0)
                .publicMetrics(true).build().start();
        int port = server.healthPort();
        try {
            assertEquals("HTTP/1.1 200 OK", status(port, "/metrics"));
        } finally {
            server.close();
        }
        assertTrue(Probes.await(() -> status(port, "/healthz").startsWith("no answer"), Duration.ofSeconds(5)),
                "the health port closed with the server");
        assertEquals(-1, open.serve(PolicyServer.builder(new TestPolicies.Echo())).healthPort());
    }

    private static String status(int port, String path) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return WireSocket.readHttpHead(s.getInputStream()).lines().findFirst().orElse("(empty)");
        } catch (IOException e) {
            return "no answer: " + e;
        }
    }

    private static float echoed(Map<String, Object> action) {
        return ((NdArray) ((Map<?, ?>) action.get("echo")).get("state")).getFloat(0);
    }

    /** The status line of {@code GET /healthz}, or what went wrong within 2 s. */
    private static String healthz(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = WireSocket.readHttpHead(in);
            return head.lines().findFirst().orElse("(empty)");
        } catch (IOException e) {
            return "no answer: " + e;
        }
    }
}
