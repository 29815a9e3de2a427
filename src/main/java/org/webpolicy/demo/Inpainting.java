package org.webpolicy.demo;

import org.webpolicy.policy.Continuation;

/**
 * What a policy honouring a {@link Continuation} does to its chunk, in the simplest form that
 * shows the effect (real-time chunking's guidance, without a model): the first {@code delay}
 * rows are frozen to the continuation's (they will execute anyway), and the next
 * {@code softRows} rows move linearly from the continuation to the policy's own plan, so the
 * chunk continues the motion instead of jumping where it is first used. The continuation's
 * padding (its last row repeated) would mean "stop"; it is replaced by the last real rows'
 * motion carried on, so a short overlap does not brake the robot.
 */
public final class Inpainting {

    private Inpainting() {
    }

    /**
     * Overwrites the start of {@code rows} (H rows of A) from {@code continuation}.
     *
     * @param rows the policy's own chunk, changed in place
     * @param continuation what the robot will still execute, or null (nothing changes)
     * @param softRows rows after the frozen ones over which the weight on the continuation falls to 0
     */
    public static void apply(double[][] rows, Continuation continuation, int softRows) {
        if (continuation == null) {
            return;
        }
        double[] given = continuation.actions().toDoubleArray();
        int h = Math.min(rows.length, Math.toIntExact(continuation.actions().shape().dim(0)));
        int a = Math.toIntExact(continuation.actions().shape().dim(1));
        extrapolatePadding(given, Math.toIntExact(continuation.actions().shape().dim(0)), a);
        int d = Math.min(continuation.delay(), h);
        for (int i = 0; i < Math.min(h, d + softRows); i++) {
            double w = i < d ? 1 : 1 - (i - d + 1.0) / (softRows + 1.0);
            for (int j = 0; j < Math.min(a, rows[i].length); j++) {
                rows[i][j] = w * given[i * a + j] + (1 - w) * rows[i][j];
            }
        }
    }

    /** Rows after the last change repeat the last row: continue them at the last real velocity instead. */
    private static void extrapolatePadding(double[] flat, int h, int a) {
        int real = h; // rows 0 .. real-1 are real; the rest repeat row real-1
        while (real > 1 && java.util.Arrays.equals(flat, (real - 2) * a, (real - 1) * a, flat, (h - 1) * a, h * a)) {
            real--;
        }
        if (real < 2 || real == h) {
            return;
        }
        for (int i = real; i < h; i++) {
            for (int j = 0; j < a; j++) {
                double v = flat[(real - 1) * a + j] - flat[(real - 2) * a + j];
                flat[i * a + j] = flat[(real - 1) * a + j] + (i - real + 1) * v;
            }
        }
    }
}
