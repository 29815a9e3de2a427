package org.webpolicy.broker;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.webpolicy.array.DType;
import org.webpolicy.array.NdArray;

/**
 * One reply placed on the robot's action timeline: row {@code i} of its action array is meant
 * for the action at cursor {@code start + i} (cursor = actions executed since the episode began).
 * Rows are kept as doubles so that blending and interpolation work on one type; actions are
 * handed out in the reply's own dtype.
 *
 * <p>Rows of a plan are changed only while it is built (blending), before it is published to the
 * control thread; afterwards it is read-only.
 */
final class ChunkPlan {

    private final ActionChunk chunk;
    private final String actionKey;
    private final DType dtype;
    private final double[][] rows;
    private final int usable;
    private final long start;
    private final long sequence;

    private ChunkPlan(ActionChunk chunk, String actionKey, DType dtype, double[][] rows, int usable, long start,
            long sequence) {
        this.chunk = chunk;
        this.actionKey = actionKey;
        this.dtype = dtype;
        this.rows = rows;
        this.usable = usable;
        this.start = start;
        this.sequence = sequence;
    }

    /**
     * Checks {@code reply}: {@code actionKey} must hold a float32 or float64 array (H, A), and the
     * other arrays must have H steps too (they are sliced along with it).
     *
     * @param maxSteps use at most this many rows of each chunk; 0 for all
     * @throws ActionChunkException naming what is wrong
     */
    static ChunkPlan parse(Map<String, Object> reply, String actionKey, int maxSteps) {
        ActionChunk chunk = ActionChunk.of(reply, 1);
        Object value = reply.get(actionKey);
        if (!(value instanceof NdArray actions)) {
            throw new ActionChunkException("The policy's reply has no array '" + actionKey + "' (keys " + reply.keySet()
                    + "); the chunk scheduler needs the actions as a float array (H, A)");
        }
        if (actions.rank() != 2 || !(actions.dtype().equals(DType.FLOAT32) || actions.dtype().equals(DType.FLOAT64))) {
            throw new ActionChunkException("The chunk scheduler needs '" + actionKey + "' as a float32 or float64 array"
                    + " (H, A); got " + actions.dtype() + " " + actions.shape());
        }
        int h = Math.toIntExact(actions.shape().dim(0));
        int a = Math.toIntExact(actions.shape().dim(1));
        if (h == 0 || a == 0) {
            throw new ActionChunkException("The policy's '" + actionKey + "' is empty: shape " + actions.shape());
        }
        double[] flat = actions.toDoubleArray();
        double[][] rows = new double[h][];
        for (int i = 0; i < h; i++) {
            rows[i] = java.util.Arrays.copyOfRange(flat, i * a, (i + 1) * a);
        }
        return new ChunkPlan(chunk, actionKey, actions.dtype(), rows, maxSteps > 0 ? Math.min(maxSteps, h) : h, 0, 0);
    }

    /** This plan with row 0 at cursor {@code start}, numbered {@code sequence}. Rows are shared. */
    ChunkPlan placed(long start, long sequence) {
        return new ChunkPlan(chunk, actionKey, dtype, rows, usable, start, sequence);
    }

    /** The chunk's length H (its rows, usable or not). */
    int length() {
        return rows.length;
    }

    /** Components per action. */
    int width() {
        return rows[0].length;
    }

    /** The first cursor past the usable rows. */
    long end() {
        return start + usable;
    }

    long start() {
        return start;
    }

    long sequence() {
        return sequence;
    }

    DType dtype() {
        return dtype;
    }

    boolean covers(long cursor) {
        return cursor >= start && cursor < end();
    }

    /** The row for {@code cursor} (not a copy: do not change it once published). */
    double[] row(long cursor) {
        return rows[Math.toIntExact(cursor - start)];
    }

    private void setRow(long cursor, double[] values) {
        rows[Math.toIntExact(cursor - start)] = values;
    }

    /**
     * Blends the listed components of this plan's rows from {@code cursor} on with
     * {@code older}'s rows for the same actions, over {@code steps} rows at most and only while
     * both plans have a row (the overlap): weight {@code (j + 1) / (steps + 1)} on this plan for
     * the {@code j}-th. Only while this plan is being built.
     */
    void blendFrom(ChunkPlan older, long cursor, int steps, int[] components) {
        for (int j = 0; j < steps; j++) {
            long c = cursor + j;
            if (!older.covers(c) || !covers(c)) {
                return;
            }
            double w = (j + 1.0) / (steps + 1.0);
            double[] row = row(c).clone();
            double[] old = older.row(c);
            for (int k : components) {
                if (k < row.length && k < old.length) {
                    row[k] = (1 - w) * old[k] + w * row[k];
                }
            }
            setRow(c, row);
        }
    }

    /**
     * The action map for {@code cursor}: the reply's step there (every array sliced, other
     * values as they were) with {@code values} as its action array.
     */
    Map<String, Object> action(long cursor, double[] values) {
        Map<String, Object> step = new LinkedHashMap<>(chunk.stepAt(cursor - start));
        step.put(actionKey, toArray(values, dtype));
        return Collections.unmodifiableMap(step);
    }

    /** {@code action} with its action array replaced by {@code values}. */
    static Map<String, Object> withValues(Map<String, Object> action, String actionKey, double[] values, DType dtype) {
        Map<String, Object> step = new LinkedHashMap<>(action);
        step.put(actionKey, toArray(values, dtype));
        return Collections.unmodifiableMap(step);
    }

    /**
     * Rows {@code from .. end()-1} as an (H, A) array of this plan's dtype, padded to H with the
     * last row (never zeros: zeros in a normalised action space decode to the dataset mean).
     * With no row left, every row is {@code last}.
     */
    NdArray continuation(long from, double[] last) {
        int h = rows.length;
        int a = width();
        double[] flat = new double[h * a];
        double[] pad = last;
        for (int i = 0; i < h; i++) {
            long c = from + i;
            double[] r = covers(c) ? row(c) : pad;
            System.arraycopy(r, 0, flat, i * a, a);
            pad = r;
        }
        if (dtype.equals(DType.FLOAT64)) {
            return NdArray.ofFloat64(flat, h, a);
        }
        float[] f = new float[flat.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) flat[i];
        }
        return NdArray.ofFloat32(f, h, a);
    }

    private static NdArray toArray(double[] values, DType dtype) {
        if (dtype.equals(DType.FLOAT64)) {
            return NdArray.ofFloat64(values.clone(), values.length);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return NdArray.ofFloat32(f, values.length);
    }
}
