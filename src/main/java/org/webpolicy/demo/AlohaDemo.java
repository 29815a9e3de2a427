package org.webpolicy.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.webpolicy.broker.ActionChunkBroker;
import org.webpolicy.broker.AsyncActionChunkBroker;
import org.webpolicy.broker.ChunkScheduler;
import org.webpolicy.broker.ChunkSchedulerStats;
import org.webpolicy.image.ImageTools;
import org.webpolicy.image.compression.ImageCodec;
import org.webpolicy.internal.nativelib.ImageNative;
import org.webpolicy.internal.nativelib.NativeLibrary;
import org.webpolicy.policy.Policy;
import org.webpolicy.runtime.ChunkQualitySubscriber;
import org.webpolicy.runtime.LatencySubscriber;
import org.webpolicy.runtime.LatencySummary;
import org.webpolicy.runtime.PolicyAgent;
import org.webpolicy.runtime.ControlLoop;
import org.webpolicy.runtime.StepInfo;
import org.webpolicy.runtime.Subscriber;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyClientBuilder;
import org.webpolicy.transport.PolicyServer;

/**
 * The whole robot path in one process: a {@link SimulatedAlohaEnvironment} feeds a
 * {@link ControlLoop} at {@code hz}; its agent is a broker over a {@link PolicyClient} talking
 * WebSocket to a {@link PolicyServer} on a free local port that serves a {@link DemoPolicy} (or
 * to an external server). Everything it starts is closed before {@link #run} returns.
 */
public final class AlohaDemo {

    /** Which broker turns chunks into per-tick actions. */
    public enum BrokerKind {
        /** {@code ActionChunkBroker}: the robot waits for every chunk. */
        SYNC,
        /** {@code AsyncActionChunkBroker}: the next chunk is asked for before the current one runs out. */
        ASYNC,
        /**
         * {@code ChunkScheduler}: asks ahead by measured turnaround, sends the continuation when the
         * server takes one, holds then faults when the policy is gone.
         */
        SCHEDULER
    }

