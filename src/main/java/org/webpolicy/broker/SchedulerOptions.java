package org.webpolicy.broker;

import java.util.function.LongSupplier;

/** The settings of a {@link ChunkScheduler}, resolved by {@link ChunkSchedulerBuilder#build()}. */
record SchedulerOptions(String actionKey, long periodNanos, long leadActions, int maxSteps, int blendSteps,
        int[] blendComponents, int motorSteps, long graceNanos, long startTimeoutNanos, int window, double sigmas,
        int warmSamples, LongSupplier clock) {
}
