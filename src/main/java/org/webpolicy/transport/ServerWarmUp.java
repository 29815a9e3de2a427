package org.webpolicy.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;
import org.webpolicy.array.Shape;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.policy.ObservationSpec;
import org.webpolicy.policy.Policy;

/**
 * A server's warm-up ({@link PolicyServerBuilder#warmUp(int)}): requests sent through a second
 * server, on a free loopback port, built from the same options, so the JIT compiles the code
 * every server of the JVM shares (handshake, frames, decode, check, policy call, reply encode,
 * image codecs) before the real one says ready. A second server rather than a connection to the
 * real one: robots may already be connected to the real one, and its metrics, exchange tap and
 * policy must not see made-up requests. Without a sample observation a stand-in answers in the
 * policy's place.
 */
final class ServerWarmUp {

    private static final Logger log = LoggerFactory.getLogger(ServerWarmUp.class);

    /** One warm-up at a time in a JVM: two at once would share the cores and warm nothing faster. */
    private static final Object LOCK = new Object();
    /** Set once our own code has been warmed in this JVM: compiled code serves every later server too. */
    private static boolean ownCodeWarm;

    /** An openpi-sized action chunk (50 steps of 14 joints) from the stand-in. */
    private static final Map<String, Object> STAND_IN_ACTION =
            Map.of("actions", NdArray.ofFloat32(new float[50 * 14], 50, 14));
    /** A stand-in shape for a spec's dimension of any size. */
    private static final long ANY_DIM = 16;
    /**
     * Every this many requests one carries JPEG images, and every four times as many PNG ones,
     * when the server accepts them: few, as an image request costs tens of plain ones (PNG
     * through the JDK: about 190 ms for 4 ALOHA cameras on a loaded 2-core machine, against
     * 1.5 ms for a raw request).
     */
    private static final int IMAGE_EVERY = 64;
    /** Long enough for a policy on a GPU to load its kernels on its first call. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

    private ServerWarmUp() {
    }

    /**
     * Runs the warm-up {@code options} ask for, if any is still needed in this JVM.
     *
     * @return the number of requests sent, 0 when none were needed
     * @throws IllegalStateException when a warm-up with the user's sample observation failed;
     *     a failure of the default warm-up is logged and not thrown
     */
    static int run(Policy policy, ServerOptions options) {
        ServerOptions.WarmUp warmUp = options.warmUp();
        if (warmUp == null || warmUp.requests() == 0) {
            return 0;
        }
        synchronized (LOCK) {
            if (!warmUp.callsPolicy() && ownCodeWarm) {
                log.debug("Warm-up skipped: this JVM's server code is already warm");
                return 0;
            }
            long start = System.nanoTime();
            try {
                exchange(warmUp.callsPolicy() ? policy : new StandIn(), options);
            } catch (RuntimeException e) {
                if (warmUp.callsPolicy()) {
                    throw new IllegalStateException("The warm-up with the sample observation failed: " + e.getMessage(), e);
                }
                log.warn("The server's warm-up failed ({}); serving without it", e.toString());
                return 0;
            }
            ownCodeWarm = true;
            log.info("Warmed up with {} requests in {} ms ({})", warmUp.requests(), (System.nanoTime() - start) / 1_000_000,
                    warmUp.callsPolicy() ? "the sample observation, through the policy" : "synthetic observations, policy not called");
            return warmUp.requests();
        }
    }

    /** Forgets that this JVM is warm, so the next server runs its warm-up again (for tests). */
    static void forgetWarmth() {
        synchronized (LOCK) {
            ownCodeWarm = false;
        }
    }

