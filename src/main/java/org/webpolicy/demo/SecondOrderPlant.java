package org.webpolicy.demo;

/**
 * A joint-position servo as a second-order system per joint: {@code x'' = w^2 (u - x) - 2 z w x'}
 * (natural frequency {@code w}, damping ratio {@code z}), tracking the commanded position
 * {@code u}. Integrated with semi-implicit Euler in 1 ms sub-steps. Not thread-safe.
 */
public final class SecondOrderPlant {

    private static final double SUB_STEP = 1e-3;

    private final double omega;
    private final double zeta;
    private final double[] position;
    private final double[] velocity;

    /**
     * @param start the initial joint positions (copied); the plant starts at rest
     * @param naturalHz the servo's natural frequency in Hz
     * @param zeta the damping ratio (0.7: well damped)
     */
    public SecondOrderPlant(double[] start, double naturalHz, double zeta) {
        this.omega = 2 * Math.PI * naturalHz;
        this.zeta = zeta;
        this.position = start.clone();
        this.velocity = new double[start.length];
    }

    /**
     * Moves the plant {@code seconds} forward with {@code command} held.
     *
     * @param command the commanded positions
     * @param seconds how long
     */
    public void advance(double[] command, double seconds) {
        int n = Math.max(1, (int) Math.round(seconds / SUB_STEP));
        double h = seconds / n;
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < position.length; j++) {
                double acc = omega * omega * (command[j] - position[j]) - 2 * zeta * omega * velocity[j];
                velocity[j] += h * acc;
                position[j] += h * velocity[j];
            }
        }
    }

    /**
     * The joint positions now.
     *
     * @return a copy
     */
    public double[] position() {
        return position.clone();
    }
}
