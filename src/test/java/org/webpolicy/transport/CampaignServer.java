package org.webpolicy.transport;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.webpolicy.policy.BatchPolicy;

/**
 * The server side of {@code scripts/attack_campaign}: an echo server with default options in its
 * own JVM (small heap, low descriptor limit, set by the script); with the argument
 * {@code batching}, a batch echo policy served with {@code batching(8, 5 ms)} that throws for an
 * observation whose prompt is longer than its "tokenizer" allows. Prints its port and health port, then a line of
 * figures every 250 ms (heap used, heap after the last collection, descriptors, threads, open and
 * accepted connections, inbound bytes held), and serves until its standard input closes. Exits 3
 * when the server went down by itself.
 */
public final class CampaignServer {

    private CampaignServer() {
    }

    /** Answers {"echo": observation} for each; a prompt over 256 characters fails its whole call. */
    static final class BatchEcho implements BatchPolicy {
        static final int MAX_PROMPT = 256;

        @Override
        public List<Map<String, Object>> stepBatch(List<Map<String, Object>> observations) {
            List<Map<String, Object>> actions = new ArrayList<>(observations.size());
            for (Map<String, Object> obs : observations) {
                if (obs.get("prompt") instanceof String prompt && prompt.length() > MAX_PROMPT) {
                    throw new IllegalArgumentException("prompt of " + prompt.length() + " characters; the tokenizer takes "
                            + MAX_PROMPT);
                }
                actions.add(Map.of("echo", obs));
            }
            return actions;
        }
    }

    /**
     * Runs the server.
     *
     * @param args none, or {@code batching}
     * @throws Exception when the server cannot start
     */
    public static void main(String[] args) throws Exception {
        boolean batching = args.length > 0 && args[0].equals("batching");
        PolicyServerBuilder builder = batching
                ? PolicyServer.builder(new BatchEcho()).batching(8, Duration.ofMillis(5))
                : PolicyServer.builder(new TestPolicies.Echo());
        PolicyServer server = builder.host("127.0.0.1").port(0).healthPort(0).build().start();
        System.out.println("PORT " + server.port() + " " + server.healthPort());
        System.out.flush();
        Thread stats = new Thread(() -> {
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            while (true) {
                long used = memory.getHeapMemoryUsage().getUsed();
                long afterGc = ManagementFactory.getMemoryPoolMXBeans().stream()
                        .filter(p -> p.getCollectionUsage() != null && p.getType() == java.lang.management.MemoryType.HEAP)
                        .mapToLong(p -> p.getCollectionUsage().getUsed()).sum();
                String[] fds = new File("/proc/self/fd").list();
                System.out.println("STATS " + used + " " + afterGc + " " + (fds == null ? -1 : fds.length) + " "
                        + ManagementFactory.getThreadMXBean().getThreadCount() + " " + server.connectionCount() + " "
                        + server.acceptedConnections() + " " + server.inboundBytes());
                System.out.flush();
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "campaign-stats");
        stats.setDaemon(true);
        stats.start();
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // wait for the campaign to close our input
                }
            } catch (java.io.IOException e) {
                // campaign gone
            }
            server.close();
        }, "campaign-stdin");
        stdin.setDaemon(true);
        stdin.start();
        Optional<Throwable> failure = server.awaitClose();
        System.out.println(failure.map(f -> "FAILED " + f).orElse("CLOSED"));
        System.out.flush();
        System.exit(failure.isPresent() ? 3 : 0);
    }
}
