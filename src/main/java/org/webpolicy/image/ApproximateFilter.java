package org.webpolicy.image;

/**
 * OpenCV interpolations for {@link ImageTools#resizeWithPadApproximate}: faster than the
 * Pillow-exact resize, but NOT its output (see docs/IMAGE.md for the measured differences).
 * Models trained on Pillow's images see slightly different pixels.
 */
public enum ApproximateFilter {
    /** {@code cv::INTER_AREA}: averages the covered pixels when shrinking; the closer of the two to Pillow. */
    AREA,
    /** {@code cv::INTER_LINEAR}: two taps per axis even when shrinking (aliases on large reductions). */
    LINEAR
}
