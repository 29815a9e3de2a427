package org.webpolicy.image;

/**
 * Where one image of {@code inHeight x inWidth} lands in a {@code outHeight x outWidth} frame:
 * resized to {@code resizedHeight x resizedWidth} (aspect ratio kept) and pasted at
 * {@code (top, left)} on zeros.
 *
 * <p>The arithmetic is the Python client's, in double, truncating with {@code (int)}. Floating
 * point can lose a row or a column (40x58 to 224x224 is resized to 154x223): that is kept on
 * purpose, since models were trained on exactly those images.
 */
record ResizeGeometry(int inHeight, int inWidth, int outHeight, int outWidth,
                      int resizedHeight, int resizedWidth, int top, int left) {

    /**
     * @throws IllegalArgumentException when a target side is not positive or the resized image
     *     would have no rows or no columns
     */
    static ResizeGeometry of(int inHeight, int inWidth, int outHeight, int outWidth) {
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException("Target size must be positive, got height " + outHeight
                    + " and width " + outWidth);
        }
        double ratio = Math.max((double) inWidth / outWidth, (double) inHeight / outHeight);
        int rh = (int) (inHeight / ratio);
        int rw = (int) (inWidth / ratio);
        if (rh <= 0 || rw <= 0) {
            throw new IllegalArgumentException("Resizing a " + inHeight + "x" + inWidth + " image to fit "
                    + outHeight + "x" + outWidth + " gives a " + rh + "x" + rw
                    + " image: height and width must be > 0");
        }
        if (rh > outHeight || rw > outWidth) {
            // Cannot happen with IEEE doubles; guards the paste below against a future change.
            throw new IllegalStateException("Resized size " + rh + "x" + rw + " exceeds the target "
                    + outHeight + "x" + outWidth);
        }
        int top = Math.max(0, (int) ((outHeight - rh) / 2.0));
        int left = Math.max(0, (int) ((outWidth - rw) / 2.0));
        return new ResizeGeometry(inHeight, inWidth, outHeight, outWidth, rh, rw, top, left);
    }
}
