package org.webpolicy.transport;

import java.time.Duration;
import java.util.Map;

/**
 * A robot's {@code main} that never closes its client: with {@code step PORT} it steps once on the
 * server at PORT; with {@code unreachable PORT} it tries a server that is not there and catches
 * the failure. Either way it returns, and the JVM must then exit on its own.
 */
public final class UnclosedClientMain {

    private UnclosedClientMain() {
    }

    public static void main(String[] args) {
        int port = Integer.parseInt(args[1]);
        PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port)
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