    private static void exchange(Policy served, ServerOptions options) {
        ServerOptions.WarmUp warmUp = options.warmUp();
        Map<String, Object> observation = warmUp.callsPolicy() ? warmUp.sample() : synthetic(options.observationSpec());
        PolicyServer server = new PolicyServer(served, forWarmUp(options));
        List<PolicyClient> clients = new ArrayList<>();
        try {
            server.start();
            String uri = "ws://127.0.0.1:" + server.port();
            // Both forms in turn, so the compiled code is profiled on what robots of either kind send.
            PolicyClient raw = connect(clients, uri, ProtocolMode.RAW, ImageCodec.RAW);
            PolicyClient envelope = connect(clients, uri, ProtocolMode.ENVELOPE, ImageCodec.RAW);
            PolicyClient jpeg = options.acceptImageCodecs() ? connect(clients, uri, ProtocolMode.ENVELOPE, ImageCodec.jpeg()) : null;
            PolicyClient png = options.acceptImageCodecs() ? connect(clients, uri, ProtocolMode.ENVELOPE, ImageCodec.PNG) : null;
            for (int i = 0; i < warmUp.requests(); i++) {
                PolicyClient client = i % 2 == 0 ? raw : envelope;
                if (jpeg != null && i % IMAGE_EVERY == IMAGE_EVERY - 1) {
                    client = i % (4 * IMAGE_EVERY) == IMAGE_EVERY - 1 ? png : jpeg;
                }
                client.step(observation);
            }
        } finally {
            for (PolicyClient c : clients) {
                c.close();
            }
            server.close();
        }
    }

    private static PolicyClient connect(List<PolicyClient> clients, String uri, ProtocolMode mode, ImageCodec codec) {
        PolicyClient client = PolicyClient.builder().uri(uri).protocolMode(mode).imageCodec(codec).reconnect(false)
                .requestTimeout(REQUEST_TIMEOUT).build();
        clients.add(client);
        return client.connect();
    }

    /**
     * The options of the warm-up's own server: the real one's limits and codec settings, on a
     * free loopback port, plain {@code ws://}, without key, health port, drain, batching, tap,
     * or, when the stand-in answers, the user's observation check (the spec's, ours, stays).
     */
    static ServerOptions forWarmUp(ServerOptions options) {
        boolean callsPolicy = options.warmUp().callsPolicy();
        Consumer<Map<String, Object>> check = callsPolicy ? options.observationCheck()
                : options.observationSpec() == null ? null : options.observationSpec()::checkReceived;
        return new ServerOptions("127.0.0.1", 0, null, null, options.observationSpec(), check, options.serverTiming(),
                null, -1, options.acceptImageCodecs(), false, null, options.limits(),
                new ServerOptions.Shutdown(Duration.ZERO, options.shutdown().shutdownGrace()),
                new ServerOptions.Batching(0, Duration.ZERO), new ServerOptions.WarmUp(0, null),
                // the same buffer path and threads as the real server's, so that they are warm too
                options.reuseMessageBuffers(), options.answerOnLoopThreads());
    }

    /** An observation of the spec's keys, dtypes and shapes, or an ALOHA-sized one without a spec. */
    static Map<String, Object> synthetic(ObservationSpec spec) {
        Random random = new Random(22);
        Map<String, Object> obs = new LinkedHashMap<>();
        if (spec == null) {
            obs.put("state", NdArray.ofFloat64(random.doubles(14).toArray()));
            Map<String, Object> images = new LinkedHashMap<>();
            for (String camera : new String[] {"cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist"}) {
                images.put(camera, filled(random, DType.UINT8, 3, 224, 224));
            }
            obs.put("images", images);
            obs.put("prompt", "warm up");
            return obs;
        }
        for (Map.Entry<String, ObservationSpec.Entry> e : spec.entries().entrySet()) {
            ObservationSpec.Entry entry = e.getValue();
            if (entry.kind() == ObservationSpec.Entry.Kind.STRING) {
                obs.put(e.getKey(), "warm up");
                continue;
            }
            long[] shape = entry.shape() == null ? new long[] {ANY_DIM} : entry.shape();
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == ObservationSpec.ANY) {
                    shape[i] = ANY_DIM;
                }
            }
            obs.put(e.getKey(), filled(random, entry.dtype() == null ? DType.FLOAT32 : entry.dtype(), shape));
        }
        return obs;
    }

    /** Random bytes rather than zeros: image codecs take their usual time only on pictures that do not compress to nothing. */
    private static NdArray filled(Random random, DType dtype, long... shape) {
        byte[] bytes = new byte[Math.toIntExact(NdArray.byteSize(dtype, Shape.of(shape)))];
        random.nextBytes(bytes);
        return NdArray.fromBytes(dtype, Shape.of(shape), bytes);
    }

    /** Answers in the policy's place during the default warm-up: the policy is never called with made-up data. */
    private static final class StandIn implements Policy {
        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            return STAND_IN_ACTION;
        }

        @Override
        public boolean isThreadSafe() {
            return true;
        }
    }
}
