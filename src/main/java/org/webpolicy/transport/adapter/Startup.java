package org.webpolicy.transport.adapter;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.webpolicy.transport.ServerOptions;

/**
 * The server's start, seen from the thread that starts it: the port probed first, then a wait
 * for the library's server thread to bind it or fail, each failure one clear exception.
 */
final class Startup {

    private final ServerOptions options;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile Exception failure;

    Startup(ServerOptions options) {
        this.options = options;
    }

    /**
     * A port in use is one clear exception here, where the library's own bind failure would also
     * log itself at ERROR with a stack trace (its logger, not ours). A port taken between the probe
     * and the bind still fails {@link #await} with the same text.
     */
    void probe(InetSocketAddress address) {
        if (options.port() == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(address);
        } catch (BindException e) {
            throw notStarted(e);
        } catch (IOException | RuntimeException e) {
            // Anything else (an unresolvable host, ...) is left to the library's bind, which names it.
        }
    }

    /** The port is bound. */
    void started() {
        started.countDown();
    }

    /** True (and the failure kept for {@link #await}) when {@code e} came before the server started: it failed to start. */
    boolean failed(Exception e) {
        if (started.getCount() == 0) {
            return false;
        }
        failure = e;
        started.countDown();
        return true;
    }

    void await() throws InterruptedException {
        if (!started.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Server did not start within 30 s");
        }
        if (failure != null) {
            throw notStarted(failure);
        }
    }

    private IllegalStateException notStarted(Exception cause) {
        String advice = cause instanceof BindException && String.valueOf(cause.getMessage()).contains("in use")
                ? " (another process listens there: stop it, or choose another port, 0 for a free one)" : "";
        return new IllegalStateException("Could not start the policy server on " + options.host() + ":" + options.port()
                + ": " + cause.getMessage() + advice, cause);
    }
}
