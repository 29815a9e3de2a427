package org.webpolicy.codec;

/**
 * Where a value sits in a message, e.g. {@code $.images.cam_high} or {@code $.steps[3]}. Built
 * as a cheap chain while walking and printed only when an error names it.
 */
final class Path {

    static final Path ROOT = new Path(null, null, -1);

    private final Path parent;
    private final Object key;
    private final int index;

    private Path(Path parent, Object key, int index) {
        this.parent = parent;
        this.key = key;
        this.index = index;
    }

    Path key(Object k) {
        return new Path(this, k, -1);
    }

    Path index(int i) {
        return new Path(this, null, i);
    }

    @Override
    public String toString() {
        if (parent == null) {
            return "$";
        }
        return parent + (key != null ? "." + key : "[" + index + "]");
    }
}
