package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.image.compression.HostileImages;
import org.webpolicy.image.compression.ImageCodecNegotiation;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.server.ImageDecodePool;

/**
 * Issue 19's image attacks against a whole server with default options, while honest robots step
 * with sequence numbers: the honest steps keep flowing (every one answered, with its own
 * number), and the attackers' images cost what the bounds allow and no more. Asserts counts only.
 */
class ImageAttackServerTest {

    private static final MsgpackCodec CODEC = new MsgpackCodec();

    /** Answers a step with the observation's state only: attackers' images are never echoed. */
    static final class StateOnly implements Policy {
        final AtomicLong images = new AtomicLong();

        @Override
        public Map<String, Object> step(Map<String, Object> observation) {
            if (observation.get("images") instanceof Map<?, ?> m) {
                images.addAndGet(m.size());
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("state", observation.getOrDefault("state", NdArray.ofFloat32(new float[] {-1, -1})));
            return out;
        }
    }

    private static final class Honest {
        final AtomicLong answered = new AtomicLong();
        final AtomicLong crossed = new AtomicLong();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    }

    /** Robots stepping {@code steps} times each with their own sequence numbers, raw arrays. */
    private static List<Thread> honest(int port, int robots, int steps, Honest out) {
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < robots; r++) {
            int id = r;
            threads.add(new Thread(() -> {
                try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(port)
                        .connectTimeout(Duration.ofSeconds(10)).requestTimeout(Duration.ofSeconds(10)).build()) {
                    for (int i = 0; i < steps; i++) {
                        float seq = id * 100_000 + i;
                        Map<String, Object> action = client.step(TestPolicies.observation(seq));
                        float got = ((NdArray) action.get("state")).getFloat(0);
                        (got == seq ? out.answered : out.crossed).incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    out.failures.add("robot " + id + ": " + e);
                }
            }, "honest-" + r));
        }
        threads.forEach(Thread::start);
        return threads;
    }

    /** Attackers that, until {@code stop}, connect with the image codec, send {@code request} and read the answer. */
    private static List<Thread> attackers(int port, int count, byte[] request, AtomicBoolean stop,
            ConcurrentLinkedQueue<String> answers, boolean leaveAtOnce) {
        List<Thread> threads = new ArrayList<>();
        for (int a = 0; a < count; a++) {
            threads.add(new Thread(() -> {
                while (!stop.get()) {
                    RawClient raw = new RawClient(port, Map.of(ImageCodecNegotiation.HEADER, "jpeg"));
                    try {
                        if (!raw.connectBlocking(10, TimeUnit.SECONDS)) {
                            continue;
                        }
                        raw.nextBinary(); // metadata
                        raw.send(request);
                        if (!leaveAtOnce) {
                            RawClient.Event e = raw.next();
                            answers.add(e.text() != null ? e.text() : e.binary() != null ? "binary reply" : "close " + e.closeCode());
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException | AssertionError e) {
                        answers.add("attacker: " + e);
                    } finally {
                        raw.close();
                    }
                }
            }, "attacker-" + a));
        }
        threads.forEach(Thread::start);
        return threads;
    }

    private static byte[] request(String codec, List<Long> shape, byte[] data) {
        return CODEC.pack(Map.of("images", Map.of("cam_high", HostileImages.value(codec, shape, data))));
    }

    private static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread t : threads) {
            t.join(120_000);
        }
    }

    @Test
    void progressiveJpegsAreRefusedFromTheirHeaderWhileRobotsStep() throws Exception {
        StateOnly policy = new StateOnly();
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start()) {
            // 4096x4096 grey, a header that matches the declared shape, then 400 empty scans: 4 KB,
            // and about 4 s of a worker each before.
            byte[] attack = request("jpeg", List.of(4096L, 4096L, 1L), HostileImages.progressiveJpegWithEmptyScans(4096, 400));
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
            List<Thread> attack16 = attackers(server.port(), 16, attack, stop, answers, false);
            Thread.sleep(200); // the attack is under way before the robots start
            Honest robots = new Honest();
            joinAll(honest(server.port(), 4, 50, robots));
            stop.set(true);
            joinAll(attack16);
            assertEquals(List.of(), List.copyOf(robots.failures), "every honest step answered");
            assertEquals(200, robots.answered.get());
            assertEquals(0, robots.crossed.get());
            assertTrue(answers.size() >= 16, answers.size() + " attacks answered");
            for (String answer : answers) {
                assertTrue(answer.contains("frame type 0xc2") && answer.contains("progressive"), answer);
            }
            assertEquals(0, server.imageDecodes().started.get(), "no progressive JPEG reached a decoder");
            assertEquals(0, policy.images.get(), "no attack reached the policy");
            assertTrue(Probes.await(() -> server.inboundBytes() == 0, Duration.ofSeconds(10)), "budget given back");
        }
    }

    @Test
    void costlyValidImagesTakeAtMostTheirShareWhileRobotsStep() throws Exception {
        StateOnly policy = new StateOnly();
        try (PolicyServer server = PolicyServer.builder(policy).host("127.0.0.1").port(0).build().start()) {
            ImageDecodePool pool = server.imageDecodes();
            // A 16 KB grey 4096x4096 PNG: valid, 16 MiB decoded, tens of ms of a decoder's CPU.
            byte[] attack = request("png", List.of(4096L, 4096L, 1L), HostileImages.greyPng(4096, 4096));
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
            List<Thread> readers = attackers(server.port(), 16, attack, stop, answers, false);
            ConcurrentLinkedQueue<String> none = new ConcurrentLinkedQueue<>();
            List<Thread> leavers = attackers(server.port(), 8, attack, stop, none, true);
            AtomicLong mostBusy = new AtomicLong();
            Thread sampler = new Thread(() -> {
                while (!stop.get()) {
                    mostBusy.accumulateAndGet(pool.busySlots(), Math::max);
                    Thread.onSpinWait();
                }
            });
            sampler.start();
            Thread.sleep(200);
            Honest robots = new Honest();
            joinAll(honest(server.port(), 4, 50, robots));
            stop.set(true);
            joinAll(readers);
            joinAll(leavers);
            sampler.join();
            assertEquals(List.of(), List.copyOf(robots.failures), "every honest step answered");
            assertEquals(200, robots.answered.get());
            assertEquals(0, robots.crossed.get());
            assertTrue(mostBusy.get() <= 8, "at most half the 16 workers wait on images: " + mostBusy.get());
            for (String answer : answers) {
                // Decoded and answered, refused for want of a slot or budget, or (on a loaded
                // machine) abandoned at the decode deadline: each a bounded outcome.
                assertTrue(answer.equals("binary reply") || answer.contains("try again later")
                        || answer.contains("exceeded its deadline"), answer);
            }
            // Every decode that began ended (decoded, or stopped for a client that left); none is left running.
            assertTrue(Probes.await(() -> pool.busySlots() == 0 && server.inboundBytes() == 0, Duration.ofSeconds(20)),
                    "slots " + pool.busySlots() + ", budget held " + server.inboundBytes());
            assertTrue(Probes.await(() -> pool.started.get() == pool.finished.get() + pool.stopped.get(),
                    Duration.ofSeconds(20)), "started " + pool.started + ", finished " + pool.finished + ", stopped " + pool.stopped);
        }
    }
}
