package org.webpolicy.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.transport.protocol.Envelope;

/**
 * {@code scripts/attack_campaign}: every attack of issues 10 and 19 at once against a server with
 * default options in a child JVM ({@code -Xmx256m}, {@code ulimit -n 1024}), while eight honest
 * clients step with sequence numbers and {@code /healthz} is probed every half second (on the
 * WebSocket port and on the health port). Prints the server's memory, descriptors and threads
 * before, during and after, the honest clients' latency, how many replies were checked, lost or
 * crossed, and how many probes were answered. With the mode
 * {@code batching}, the server batches ({@link CampaignServer}) and two attacks are added: poisoned
 * observations with the honest keys and shapes, and 16 connections each stepping a shape of its
 * own. Exits non-zero when a reply was lost or crossed, a probe of the health port went unanswered,
 * or the server went down.
 */
public final class AttackCampaign {

    private static final MsgpackCodec CODEC = new MsgpackCodec();
    private static final String FLOOD = "silent connect flood: 200/s from 127.0.0.2, each held 11 s";
    private final List<long[]> stats = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong checked = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong crossed = new AtomicLong();
    private final Map<String, AtomicLong> attacks = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<Long> baseLatency = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> attackLatency = Collections.synchronizedList(new ArrayList<>());
    private volatile List<Long> latencies = baseLatency;
    private volatile boolean attacking;
    private volatile boolean done;
    private volatile String serverEnd = "still running";
    private final AtomicLong probes = new AtomicLong();
    private final AtomicLong floodAttempts = new AtomicLong();
    private final List<Long> probeLatency = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong probesAnswered = new AtomicLong();
    private final AtomicLong poisonedOwnError = new AtomicLong();
    private final AtomicLong poisonedOther = new AtomicLong();
    private final AtomicInteger oddShapes = new AtomicInteger();
    private final boolean batching;
    private final Wire wire;
    private int port;
    private int healthPort;
    private final AtomicLong healthPortAnswered = new AtomicLong();
    private final List<Long> healthPortLatency = Collections.synchronizedList(new ArrayList<>());

    private AttackCampaign(boolean batching, Wire wire) {
        this.batching = batching;
        this.wire = wire;
    }

