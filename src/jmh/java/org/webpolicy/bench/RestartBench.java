package org.webpolicy.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.webpolicy.transport.ConnectionStats;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyClientBuilder;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.RemotePolicyException;

/**
 * The restart benchmark (scripts/bench_restart): a robot steps at 50 Hz while its server is
 * closed and started again on the same port {@code OUTAGE_MS} later, several times; how long after
 * the server's return (the moment its {@code start()} is called) does the robot's next step
 * succeed? Compares the client's longest pause between attempts: the default, 1 s, and 5 s
 * (openpi's fixed interval, here the cap of the same doubling schedule), in one run.
 */
public final class RestartBench {

    private RestartBench() {
    }

    private static PolicyServer serve(int port) {
        return PolicyServer.builder(obs -> Map.of("step", obs.get("step"))).host("127.0.0.1").port(port).build().start();
    }

    /** Resume delays in ms, one per restart, for a client with {@code retryInterval}. */
    static List<Double> run(Duration retryInterval, int restarts, long outageMs) throws Exception {
        PolicyServer server = serve(0);
        int port = server.port();
        PolicyClientBuilder builder = PolicyClient.builder().host("127.0.0.1").port(port).connectTimeout(Duration.ofSeconds(30));
        if (retryInterval != null) {
            builder.retryInterval(retryInterval);
        }
        AtomicLong lastSuccess = new AtomicLong();
        AtomicLong failedCalls = new AtomicLong();
        List<Double> resumes = new ArrayList<>();
        try (PolicyClient client = builder.build()) {
            Thread robot = new Thread(() -> {
                long step = 0;
                long next = System.nanoTime();
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        client.step(Map.of("step", step++));
                        lastSuccess.set(System.nanoTime());
                    } catch (IllegalStateException e) {
                        return; // closed
                    } catch (PolicyConnectionException | RemotePolicyException e) {
                        // The call that met the closing server ("shutting down; request not run")
                        // or the closed connection: the next one reconnects.
                        failedCalls.incrementAndGet();
                        continue;
                    }
                    next += 20_000_000L;
                    LockSupport.parkNanos(next - System.nanoTime());
                    next = Math.max(next, System.nanoTime() - 20_000_000L);
                }
            }, "robot");
            robot.setDaemon(true);
            robot.start();
            Thread.sleep(500);
            for (int i = 0; i < restarts; i++) {
                server.close();
                Thread.sleep(outageMs);
                long back = System.nanoTime();
                server = serve(port);
                long giveUp = back + TimeUnit.SECONDS.toNanos(60);
                while (lastSuccess.get() < back) {
                    if (System.nanoTime() > giveUp || !robot.isAlive()) {
                        throw new IllegalStateException("the robot did not step again within 60 s of the server's return");
                    }
                    Thread.sleep(1);
                }
                resumes.add((lastSuccess.get() - back) / 1e6);
                if (resumes.get(resumes.size() - 1) > 5000) {
                    System.out.printf(Locale.ROOT, "  restart %d: the robot stepped again only %.0f ms after the server's return%n",
                            i, resumes.get(resumes.size() - 1));
                }
                Thread.sleep(300);
            }
            ConnectionStats stats = client.connectionStats();
            System.out.printf(Locale.ROOT, "  calls failed: %d; %s%n", failedCalls.get(), stats);
            robot.interrupt();
        } finally {
            server.close();
        }
        return resumes;
    }

    private static String summary(List<Double> ms) {
        List<Double> sorted = new ArrayList<>(ms);
        sorted.sort(null);
        double p50 = sorted.get((sorted.size() - 1) / 2);
        double max = sorted.get(sorted.size() - 1);
        return String.format(Locale.ROOT, "p50 %7.1f ms  max %7.1f ms  (n=%d)", p50, max, sorted.size());
    }

    /**
     * Runs the comparison.
     *
     * @param args restarts per setting (default 8) and the outage in ms (default 2000)
     * @throws Exception when a server cannot start
     */
    public static void main(String[] args) throws Exception {
        int restarts = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        long outageMs = args.length > 1 ? Long.parseLong(args[1]) : 2000;
        System.out.printf(Locale.ROOT, "Robot at 50 Hz, server closed and back %d ms later, %d times per setting;%n"
                + "resume = first successful step after the server's return%n", outageMs, restarts);
        Duration[] caps = args.length > 2 && args[2].equals("default")
                ? new Duration[] {null} : new Duration[] {null, Duration.ofSeconds(1), Duration.ofSeconds(5)};
        for (Duration cap : caps) {
            String name = cap == null ? "default (150 ms)" : "retryInterval " + TimeUnit.MILLISECONDS.toSeconds(cap.toMillis()) + " s";
            List<Double> resumes = run(cap, restarts, outageMs);
            System.out.printf(Locale.ROOT, "%-18s resume %s%n", name, summary(resumes));
        }
    }
}