    /**
     * @param hz control rate
     * @param stepsPerEpisode steps in each episode
     * @param episodes episodes to run
     * @param broker sync or async
     * @param actionHorizon steps of each chunk used
     * @param threshold for the async broker: ask for the next chunk with fewer actions left
     * @param inferenceTime how long the in-process policy pretends to think
     * @param connectUri an external server's ws:// URI, or null for the in-process one
     * @param prompt the task prompt sent with each observation
     * @param imageCodec how camera images travel when the server accepts it (raw otherwise)
     * @param honourContinuation whether the in-process policy honours the scheduler's continuation
     * @param lead for the scheduler: the least playback left when it asks for the next chunk
     * @param grace for the scheduler: how long it holds the last action before it faults
     */
    public record Options(double hz, int stepsPerEpisode, int episodes, BrokerKind broker, int actionHorizon,
            int threshold, Duration inferenceTime, String connectUri, String prompt, ImageCodec imageCodec,
            boolean honourContinuation, Duration lead, Duration grace) {
        /**
         * Checks what the demo cannot run with.
         *
         * @param hz control rate
         * @param stepsPerEpisode steps in each episode, at least 1
         * @param episodes episodes to run, at least 1
         * @param broker sync or async
         * @param actionHorizon steps of each chunk used
         * @param threshold for the async broker: ask for the next chunk with fewer actions left
         * @param inferenceTime how long the in-process policy pretends to think
         * @param connectUri an external server's ws:// URI, or null for the in-process one
         * @param prompt the task prompt sent with each observation
         * @param imageCodec how camera images travel when the server accepts it (raw otherwise)
         * @param honourContinuation whether the in-process policy honours the scheduler's continuation
         * @param lead for the scheduler: the least playback left when it asks for the next chunk
         * @param grace for the scheduler: how long it holds the last action before it faults
         * @throws NullPointerException when broker, inferenceTime, prompt, imageCodec, lead or grace is null
         * @throws IllegalArgumentException when steps or episodes are below 1
         */
        public Options {
            Objects.requireNonNull(imageCodec, "imageCodec");
            Objects.requireNonNull(lead, "lead");
            Objects.requireNonNull(grace, "grace");
            Objects.requireNonNull(broker, "broker");
            Objects.requireNonNull(inferenceTime, "inferenceTime");
            Objects.requireNonNull(prompt, "prompt");
            if (stepsPerEpisode < 1 || episodes < 1) {
                throw new IllegalArgumentException("steps and episodes must be at least 1");
            }
        }

        /**
         * Options with the scheduler's defaults (lead 200 ms, grace 1 s) and a policy that honours
         * continuations.
         *
         * @param hz control rate
         * @param stepsPerEpisode steps in each episode, at least 1
         * @param episodes episodes to run, at least 1
         * @param broker sync, async or scheduler
         * @param actionHorizon steps of each chunk used
         * @param threshold for the async broker: ask for the next chunk with fewer actions left
         * @param inferenceTime how long the in-process policy pretends to think
         * @param connectUri an external server's ws:// URI, or null for the in-process one
         * @param prompt the task prompt sent with each observation
         * @param imageCodec how camera images travel when the server accepts it (raw otherwise)
         */
        public Options(double hz, int stepsPerEpisode, int episodes, BrokerKind broker, int actionHorizon, int threshold,
                Duration inferenceTime, String connectUri, String prompt, ImageCodec imageCodec) {
            this(hz, stepsPerEpisode, episodes, broker, actionHorizon, threshold, inferenceTime, connectUri, prompt,
                    imageCodec, true, Duration.ofMillis(200), Duration.ofSeconds(1));
        }

        /**
         * Options with images sent raw.
         *
         * @param hz control rate
         * @param stepsPerEpisode steps in each episode, at least 1
         * @param episodes episodes to run, at least 1
         * @param broker sync or async
         * @param actionHorizon steps of each chunk used
         * @param threshold for the async broker: ask for the next chunk with fewer actions left
         * @param inferenceTime how long the in-process policy pretends to think
         * @param connectUri an external server's ws:// URI, or null for the in-process one
         * @param prompt the task prompt sent with each observation
         * @throws NullPointerException when broker, inferenceTime or prompt is null
         * @throws IllegalArgumentException when steps or episodes are below 1
         */
        public Options(double hz, int stepsPerEpisode, int episodes, BrokerKind broker, int actionHorizon, int threshold,
                Duration inferenceTime, String connectUri, String prompt) {
            this(hz, stepsPerEpisode, episodes, broker, actionHorizon, threshold, inferenceTime, connectUri, prompt,
                    ImageCodec.RAW);
        }
    }

    private AlohaDemo() {
    }

    /**
     * Runs the demo; every server, client and thread it started is closed when it returns.
     *
     * @param o what to run
     * @param watchers more subscribers of the control loop (progress, recording), told of every step
     * @return what the run did
     * @throws RuntimeException whatever stopped the run: no server, a failed step
     */
    public static DemoResult run(Options o, Subscriber... watchers) {
        return run(o, List.of(), watchers);
    }

    /**
     * Runs the demo with real cameras feeding the images (one to three; OpenCV's natives needed);
     * every server, client, camera and thread it started is closed when it returns.
     *
     * @param o what to run
     * @param cameraSources the cameras, in the order of {@link SimulatedAlohaEnvironment#CAMERAS};
     *     empty for the drawn frames
     * @param watchers more subscribers of the control loop (progress, recording), told of every step
     * @return what the run did
     * @throws RuntimeException whatever stopped the run: no server, a camera that cannot open or
     *     stopped, a failed step
     */
    public static DemoResult run(Options o, List<org.webpolicy.camera.CameraSource> cameraSources,
                                 Subscriber... watchers) {
        return run(o, cameraSources, org.webpolicy.camera.Camera.Options.DEFAULT, watchers);
    }

