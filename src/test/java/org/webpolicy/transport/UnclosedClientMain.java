package org.webpolicy.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A robot's {@code main} that never closes its client: with {@code step PORT} it steps once on the
 * server at PORT; with {@code unreachable PORT} it tries a server that is not there and catches
 * the failure. Either way it returns, and the JVM must then exit on its own. A third argument, the
 * key store of the parent's {@link TestTls}, makes it a {@code wss://} client trusting that certificate.
 */
public final class UnclosedClientMain {

    private UnclosedClientMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        PolicyClientBuilder builder = args.length > 2
                ? PolicyClient.builder().uri("wss://127.0.0.1:" + port).sslContext(TestTls.load(Path.of(args[2])).client)
                : PolicyClient.builder().host("127.0.0.1").port(port);
        PolicyClient client = builder
                .connectTimeout(Duration.ofMillis(args[0].equals("step") ? 10_000 : 400)).build();
        if (args[0].equals("step")) {
            System.out.println("stepped: " + client.step(Map.of("n", 1L)));
        } else {
            try {
                client.step(Map.of("n", 1L));
            } catch (PolicyConnectionException e) {
                System.out.println("unreachable: " + e.getMessage());
            }
        }
        // No close: the library's threads must not keep this JVM alive.
    }
}
