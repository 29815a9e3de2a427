package org.webpolicy.mcap;

/**
 * How the writer compresses a chunk's records. {@link #ZSTD} needs {@code com.github.luben:zstd-jni}
 * on the class path: an optional dependency of this library (the command-line jar bundles it), so
 * a consumer that records adds it, or writes {@link #NONE}.
 */
public enum ChunkCompression {
    /** Records stored as they are (the spec's empty compression string). */
    NONE(""),
    /** Zstandard at level 1: about as fast as the disk on one core, and JPEG-free images shrink 2-4x. */
    ZSTD("zstd");

    private static final int ZSTD_LEVEL = 1;
    private static final String ZSTD_ARTIFACT = "com.github.luben:zstd-jni";

    private final String specName;

    ChunkCompression(String specName) {
        this.specName = specName;
    }

    /**
     * The compression string written in the chunk record.
     *
     * @return "zstd", or "" for none
     */
    public String specName() {
        return specName;
    }

    /** The compression named {@code specName} in a chunk record, or null when this library cannot decompress it. */
    static ChunkCompression bySpecName(String specName) {
        for (ChunkCompression c : values()) {
            if (c.specName.equals(specName)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Fails now, naming the missing dependency, rather than at the first chunk on a writer thread.
     *
     * @throws IllegalStateException when this compression's library is not on the class path
     */
    public void requireAvailable() {
        if (this == ZSTD && !ZstdHolder.AVAILABLE) {
            throw new IllegalStateException("zstd chunk compression needs " + ZSTD_ARTIFACT
                    + " on the class path (an optional dependency: add it), or choose ChunkCompression.NONE");
        }
    }

    byte[] compress(byte[] records, int length) {
        if (this == NONE) {
            return java.util.Arrays.copyOf(records, length);
        }
        requireAvailable();
        return ZstdHolder.compress(records, length);
    }

    byte[] decompress(byte[] data, long uncompressedSize) {
        if (this == NONE) {
            return data;
        }
        requireAvailable();
        return ZstdHolder.decompress(data, uncompressedSize);
    }

    /** Touches zstd-jni's classes only when zstd is used, so NONE works without the jar. */
    private static final class ZstdHolder {
        static final boolean AVAILABLE = present();

        private static boolean present() {
            try {
                Class.forName("com.github.luben.zstd.Zstd", false, ChunkCompression.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }

        static byte[] compress(byte[] records, int length) {
            byte[] out = new byte[(int) com.github.luben.zstd.Zstd.compressBound(length)];
            long n = com.github.luben.zstd.Zstd.compressByteArray(out, 0, out.length, records, 0, length, ZSTD_LEVEL);
            if (com.github.luben.zstd.Zstd.isError(n)) {
                throw new IllegalStateException("zstd failed: " + com.github.luben.zstd.Zstd.getErrorName(n));
            }
            return java.util.Arrays.copyOf(out, (int) n);
        }

        static byte[] decompress(byte[] data, long uncompressedSize) {
            byte[] out = new byte[(int) uncompressedSize];
            long n = com.github.luben.zstd.Zstd.decompressByteArray(out, 0, out.length, data, 0, data.length);
            if (com.github.luben.zstd.Zstd.isError(n)) {
                throw new IllegalArgumentException("zstd data is corrupt: " + com.github.luben.zstd.Zstd.getErrorName(n));
            }
            if (n != uncompressedSize) {
                throw new IllegalArgumentException("zstd data holds " + n + " bytes, the chunk says " + uncompressedSize);
            }
            return out;
        }
    }
}
