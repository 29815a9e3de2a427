package org.webpolicy.broker;

import java.util.Map;
import org.webpolicy.array.NdArray;
import org.webpolicy.runtime.MotionMeter;

/**
 * The scheduler's plan and where the robot is in it: the cursor (actions executed this episode),
 * the action being executed (handed out whole, or interpolated towards at a motor rate) and the
 * one before, and the switch to a new plan, which replaces only the future. Feeds the chunk
 * quality figures. Not thread-safe: used under the scheduler's lock.
 */
final class Playback {

    private final SchedulerOptions o;
    private final MotionMeter motion = new MotionMeter();
    private ChunkPlan plan;
    private long plansMade;
    private long cursor;
    private long actionsTotal;
    private boolean seamNext;
    /** The action being executed (handed out whole or interpolated towards) and the one before. */
    private Map<String, Object> target;
    private double[] targetValues;
    private double[] fromValues;
    private int subStep;

    Playback(SchedulerOptions options) {
        this.o = options;
        this.subStep = options.motorSteps();
    }

    /** Forgets the plan and the cursor for a new episode; counters and the motion figures stay. */
    void reset() {
        cursor = 0;
        plan = null;
        seamNext = false;
        target = null;
        targetValues = null;
        fromValues = null;
        subStep = o.motorSteps();
        motion.breakMotion();
    }

    /** Whether an action was handed out in this episode. */
    boolean started() {
        return target != null;
    }

    /** Whether the action being executed still has motor sub-steps to hand out. */
    boolean interpolating() {
        return subStep < o.motorSteps();
    }

    /** Whether the plan holds the action at the cursor. */
    boolean hasNext() {
        return plan != null && plan.covers(cursor);
    }

    ChunkPlan plan() {
        return plan;
    }

    long cursor() {
        return cursor;
    }

    long actionsTotal() {
        return actionsTotal;
    }

    MotionMeter motion() {
        return motion;
    }

    /** Actions left in the plan from the cursor on. */
    long left() {
        return plan == null ? 0 : Math.max(0, plan.end() - cursor);
    }

    /** The plan's rows from {@code c0} on, padded with the last action (never zeros). */
    NdArray continuationFrom(long c0) {
        return plan.continuation(c0, targetValues);
    }

    /** Takes the plan's action at the cursor: it becomes the committed target. */
    Map<String, Object> advance() {
        double[] row = plan.row(cursor);
        Map<String, Object> action = plan.action(cursor, row);
        motion.add(row, seamNext);
        seamNext = false;
        cursor++;
        actionsTotal++;
        fromValues = targetValues == null ? row : targetValues;
        targetValues = row;
        target = action;
        subStep = 1;
        return o.motorSteps() == 1 ? action : interpolated();
    }

    /** The next motor sub-step towards the action being executed. */
    Map<String, Object> nextSubStep() {
        subStep++;
        return interpolated();
    }

    private Map<String, Object> interpolated() {
        double w = (double) subStep / o.motorSteps();
        double[] values = new double[targetValues.length];
        for (int j = 0; j < values.length; j++) {
            values[j] = fromValues[j] + w * (targetValues[j] - fromValues[j]);
        }
        return ChunkPlan.withValues(target, o.actionKey(), values, plan.dtype());
    }

    /**
     * Places a reply whose row 0 is action {@code c0} and switches to it, replacing only the
     * actions not yet handed out (blended over the overlap when asked).
     *
     * @return false, and the plan kept, when none of its rows is still to come
     */
    boolean switchTo(ChunkPlan reply, long c0) {
        ChunkPlan fresh = reply.placed(c0, plansMade + 1);
        if (!fresh.covers(cursor)) {
            return false;
        }
        if (plan != null && o.blendSteps() > 0) {
            fresh.blendFrom(plan, cursor, o.blendSteps(), o.blendComponents());
        }
        plansMade++;
        plan = fresh;
        seamNext = target != null;
        return true;
    }
}
