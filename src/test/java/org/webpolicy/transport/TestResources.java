package org.webpolicy.transport;

import java.util.ArrayList;
import java.util.List;

/** What a test opened (servers, clients, sockets), closed in reverse order when the test ends. */
final class TestResources implements AutoCloseable {

    private final List<AutoCloseable> opened = new ArrayList<>();

    <T extends AutoCloseable> T add(T resource) {
        opened.add(resource);
        return resource;
    }

    /** Starts a server from {@code builder} on a free loopback port. */
    PolicyServer serve(PolicyServerBuilder builder) {
        return add(builder.host("127.0.0.1").port(0).build().start());
    }

    @Override
    public void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        opened.clear();
    }
}