    /**
     * Runs the demo with real cameras read with the given options ({@code withLoop(true)} plays
     * video files over and over). A camera that ends (a file played out, a vanished device) ends
     * the run early, with the result saying so ({@link DemoResult#endedEarly()}); a camera
     * slower than the loop gives its previous frame again instead of making a step wait
     * ({@link CameraReport#reusedFrames()}).
     *
     * @param o what to run
     * @param cameraSources the cameras, in the order of {@link SimulatedAlohaEnvironment#CAMERAS};
     *     empty for the drawn frames
     * @param cameraOptions how the cameras read
     * @param watchers more subscribers of the control loop (progress, recording), told of every step
     * @return what the run did
     * @throws RuntimeException whatever stopped the run: no server, a camera that cannot open or
     *     gives no first frame, a failed step
     */
    public static DemoResult run(Options o, List<org.webpolicy.camera.CameraSource> cameraSources,
                                 org.webpolicy.camera.Camera.Options cameraOptions, Subscriber... watchers) {
        if (cameraSources.size() > SimulatedAlohaEnvironment.CAMERAS.size()) {
            throw new IllegalArgumentException("At most " + SimulatedAlohaEnvironment.CAMERAS.size() + " cameras, got "
                    + cameraSources.size());
        }
        org.webpolicy.camera.CameraGroup cameras = null;
        if (!cameraSources.isEmpty()) {
            Map<String, org.webpolicy.camera.CameraSource> named = new java.util.LinkedHashMap<>();
            for (int i = 0; i < cameraSources.size(); i++) {
                named.put(SimulatedAlohaEnvironment.CAMERAS.get(i), cameraSources.get(i));
            }
            cameras = org.webpolicy.camera.CameraGroup.open(named, cameraOptions);
        }
        try {
            return run(o, new SimulatedAlohaEnvironment(o.prompt(), cameras), cameras, watchers);
        } finally {
            if (cameras != null) {
                cameras.close();
            }
        }
    }

