package org.webpolicy.transport;

import java.time.Duration;
import java.util.Optional;

/**
 * An echo server for {@link BoundsDescriptorTest}, run in a child JVM under a low descriptor
 * limit ({@code ulimit -n}). Prints its port, serves until its standard input closes, and exits
 * 3 when the server went down by itself.
 */
public final class DescriptorLimitedServer {

    private DescriptorLimitedServer() {
    }

    /**
     * Runs the server. Silent connections are neither timed out nor limited per address, so that
     * they reach the descriptor limit, which is what the test is about.
     *
     * @param args none for {@code ws://}; for {@code wss://}, the key store made by the parent's {@link TestTls}
     * @throws Exception when the server cannot start
     */
    public static void main(String[] args) throws Exception {
        PolicyServerBuilder builder = PolicyServer.builder(new TestPolicies.Echo());
        if (args.length > 0) {
            builder.sslContext(TestTls.load(java.nio.file.Path.of(args[0])).server);
        }
        PolicyServer server = builder.host("127.0.0.1").port(0)
                .handshakeTimeout(Duration.ofSeconds(60)).firstByteTimeout(Duration.ofSeconds(60))
                .maxHandshakesPerAddress(100_000).build().start();
        System.out.println("PORT " + server.port());
        System.out.flush();
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // wait for the parent to close our input
                }
            } catch (java.io.IOException e) {
                // parent gone
            }
            server.close();
        });
        stdin.setDaemon(true);
        stdin.start();
        Optional<Throwable> failure = server.awaitClose();
        if (failure.isPresent()) {
            System.out.println("FAILED " + failure.get());
            System.exit(3);
        }
        System.exit(0);
    }
}
