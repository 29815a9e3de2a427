package org.webpolicy.transport;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.metrics.Histogram;
import org.webpolicy.transport.metrics.ServerMetrics;

/**
 * Publishes a {@link PolicyServer}'s metrics to a Micrometer {@link MeterRegistry}, for
 * applications that already run one. The meters read the server's own counters when the registry
 * asks, so binding adds nothing to the request path. Needs {@code io.micrometer:micrometer-core},
 * an optional dependency of this library: declare it yourself to use this class. Without it the
 * server works as before, and {@code GET /metrics} still answers the Prometheus text.
 *
 * <pre>{@code
 * MicrometerMetrics.bind(server, registry);
 * }</pre>
 */
public final class MicrometerMetrics {

    private MicrometerMetrics() {
    }

    /**
     * Registers the server's meters with {@code registry}: counters of requests, replies, bytes,
     * policy calls, observations and failures by kind; gauges of connections and draining; timers
     * (count and total time) of each stage a request passes.
     *
     * @param server the server whose metrics to publish
     * @param registry where to register them
     */
    public static void bind(PolicyServer server, MeterRegistry registry) {
        ServerMetrics m = server.metrics();
        counter(registry, "webpolicy.requests", "Requests received (steps and resets)", m.requests, null);
        counter(registry, "webpolicy.replies", "Replies sent", m.replies, null);
        counter(registry, "webpolicy.received", "Request message bytes received", m.bytesIn, "bytes");
        counter(registry, "webpolicy.sent", "Reply message bytes sent", m.bytesOut, "bytes");
        counter(registry, "webpolicy.policy.calls", "Calls into step or stepBatch", m.batches, null);
        FunctionCounter.builder("webpolicy.policy.observations", m.batchSizes, Histogram::sum)
                .description("Observations given to the policy, over all calls").register(registry);
        counter(registry, "webpolicy.continued.steps", "Steps that carried a continuation", m.continuedSteps, null);
        for (FailureKind kind : FailureKind.values()) {
            FunctionCounter.builder("webpolicy.request.errors", m, metrics -> metrics.failures(kind)).tag("kind", kind.label)
                    .description("Requests failed, and connections cut past a bound, by kind").register(registry);
        }
        Gauge.builder("webpolicy.connections", server, PolicyServer::connectionCount)
                .description("Open WebSocket connections").register(registry);
        Gauge.builder("webpolicy.draining", server, s -> s.endpoint().draining ? 1 : 0)
                .description("1 while the server drains before closing").register(registry);
        timer(registry, "webpolicy.request", "Arrival to reply queued", m.requestSeconds);
        timer(registry, "webpolicy.queue.wait", "Arrival to a worker taking the request", m.queueSeconds);
        timer(registry, "webpolicy.batch.wait", "Arrival at the batcher to the batch starting", m.batchWaitSeconds);
        timer(registry, "webpolicy.policy", "Each policy call", m.policySeconds);
        timer(registry, "webpolicy.decode", "Decoding a request", m.decodeSeconds);
        timer(registry, "webpolicy.encode", "Encoding a reply", m.encodeSeconds);
    }

    private static void counter(MeterRegistry registry, String name, String description, LongAdder adder, String unit) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).baseUnit(unit).register(registry);
    }

    private static void timer(MeterRegistry registry, String name, String description, Histogram histogram) {
        FunctionTimer.builder(name, histogram, Histogram::count, Histogram::sum, TimeUnit.NANOSECONDS)
                .description(description).register(registry);
    }
}
