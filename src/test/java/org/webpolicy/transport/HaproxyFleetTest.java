package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.webpolicy.transport.protocol.ClientText;

/**
 * Scale-out behind a real load balancer: three servers (child JVMs) behind HAProxy, which checks
 * their {@code /healthz}; 16 robots step through HAProxy with sequence numbers; one server is
 * killed outright mid-run. Every reply must be the robot's own step; each robot may lose at most
 * the one call it had in flight, then reconnects through HAProxy to a surviving server.
 *
 * <p>Needs the {@code haproxy} binary (Debian package {@code haproxy}; {@code scripts/haproxy_setup}
 * installs it, and {@code .ci/run} calls that): without it the test fails, naming the script.
 * Tagged {@code campaign}: it runs with {@code -Pcampaigns} and in {@code .ci/run}.
 */
@Tag("campaign")
class HaproxyFleetTest {

    private static final int ROBOTS = 16;
    private static final int SERVERS = 3;

    private static Path haproxyBinary() {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
            Path p = Path.of(dir, "haproxy");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError("HAProxy is not installed: run scripts/haproxy_setup (apt-get install haproxy);"
                + " .ci/run does so before the campaigns");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A server in its own JVM; returns once it prints its port. */
    private static Process startServer(String name, File log, int[] port) throws IOException {
        String java = System.getProperty("java.home") + "/bin/java";
        Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", ChildJvm.classPath(),
                FleetMemberServer.class.getName(), name).redirectError(log).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        assertTrue(first != null && first.startsWith("PORT "), "server " + name + " did not start: " + first
                + "\n" + Files.readString(log.toPath()));
        port[0] = Integer.parseInt(first.substring(5).trim());
        return p;
    }

    static String config(int frontPort, int statsPort, int[] serverPorts) {
        StringBuilder cfg = new StringBuilder();
        cfg.append("global\n  maxconn 512\n");
        cfg.append("defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n");
        // A loaded machine may take longer than the check interval to answer: a check times out
        // after 2 s, not after the interval, so a slow answer does not mark a healthy server down.
        cfg.append("  timeout check 2s\n");
        cfg.append("  timeout tunnel 1h\n  retries 3\n  option redispatch\n");
        cfg.append("listen stats\n  bind 127.0.0.1:").append(statsPort).append("\n  stats enable\n  stats uri /stats\n");
        cfg.append("frontend robots\n  bind 127.0.0.1:").append(frontPort).append("\n  default_backend policy\n");
        cfg.append("backend policy\n  balance leastconn\n  option httpchk\n");
        cfg.append("  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost\n");
        cfg.append("  http-check expect status 200\n");
        cfg.append("  default-server inter 200ms fall 2 rise 2 on-marked-down shutdown-sessions\n");
        for (int i = 0; i < serverPorts.length; i++) {
            cfg.append("  server s").append(i).append(" 127.0.0.1:").append(serverPorts[i]).append(" check\n");
        }
        return cfg.toString();
    }

    /** The servers HAProxy has marked UP, from its stats page (CSV: proxy, server, ..., status 18th). */
    static List<String> serversUp(int statsPort) {
        List<String> up = new ArrayList<>();
        try {
            String response = PolicyServerClientTest.httpGet(statsPort, "/stats;csv", "Connection: close\r\n");
            for (String line : response.split("\n")) {
                String[] fields = line.split(",");
                if (fields.length > 17 && fields[0].equals("policy") && fields[1].startsWith("s") && fields[17].equals("UP")) {
                    up.add(fields[1]);
                }
            }
        } catch (IOException e) {
            // not listening yet
        }
        return up;
    }

