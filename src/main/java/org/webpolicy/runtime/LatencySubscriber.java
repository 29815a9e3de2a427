package org.webpolicy.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records each step's action latency and missed deadline; at the end of each episode logs a
 * {@link LatencySummary} (SLF4J, INFO), hands it to an optional consumer and keeps it.
 *
 * <p>Thread-safe: the loop's thread records, any thread may read the summaries.
 */
public final class LatencySubscriber implements Subscriber {

    private static final Logger log = LoggerFactory.getLogger(LatencySubscriber.class);

    private final Consumer<LatencySummary> onSummary;
    private final List<LatencySummary> summaries = new ArrayList<>();
    private long[] latencies = new long[256];
    private int count;
    private long missed;
    private int episode = -1;

    /** Logs each episode's summary. */
    public LatencySubscriber() {
        this(summary -> { });
    }

    /**
     * Logs each episode's summary and passes it to {@code onSummary} (on the loop's thread).
     *
     * @param onSummary told of each episode's summary when the episode ends
     */
    public LatencySubscriber(Consumer<LatencySummary> onSummary) {
        this.onSummary = Objects.requireNonNull(onSummary, "onSummary");
    }

    @Override
    public synchronized void onEpisodeStart() {
        episode++;
        count = 0;
        missed = 0;
    }

    @Override
    public synchronized void onStep(StepInfo step) {
        if (count == latencies.length) {
            latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = step.actionLatencyNanos();
        if (step.deadlineMissed()) {
            missed++;
        }
    }

    @Override
    public void onEpisodeEnd() {
        LatencySummary summary;
        synchronized (this) {
            summary = LatencySummary.of(episode, latencies, count, missed);
            summaries.add(summary);
        }
        log.info("{}", summary);
        onSummary.accept(summary);
    }

    /**
     * The summaries of the episodes ended so far, in order.
     *
     * @return a copy of them
     */
    public synchronized List<LatencySummary> summaries() {
        return List.copyOf(summaries);
    }

    /**
     * The last episode's summary, once one has ended.
     *
     * @return the summary, or empty before the first episode ended
     */
    public synchronized Optional<LatencySummary> lastSummary() {
        return summaries.isEmpty() ? Optional.empty() : Optional.of(summaries.get(summaries.size() - 1));
    }
}
