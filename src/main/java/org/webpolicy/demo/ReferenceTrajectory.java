package org.webpolicy.demo;

/**
 * A smooth joint trajectory: joint {@code j} at time {@code t} is
 * {@code 0.5 sin(2 pi f_j u + j) + 0.2 sin(2 pi 2.3 f_j u)} with slow frequencies
 * ({@code f_j} from 0.2 to 0.45 Hz), as a reaching and wiping motion might be, in a warped time
 * {@code u = t - (1 - e^-t)} that starts at rest and reaches full speed after a few seconds: a
 * robot starts still, so the first chunk (planned before the robot's first action) is not stale
 * by a moving target. Immutable.
 */
public final class ReferenceTrajectory {

    private final int joints;

    /** @param joints the number of joints */
    public ReferenceTrajectory(int joints) {
        this.joints = joints;
    }

    /**
     * The joint positions at {@code t}.
     *
     * @param t seconds since the start
     * @return a new array of the joints' positions
     */
    public double[] at(double t) {
        double[] q = new double[joints];
        double u = t - (1 - Math.exp(-t));
        for (int j = 0; j < joints; j++) {
            double f = 0.2 + 0.25 * j / Math.max(1, joints - 1);
            q[j] = 0.5 * Math.sin(2 * Math.PI * f * u + j) + 0.2 * Math.sin(2 * Math.PI * 2.3 * f * u);
        }
        return q;
    }

    /**
     * The number of joints.
     *
     * @return joints per position
     */
    public int joints() {
        return joints;
    }
}
