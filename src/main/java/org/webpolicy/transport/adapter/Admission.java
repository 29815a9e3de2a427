package org.webpolicy.transport.adapter;

import org.webpolicy.transport.ServerOptions;
import org.webpolicy.transport.server.ProtocolCore;
import org.webpolicy.transport.server.Readiness;

/** The handshake gate's questions, answered from the server's options, its core and, once it exists, its endpoint. */
final class Admission implements HandshakeDraft.Gate {

    private final ServerOptions options;
    private final ProtocolCore core;
    /** Set once the endpoint is built; no handshake is decoded before. */
    volatile ServerEndpoint endpoint;

    Admission(ServerOptions options, ProtocolCore core) {
        this.options = options;
        this.core = core;
    }

    @Override
    public byte[] apiKey() {
        return options.apiKey();
    }

    @Override
    public boolean full() {
        return endpoint.full();
    }

    @Override
    public boolean failed() {
        return endpoint.failed();
    }

    @Override
    public boolean acceptsImageCodecs() {
        return options.acceptImageCodecs();
    }

    @Override
    public boolean acceptsContinuation() {
        return core.acceptsContinuation();
    }

    @Override
    public boolean draining() {
        return endpoint.draining;
    }

    @Override
    public Readiness.Answer readiness() {
        return endpoint.readiness.answer(endpoint.draining, endpoint.failed());
    }

    @Override
    public boolean publicMetrics() {
        return options.publicMetrics();
    }

    @Override
    public String metricsText() {
        return core.metrics().prometheusText(endpoint.openConnections(), endpoint.draining);
    }
}