    /**
     * Runs the campaign.
     *
     * @param args the attack's length in seconds (default 30), then optionally {@code batching}
     *     and {@code tls} (everything over {@code wss://} with a self-signed certificate)
     * @throws Exception when the server cannot be started
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        boolean batching = false;
        Wire wire = Wire.WS;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "batching" -> batching = true;
                case "tls" -> wire = Wire.WSS;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + ": batching or tls");
            }
        }
        System.exit(new AttackCampaign(batching, wire).run(seconds));
    }

    private int run(int seconds) throws Exception {
        String java = System.getProperty("java.home") + "/bin/java";
        String command = "ulimit -n 1024 && exec '" + java + "' -Xmx256m -cp '" + ChildJvm.classPath()
                + "' " + CampaignServer.class.getName() + (batching ? " batching" : "")
                + (wire == Wire.WSS ? " 'tls=" + TestTls.get().store + "'" : "");
        Process server = new ProcessBuilder("bash", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        if (first == null || !first.startsWith("PORT ")) {
            throw new IllegalStateException("the server did not start: " + first);
        }
        String[] ports = first.substring(5).trim().split(" ");
        port = Integer.parseInt(ports[0]);
        healthPort = Integer.parseInt(ports[1]);
        Thread reader = daemon("stats", () -> readStats(out));
        reader.start();
        List<Thread> honest = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int id = i;
            honest.add(daemon("honest-" + i, () -> honestClient(id)));
        }
        honest.forEach(Thread::start);
        Thread.sleep(3000);
        long[] before = last();
        attacking = true;
        latencies = attackLatency;
        List<Thread> attackers = startAttacks();
        Thread prober = daemon("probe", this::probeHealth);
        prober.start();
        long[] during = new long[before.length];
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            Thread.sleep(250);
            long[] now = last();
            for (int i = 0; i < now.length; i++) {
                during[i] = Math.max(during[i], now[i]);
            }
        }
        attacking = false;
        latencies = baseLatency;
        prober.join(5_000);
        for (Thread t : attackers) {
            t.join(15_000);
        }
        Thread.sleep(5000);
        long[] after = last();
        done = true;
        for (Thread t : honest) {
            t.join(10_000);
        }
        boolean healthy = healthz();
        server.getOutputStream().close();
        server.waitFor();
        report(seconds, before, during, after, healthy);
        return lost.get() == 0 && crossed.get() == 0 && healthy && healthPortAnswered.get() == probes.get()
                && poisonedOther.get() == 0 && serverEnd.equals("CLOSED") ? 0 : 1;
    }

    private void readStats(BufferedReader out) {
        try {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("STATS ")) {
                    String[] f = line.substring(6).trim().split(" ");
                    long[] v = new long[f.length];
                    for (int i = 0; i < f.length; i++) {
                        v[i] = Long.parseLong(f[i]);
                    }
                    stats.add(v);
                } else {
                    serverEnd = line;
                }
            }
        } catch (IOException e) {
            serverEnd = "lost: " + e;
        }
    }

    private long[] last() {
        synchronized (stats) {
            return stats.isEmpty() ? new long[7] : stats.get(stats.size() - 1).clone();
        }
    }

    /** Steps with its own sequence numbers and checks each reply carries the one it sent. */
    private void honestClient(int id) {
        PolicyClient client = wire.client(port).connectTimeout(Duration.ofSeconds(10))
                .requestTimeout(Duration.ofSeconds(10)).build();
        try {
            for (int seq = id * 10_000_000; !done; seq++) {
                long t0 = System.nanoTime();
                try {
                    Map<String, Object> action = client.step(TestPolicies.observation(seq));
                    latencies.add(System.nanoTime() - t0);
                    float got = ((NdArray) ((Map<?, ?>) action.get("echo")).get("state")).getFloat(0);
                    (got == (float) seq ? checked : crossed).incrementAndGet();
                } catch (RuntimeException e) {
                    lost.incrementAndGet();
                    System.err.println("honest client " + id + ": step " + seq + " failed: " + e);
                }
                Thread.sleep(2);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            client.close();
        }
    }

    // ---- the attacks, each in a loop of its own until the campaign ends ----

    private List<Thread> startAttacks() {
        List<Thread> threads = new ArrayList<>();
        attack(threads, "claims: 500 connections, each a header claiming 100 MiB", 1, this::claims);
        attack(threads, "fragments: non-final 64 KiB continuations without end", 2, w -> fragments(w, 64 << 10));
        attack(threads, "fragments: empty continuations without end", 1, w -> fragments(w, 0));
        attack(threads, "requests back to back, replies never read", 4, this::neverReads);
        attack(threads, "ping flood, pongs never read", 2, w -> pings(w, false));
        attack(threads, "ping flood, pongs read", 1, w -> pings(w, true));
        attack(threads, "idle clients: 900 open connections", 1, this::idle);
        attack(threads, "a 1 MB op string with a carriage return", 1, this::longOp);
        attack(threads, "unmasked frames (protocol violations)", 1, this::unmasked);
        attack(threads, "bad handshakes (POST, no key, version 8)", 1, this::badHandshakes);
        attack(threads, "containers: 16 MB of empty maps (~1-2 GB of objects once decoded)", 2, this::containers);
        attack(threads, "progressive JPEG 4096x4096, 400 empty scans (4 KB), client leaves", 8, w -> images(w, PROGRESSIVE_JPEG));
        attack(threads, "grey PNG 4096x4096 (16 KB, 16 MiB decoded)", 8, w -> images(w, GREY_PNG));
        attack(threads, FLOOD, 4, this::silentFlood);
        if (batching) {
            attack(threads, "poisoned observations (honest keys and shapes, a prompt the policy refuses)", 2,
                    this::poisoned);
            attack(threads, "odd shapes: 16 connections stepping a shape of their own", 16, this::oddShape);
        }
        threads.forEach(Thread::start);
        return threads;
    }

    private interface Attack {
        void once(AtomicLong count) throws IOException, InterruptedException;
    }

    private void attack(List<Thread> threads, String name, int copies, Attack attack) {
        AtomicLong count = attacks.computeIfAbsent(name, k -> new AtomicLong());
        for (int i = 0; i < copies; i++) {
            threads.add(daemon("attack", () -> {
                while (attacking) {
                    try {
                        attack.once(count);
                    } catch (IOException e) {
                        // the server cut us: that is what it should do
                        if (System.getenv("CAMPAIGN_DEBUG") != null) {
                            System.err.println("attack '" + name + "': " + e);
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        System.err.println("attack '" + name + "' failed: " + e);
                        return;
                    }
                }
            }));
        }
    }

    private void claims(AtomicLong count) throws IOException, InterruptedException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 500 && attacking; i++) {
                Socket s = rawOpen();
                held.add(s);
                write(s, WireSocket.frameHeader(WireSocket.BINARY, 100L << 20, true, new byte[0]));
                count.incrementAndGet();
            }
            while (attacking) {
                Thread.sleep(100);
            }
        } finally {
            closeAll(held);
        }
    }

    private void fragments(AtomicLong count, int size) throws IOException {
        try (Socket s = rawOpen()) {
            write(s, WireSocket.frame(WireSocket.BINARY, new byte[size], false));
            byte[] frame = WireSocket.frame(0, new byte[size], false);
            count.incrementAndGet();
            while (attacking) {
                write(s, frame);
            }
        }
    }

    private void neverReads(AtomicLong count) throws IOException {
        try (Socket s = rawOpen()) {
            s.setReceiveBufferSize(16 << 10);
            byte[] frame = WireSocket.frame(WireSocket.BINARY, CODEC.pack(Map.of("blob", new byte[64 << 10])), true);
            count.incrementAndGet();
            while (attacking) {
                write(s, frame);
            }
        }
    }

    private void pings(AtomicLong count, boolean read) throws IOException {
        try (WireSocket w = WireSocket.open(wire, port)) {
            count.incrementAndGet();
            byte[] ping = WireSocket.frame(WireSocket.PING, new byte[] {1}, true);
            while (attacking) {
                w.write(ping);
                if (read && w.readFrame() == null) {
                    return;
                }
            }
        }
    }

    private void idle(AtomicLong count) throws InterruptedException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 900 && attacking; i++) {
                try {
                    held.add(rawOpen());
                    count.incrementAndGet();
                } catch (IOException e) {
                    Thread.sleep(50); // the server stopped accepting for now
                }
            }
            while (attacking) {
                Thread.sleep(100);
            }
        } finally {
            closeAll(held);
        }
    }

    private void longOp(AtomicLong count) throws IOException {
        byte[] request = CODEC.pack(Map.of(Envelope.OP, "x\r\n2026-01-01 [main] ERROR forged" + "y".repeat(1 << 20)));
        try (WireSocket w = WireSocket.open(wire, port)) {
            w.sendFrame(WireSocket.BINARY, request);
            count.incrementAndGet();
            while (w.readMessage() != null) {
                // the error text, then the close
            }
        }
    }

    private void unmasked(AtomicLong count) throws IOException {
        try (WireSocket w = WireSocket.open(wire, port)) {
            w.write(new byte[] {(byte) 0x82, 0x01, 0x00});
            count.incrementAndGet();
            while (w.readMessage() != null) {
                // until the close
            }
        }
    }

    private void badHandshakes(AtomicLong count) throws IOException {
        String good = WireSocket.upgradeRequest("");
        for (String bad : List.of(good.replace("GET", "POST"), good.replace("Sec-WebSocket-Key", "X-Key"),
                good.replace("Version: 13", "Version: 8"))) {
            try (WireSocket w = WireSocket.tcp(wire, port)) {
                w.write(bad.getBytes(StandardCharsets.US_ASCII));
                w.readHttpHead();
                count.incrementAndGet();
            }
        }
    }

    /**
     * Msgpack amplification: {"a": [16 Mi empty maps]} (refused at the list's header), or 16 Ki
     * lists of 1000 empty maps (refused at the map that crosses the budget), in turn.
     */
    private void containers(AtomicLong count) throws IOException {
        byte[] request = count.get() % 2 == 0 ? DecodedMemoryServerTest.emptyMaps(16 << 20)
                : DecodedMemoryServerTest.listsOfEmptyMaps(16 << 10, 1000);
        try (WireSocket w = WireSocket.open(wire, port)) {
            w.sendFrame(WireSocket.BINARY, request);
            count.incrementAndGet();
            while (w.readMessage() != null) {
                // the error text, then the close
            }
        }
    }

    private static final InetAddress ATTACKER = loopback(2);
    private static final InetAddress PROBER = loopback(3);

    private static InetAddress loopback(int last) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Connects 50 times a second (200 from the 4 copies) from another address, sends nothing, holds each socket 11 s. */
    private void silentFlood(AtomicLong count) throws InterruptedException {
        ArrayDeque<Socket> held = new ArrayDeque<>();
        ArrayDeque<Long> since = new ArrayDeque<>();
        long next = System.nanoTime();
        try {
            while (attacking) {
                Socket s = new Socket();
                floodAttempts.incrementAndGet();
                try {
                    s.bind(new InetSocketAddress(ATTACKER, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                    held.add(s);
                    since.add(System.nanoTime());
                    count.incrementAndGet();
                } catch (IOException e) {
                    closeAll(List.of(s));
                }
                while (!since.isEmpty() && System.nanoTime() - since.peekFirst() > 11_000_000_000L) {
                    since.poll();
                    closeAll(List.of(held.poll()));
                }
                next += 20_000_000;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        } finally {
            closeAll(new ArrayList<>(held));
        }
    }

    /** An observation like the honest ones, with a prompt the batch policy refuses: only it may fail. */
    private void poisoned(AtomicLong count) {
        Map<String, Object> obs = new LinkedHashMap<>(TestPolicies.observation(-1));
        obs.put("prompt", "p".repeat(CampaignServer.BatchEcho.MAX_PROMPT + 1));
        try (PolicyClient client = wire.client(port)
                .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(10)).build()) {
            client.step(obs);
            poisonedOther.incrementAndGet(); // answered: the policy never saw it alone
        } catch (RemotePolicyException e) {
            (e.serverText().contains("the tokenizer takes") ? poisonedOwnError : poisonedOther).incrementAndGet();
        }
        count.incrementAndGet();
    }

    /** Steps 50 times with a state of a length no other connection uses. */
    private void oddShape(AtomicLong count) {
        int length = 3 + oddShapes.incrementAndGet();
        Map<String, Object> obs = new LinkedHashMap<>();
        obs.put("state", NdArray.ofFloat32(new float[length]));
        obs.put("prompt", "odd");
        try (PolicyClient client = wire.client(port)
                .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(10)).build()) {
            for (int i = 0; i < 50 && attacking; i++) {
                client.step(obs);
                count.incrementAndGet();
            }
        }
    }

    /** Issue 19: images that cost the server far more than their bytes, on connections that negotiated a codec. */
    private static final byte[] PROGRESSIVE_JPEG = CODEC.pack(Map.of("images", Map.of("cam_high",
            org.webpolicy.image.compression.HostileImages.value("jpeg", List.of(4096L, 4096L, 1L),
                    org.webpolicy.image.compression.HostileImages.progressiveJpegWithEmptyScans(4096, 400)))));
    private static final byte[] GREY_PNG = CODEC.pack(Map.of("images", Map.of("cam_high",
            org.webpolicy.image.compression.HostileImages.value("png", List.of(4096L, 4096L, 1L),
                    org.webpolicy.image.compression.HostileImages.greyPng(4096, 4096)))));

    /** Sends {@code request} with the PNG/JPEG offer, reads the answer (the progressive one leaves at once). */
    private void images(AtomicLong count, byte[] request) throws IOException {
        try (WireSocket w = WireSocket.tcp(wire, port)) {
            w.write(WireSocket.upgradeRequest(org.webpolicy.image.compression.ImageCodecNegotiation.HEADER + ": png\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            if (!w.readHttpHead().startsWith("HTTP/1.1 101") || w.readFrame() == null) {
                return;
            }
            w.sendFrame(WireSocket.BINARY, request);
            count.incrementAndGet();
            if (request != PROGRESSIVE_JPEG) {
                w.readMessage(); // the reply, or the reason it was refused
            }
        }
    }

    /**
     * Asks for /healthz every half second while the attacks run, on the WebSocket port from
     * 127.0.0.3 (as a load balancer asks from an address of its own) and on the health port; an
     * answer must come within 2 s.
     */
    private void probeHealth() {
        while (attacking) {
            probes.incrementAndGet();
            if (healthz(port, wire, PROBER, probeLatency)) {
                probesAnswered.incrementAndGet();
            }
            if (healthz(healthPort, Wire.WS, PROBER, healthPortLatency)) {
                healthPortAnswered.incrementAndGet();
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static boolean healthz(int port, Wire over, InetAddress from, List<Long> latencies) {
        long t0 = System.nanoTime();
        try (Socket tcp = new Socket()) {
            tcp.bind(new InetSocketAddress(from, 0));
            tcp.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            tcp.setSoTimeout(2000);
            Socket s = over == Wire.WSS ? tls(tcp) : tcp;
            write(s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            if (WireSocket.readHttpHead(s.getInputStream()).startsWith("HTTP/1.1 200")) {
                latencies.add(System.nanoTime() - t0);
                return true;
            }
        } catch (IOException e) {
            // unanswered
        }
        return false;
    }

    private Socket rawOpen() throws IOException {
        Socket tcp = new Socket();
        tcp.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        tcp.setSoTimeout(5000);
        Socket s = wire == Wire.WSS ? tls(tcp) : tcp;
        OutputStream out = s.getOutputStream();
        out.write(WireSocket.upgradeRequest("").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** TLS over a connected socket, its handshake done (closing it closes the socket). */
    private static Socket tls(Socket tcp) throws IOException {
        try {
            javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) TestTls.get().client.getSocketFactory()
                    .createSocket(tcp, "127.0.0.1", tcp.getPort(), true);
            s.startHandshake();
            return s;
        } catch (IOException | RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    private static void write(Socket s, byte[] bytes) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    private static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    private boolean healthz() {
        try (WireSocket w = WireSocket.tcp(wire, port)) {
            w.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return w.readHttpHead().startsWith("HTTP/1.1 200");
        } catch (IOException e) {
            return false;
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }

    private void report(int seconds, long[] before, long[] during, long[] after, boolean healthy) {
        String[] what = {"heap used (MiB)", "heap after GC (MiB)", "descriptors", "threads", "open connections",
            "accepted connections", "inbound bytes held (MiB)"};
        boolean[] mib = {true, true, false, false, false, false, true};
        System.out.println("| server (-Xmx256m, ulimit -n 1024, " + (wire == Wire.WSS ? "wss" : "ws") + "://) | before | during (max) | after |");
        System.out.println("| --- | --- | --- | --- |");
        for (int i = 0; i < what.length; i++) {
            System.out.println("| " + what[i] + " | " + fmt(before[i], mib[i]) + " | " + fmt(during[i], mib[i]) + " | "
                    + fmt(after[i], mib[i]) + " |");
        }
        System.out.println();
        System.out.println("| attack (" + seconds + " s, all at once) | connections or rounds |");
        System.out.println("| --- | --- |");
        attacks.forEach((name, n) -> System.out.println("| " + name + " | " + n.get() + " |"));
        System.out.println();
        System.out.printf("FIGURE campaign probes: /healthz under attack answered 200 within 2 s: health port %d of %d"
                + " (p50/max %.1f/%.1f ms), WebSocket port %d of %d (p50/max %.1f/%.1f ms); silent flood: %d connects"
                + " tried, %d accepted within 1 s%n", healthPortAnswered.get(), probes.get(), pct(healthPortLatency, 50),
                pct(healthPortLatency, 100), probesAnswered.get(), probes.get(), pct(probeLatency, 50),
                pct(probeLatency, 100),
                floodAttempts.get(), attacks.get(FLOOD).get());
        if (batching) {
            System.out.printf("FIGURE campaign batching: poisoned requests failed with their own reason %d, otherwise %d%n",
                    poisonedOwnError.get(), poisonedOther.get());
        }
        System.out.printf("FIGURE campaign: honest latency p50/p99 %.2f/%.2f ms before, %.2f/%.2f ms under attack; "
                + "replies checked %d, lost %d, crossed %d; /healthz after: %s; server end: %s%n",
                pct(baseLatency, 50), pct(baseLatency, 99), pct(attackLatency, 50), pct(attackLatency, 99),
                checked.get(), lost.get(), crossed.get(), healthy ? "200" : "not 200", serverEnd);
    }

    private static String fmt(long v, boolean mib) {
        return mib ? String.format("%.1f", v / 1048576.0) : Long.toString(v);
    }

    private static double pct(List<Long> nanos, int p) {
        List<Long> sorted;
        synchronized (nanos) {
            sorted = new ArrayList<>(nanos);
        }
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
    }
}