    private static DemoResult run(Options o, SimulatedAlohaEnvironment env, org.webpolicy.camera.CameraGroup cameras,
                                  Subscriber... watchers) {
        PolicyServer server = null;
        PolicyClient policy = null;
        Policy broker = null;
        try {
            PolicyClientBuilder client = PolicyClient.builder().connectTimeout(Duration.ofSeconds(10))
                    .imageCodec(o.imageCodec());
            if (o.connectUri() == null) {
                server = PolicyServer.builder(new DemoPolicy(o.inferenceTime(), o.honourContinuation()))
                        .observationSpec(DemoPolicy.OBSERVATION_SPEC).host("127.0.0.1").port(0).build().start();
                client.host("127.0.0.1").port(server.port());
            } else {
                client.uri(o.connectUri());
            }
            policy = client.build();
            policy.connect();
            String uri = policy.uri().toString();
            broker = switch (o.broker()) {
                case SYNC -> ActionChunkBroker.builder(policy, o.actionHorizon()).build();
                case ASYNC -> AsyncActionChunkBroker.builder(policy, o.actionHorizon()).threshold(o.threshold()).build();
                case SCHEDULER -> ChunkScheduler.builder(policy, o.hz()).lead(o.lead()).grace(o.grace()).build();
            };
            LatencySubscriber perEpisode = new LatencySubscriber();
            // Seams: the scheduler numbers its chunks; the demo policy numbers its replies (chunk_id),
            // which an external server's replies need not carry.
            ChunkQualitySubscriber quality = broker instanceof ChunkScheduler scheduler
                    ? new ChunkQualitySubscriber("actions", step -> scheduler.chunkSequence())
                    : o.connectUri() == null ? ChunkQualitySubscriber.byChunkKey("actions", "chunk_id") : null;
            AllSteps all = new AllSteps();
            // The prompt travels in every observation; the reset carries it too where the server
            // can receive it (an openpi server has no remote reset, and a payload would be refused).
            Map<String, Object> resetPayload = policy.usesEnvelope() ? Map.of("prompt", o.prompt()) : Map.of();
            ControlLoop.Builder loopBuilder = ControlLoop.builder().environment(env)
                    .agent(new PolicyAgent(broker, resetPayload))
                    .subscriber(perEpisode).subscriber(all).maxHz(o.hz()).numEpisodes(o.episodes())
                    .maxEpisodeSteps(o.stepsPerEpisode());
            if (quality != null) {
                loopBuilder.subscriber(quality);
            }
            for (Subscriber watcher : watchers) {
                loopBuilder.subscriber(watcher);
            }
            // A camera that ended completes the episode (the environment says so) and the run.
            java.util.concurrent.atomic.AtomicReference<ControlLoop> built = new java.util.concurrent.atomic.AtomicReference<>();
            loopBuilder.subscriber(new Subscriber() {
                @Override
                public void onEpisodeEnd() {
                    if (env.cameraEnd().isPresent()) {
                        built.get().stop();
                    }
                }
            });
            ControlLoop loop = loopBuilder.build();
            built.set(loop);
            long start = System.nanoTime();
            loop.run();
            Duration wall = Duration.ofNanos(System.nanoTime() - start);

            long chunks;
            long waits;
            ChunkSchedulerStats schedulerStats = null;
            if (broker instanceof ChunkScheduler scheduler) {
                schedulerStats = scheduler.stats();
                chunks = schedulerStats.chunksRequested();
                waits = schedulerStats.waits() + schedulerStats.holdEpisodes();
            } else if (broker instanceof AsyncActionChunkBroker async) {
                chunks = async.chunksRequested();
                waits = async.waits();
            } else {
                chunks = ((ActionChunkBroker) broker).chunksRequested();
                waits = chunks; // the sync broker makes the robot wait for every chunk
            }
            long steps = loop.steps();
            return new DemoResult((int) loop.episodes(), steps, chunks, waits, loop.missedDeadlines(),
                    all.summary(loop.missedDeadlines()), perEpisode.summaries(),
                    steps == 0 ? 0 : env.resizeNanos() / env.observations(), imagePath(), uri, wall,
                    policy.imageCodecInUse(), quality == null ? null : quality.summary(), schedulerStats,
                    policy.acceptsContinuation(), cameraReports(cameras, env),
                    env.cameraEnd().map(end -> "step " + env.cameraEndStep() + ": " + end).orElse(null));
        } finally {
            if (broker != null) {
                broker.close(); // closes the client too
            } else if (policy != null) {
                policy.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    private static List<CameraReport> cameraReports(org.webpolicy.camera.CameraGroup cameras,
                                                    SimulatedAlohaEnvironment env) {
        if (cameras == null) {
            return List.of();
        }
        List<CameraReport> reports = new ArrayList<>();
        for (org.webpolicy.camera.Camera c : cameras.cameras()) {
            String end = env.cameraEnd().isPresent() ? c.stopReason().orElse(null) : null;
            reports.add(new CameraReport(c.name(), c.source().toString(), c.sourceFramesPerSecond(), c.framesRead(),
                    c.reusedFrames(), c.droppedFrames(), c.loops(), end));
        }
        return List.copyOf(reports);
    }

    /**
     * What resizes the frames now.
     *
     * @return {@code native (AVX2)}, {@code native (NEON)}, {@code native (scalar)} or {@code java}
     */
    public static String imagePath() {
        if (!"native".equals(ImageTools.backendName())) {
            return "java";
        }
        return "native (" + (NativeLibrary.isLoaded() ? ImageNative.simdName(ImageNative.wp_simd_level()) : "scalar") + ")";
    }

    /** Every step's latency, across episodes. */
    private static final class AllSteps implements Subscriber {
        private final List<Long> nanos = new ArrayList<>();

        @Override
        public void onStep(StepInfo step) {
            nanos.add(step.actionLatencyNanos());
        }

        LatencySummary summary(long missed) {
            long[] values = nanos.stream().mapToLong(Long::longValue).toArray();
            return LatencySummary.of(0, values, values.length, missed);
        }
    }
}