    @Test
    @Timeout(value = 50, unit = TimeUnit.SECONDS)
    void threeServersSixteenRobotsOneKilledMidRun() throws Exception {
        Path haproxy = haproxyBinary();
        Path dir = Files.createTempDirectory("haproxy-fleet");
        List<Process> servers = new ArrayList<>();
        Process balancer = null;
        List<PolicyClient> clients = new ArrayList<>();
        try {
            int[] ports = new int[SERVERS];
            for (int i = 0; i < SERVERS; i++) {
                int[] port = new int[1];
                servers.add(startServer("s" + i, dir.resolve("s" + i + ".log").toFile(), port));
                ports[i] = port[0];
            }
            int front = freePort();
            int stats = freePort();
            Path cfg = dir.resolve("haproxy.cfg");
            Files.writeString(cfg, config(front, stats, ports));
            balancer = new ProcessBuilder(haproxy.toString(), "-db", "-f", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
            // WebSocket connections stay where they land: start the robots once all servers are UP.
            long ready = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (serversUp(stats).size() < SERVERS && System.nanoTime() < ready) {
                Thread.sleep(100);
            }
            assertEquals(SERVERS, serversUp(stats).size(), "HAProxy never had every server UP:\n"
                    + Files.readString(dir.resolve("haproxy.log")));

            Map<String, AtomicInteger> stepsByServer = new ConcurrentHashMap<>();
            AtomicInteger[] failures = new AtomicInteger[ROBOTS];
            AtomicInteger[] stepsAfterKill = new AtomicInteger[ROBOTS];
            List<String> crossed = java.util.Collections.synchronizedList(new ArrayList<>());
            List<String> failureTexts = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean killed = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            Thread[] robots = new Thread[ROBOTS];
            for (int r = 0; r < ROBOTS; r++) {
                PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(front)
                        .retryInterval(Duration.ofMillis(100)).connectTimeout(Duration.ofSeconds(20))
                        .requestTimeout(Duration.ofSeconds(10)).build();
                clients.add(client);
                int robot = r;
                failures[r] = new AtomicInteger();
                stepsAfterKill[r] = new AtomicInteger();
                robots[r] = new Thread(() -> {
                    long step = 0;
                    while (!stop.get()) {
                        Map<String, Object> obs = new LinkedHashMap<>();
                        obs.put("robot", (long) robot);
                        obs.put("step", step);
                        boolean afterKill = killed.get();
                        try {
                            Map<String, Object> action = client.step(obs);
                            if (!Long.valueOf(robot).equals(action.get("robot")) || !Long.valueOf(step).equals(action.get("step"))) {
                                crossed.add("robot " + robot + " step " + step + " got " + action);
                            }
                            stepsByServer.computeIfAbsent((String) action.get("server"), k -> new AtomicInteger())
                                    .incrementAndGet();
                            if (afterKill) {
                                stepsAfterKill[robot].incrementAndGet();
                                if ("s0".equals(action.get("server"))) {
                                    crossed.add("robot " + robot + " step " + step + " was answered by the killed server");
                                }
                            }
                        } catch (RuntimeException e) {
                            failures[robot].incrementAndGet();
                            failureTexts.add("robot " + robot + " step " + step + (afterKill ? " (after the kill)" : "")
                                    + ": " + ClientText.firstLine(String.valueOf(e.getMessage())));
                        }
                        step++;
                    }
                }, "robot-" + r);
                robots[r].start();
            }
            // Run until every server has served steps, then kill one outright mid-run.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (stepsByServer.size() < SERVERS && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            assertEquals(SERVERS, stepsByServer.size(), "HAProxy spread the robots over all servers: " + stepsByServer
                    + "\n" + Files.readString(dir.resolve("haproxy.log")));
            Thread.sleep(1000);
            int servedByKilledBefore = stepsByServer.get("s0").get();
            servers.get(0).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            killed.set(true);
            long killedAt = System.nanoTime();
            // Every robot must step again after the kill (through HAProxy, to a survivor).
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (System.nanoTime() < until && java.util.Arrays.stream(stepsAfterKill).anyMatch(c -> c.get() < 50)) {
                Thread.sleep(50);
            }
            long recoveredMs = (System.nanoTime() - killedAt) / 1_000_000;
            stop.set(true);
            for (Thread t : robots) {
                t.join(15_000);
            }
            int totalFailures = java.util.Arrays.stream(failures).mapToInt(AtomicInteger::get).sum();
            System.out.println("FIGURE haproxy fleet: " + SERVERS + " servers, " + ROBOTS + " robots, steps by server "
                    + stepsByServer + ", s0 killed after " + servedByKilledBefore + " of its steps; failed calls "
                    + totalFailures + "; steps after the kill (fewest per robot) "
                    + java.util.Arrays.stream(stepsAfterKill).mapToInt(AtomicInteger::get).min().orElse(0) + ", every robot 50 steps past"
                    + " the kill within " + recoveredMs + " ms; failures: " + failureTexts);
            assertTrue(crossed.isEmpty(), "replies crossed: " + crossed);
            for (int r = 0; r < ROBOTS; r++) {
                assertTrue(failures[r].get() <= 1, "robot " + r + " lost " + failures[r].get()
                        + " calls; at most the one in flight at the kill may fail: " + failureTexts);
                assertTrue(stepsAfterKill[r].get() >= 50, "robot " + r + " made " + stepsAfterKill[r].get()
                        + " steps after the kill");
            }
        } finally {
            for (PolicyClient c : clients) {
                c.close();
            }
            if (balancer != null) {
                balancer.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            for (Process p : servers) {
                p.getOutputStream().close();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }
}
