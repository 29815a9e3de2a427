package org.webpolicy.broker;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.webpolicy.policy.Policy;

/**
 * Options of a {@link ChunkScheduler}, from {@link ChunkScheduler#builder(Policy, double)}. The
 * defaults suit a 50-step chunk at 50 Hz over a network; every option is checked here, and
 * {@link #build()} copies them, so reusing a builder never changes a scheduler already built.
 */
public final class ChunkSchedulerBuilder {

    private final Policy policy;
    private final double controlHz;
    private String actionKey = "actions";
    private Duration lead = Duration.ofMillis(200);
    private int maxSteps;
    private int blendSteps;
    private int[] blendComponents = new int[0];
    private int motorSteps = 1;
    private Duration grace = Duration.ofSeconds(1);
    private Duration startTimeout = Duration.ofSeconds(30);
    private int window = 10;
    private int warmSamples = 3;
    private double sigmas;
    private LongSupplier clock = System::nanoTime;

    ChunkSchedulerBuilder(Policy policy, double controlHz) {
        this.policy = Objects.requireNonNull(policy, "policy");
        if (!(controlHz > 0) || Double.isInfinite(controlHz)) {
            throw new IllegalArgumentException("controlHz must be a finite rate above 0, got " + controlHz);
        }
        this.controlHz = controlHz;
    }

    /**
     * The reply's key holding the actions, a float32 or float64 array (H, A); default
     * {@code actions}. Other arrays of the reply are sliced along with it.
     *
     * @param actionKey a top-level key of the policy's reply
     * @return this builder
     */
    public ChunkSchedulerBuilder actionKey(String actionKey) {
        this.actionKey = Objects.requireNonNull(actionKey, "actionKey");
        return this;
    }

    /**
     * The least playback left when the next chunk is asked for; default 200 ms. The scheduler asks
     * earlier when recent turnarounds need it. A long lead is not free: the new chunk is planned
     * from an older observation.
     *
     * @param lead zero or more
     * @return this builder
     */
    public ChunkSchedulerBuilder lead(Duration lead) {
        if (lead.isNegative()) {
            throw new IllegalArgumentException("lead must not be negative, got " + lead);
        }
        this.lead = lead;
        return this;
    }

    /**
     * Use at most this many rows of each chunk (an execution horizon); default 0, all of them.
     *
     * @param maxSteps 0 for all, or at least 1
     * @return this builder
     */
    public ChunkSchedulerBuilder maxSteps(int maxSteps) {
        if (maxSteps < 0) {
            throw new IllegalArgumentException("maxSteps must be 0 (all) or more, got " + maxSteps);
        }
        this.maxSteps = maxSteps;
        return this;
    }

    /**
     * Blend the listed components over the first {@code steps} actions of a new chunk with what
     * the old chunk planned for the same actions (only where it planned them); default none.
     * List continuous joints, not grippers: a gripper half open is no gripper command.
     *
     * @param steps 1 or more
     * @param components indices into the action vector, at least one
     * @return this builder
     */
    public ChunkSchedulerBuilder blend(int steps, int... components) {
        if (steps < 1) {
            throw new IllegalArgumentException("blend steps must be at least 1, got " + steps);
        }
        if (components.length == 0) {
            throw new IllegalArgumentException("blend needs the action components to blend (grippers left out)");
        }
        for (int c : components) {
            if (c < 0) {
                throw new IllegalArgumentException("blend components are indices from 0, got " + c);
            }
        }
        this.blendSteps = steps;
        this.blendComponents = components.clone();
        return this;
    }

    /**
     * Hand out {@code n} linear sub-steps per action, for a motor loop calling {@code step} at
     * {@code n} times the control rate; default 1 (no interpolation).
     *
     * @param n 1 or more
     * @return this builder
     */
    public ChunkSchedulerBuilder interpolation(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("interpolation must be at least 1 sub-step per action, got " + n);
        }
        this.motorSteps = n;
        return this;
    }

    /**
     * How long the last action is held when the plan runs out before the scheduler faults;
     * default 1 s.
     *
     * @param grace above zero
     * @return this builder
     */
    public ChunkSchedulerBuilder grace(Duration grace) {
        if (grace.isNegative() || grace.isZero()) {
            throw new IllegalArgumentException("grace must be positive, got " + grace);
        }
        this.grace = grace;
        return this;
    }

    /**
     * How long the first call of an episode waits for its first chunk (a cold model may take
     * seconds); default 30 s.
     *
     * @param startTimeout above zero
     * @return this builder
     */
    public ChunkSchedulerBuilder startTimeout(Duration startTimeout) {
        if (startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
        }
        this.startTimeout = startTimeout;
        return this;
    }

    /**
     * Estimate delays and turnarounds as the maximum of the last {@code window} replies
     * (the default, window 10).
     *
     * @param window 1 or more replies
     * @return this builder
     */
    public ChunkSchedulerBuilder maxOfLast(int window) {
        return estimate(window, 0);
    }

    /**
     * Estimate delays and turnarounds as mean + {@code sigmas} standard deviations of the last
     * {@code window} replies, instead of their maximum.
     *
     * @param window 2 or more replies
     * @param sigmas above 0, e.g. 2
     * @return this builder
     */
    public ChunkSchedulerBuilder meanPlusSigmas(int window, double sigmas) {
        if (window < 2 || !(sigmas > 0) || Double.isInfinite(sigmas)) {
            throw new IllegalArgumentException("meanPlusSigmas needs a window of 2 or more and sigmas above 0, got "
                    + window + " and " + sigmas);
        }
        return estimate(window, sigmas);
    }

    /**
     * Until this many warm turnarounds (after the cold first call) are measured, ask for the next
     * chunk at half the plan at the latest: one or two fast calls say little about a server's
     * jitter, and trusting a lucky one leaves too few actions for the slow call that follows.
     * Default 3; at most the estimate's window.
     *
     * @param warmSamples 1 or more turnarounds
     * @return this builder
     */
    public ChunkSchedulerBuilder warmSamples(int warmSamples) {
        if (warmSamples < 1) {
            throw new IllegalArgumentException("warmSamples must be at least 1, got " + warmSamples);
        }
        this.warmSamples = warmSamples;
        return this;
    }

    private ChunkSchedulerBuilder estimate(int window, double sigmas) {
        if (window < 1) {
            throw new IllegalArgumentException("the estimate's window must be at least 1 reply, got " + window);
        }
        this.window = window;
        this.sigmas = sigmas;
        return this;
    }

    /** The time source for grace and turnarounds; package-private: only tests replace it. */
    ChunkSchedulerBuilder clock(LongSupplier clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        return this;
    }

    /**
     * Makes the scheduler and starts its worker thread (a daemon).
     *
     * @return a new scheduler owning the policy
     */
    public ChunkScheduler build() {
        long period = Math.max(1, Math.round(1e9 / controlHz));
        long leadActions = (lead.toNanos() + period - 1) / period;
        return new ChunkScheduler(policy, new SchedulerOptions(actionKey, period, leadActions, maxSteps, blendSteps,
                blendComponents.clone(), motorSteps, grace.toNanos(), startTimeout.toNanos(), window, sigmas,
                Math.min(warmSamples, window), clock));
    }
}
