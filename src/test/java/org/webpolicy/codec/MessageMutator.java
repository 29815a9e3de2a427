package org.webpolicy.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A seeded mutation fuzzer's mutations over msgpack messages: bit flips, interesting bytes,
 * inserts, deletes, duplicated ranges, length fields set to lies, splices of two messages,
 * truncation. Which mutations a message gets depends only on the seed, so a finding is replayed
 * from the seed alone.
 */
public final class MessageMutator {

    private static final int[] INTERESTING = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
        0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0x90, 0x9f, 0x8f, 0xa0, 0xbf};
    private static final long[] LENGTHS = {0, 1, 2, 3, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffffL,
        0x80000000L, 0xfffffffeL, 0xffffffffL};

    private final Random random;
    private final List<byte[]> corpus;

    public MessageMutator(long seed, List<byte[]> corpus) {
        this.random = new Random(seed);
        this.corpus = corpus;
    }

    public Random random() {
        return random;
    }

    /** Every {@code .msgpack} file of the golden msgpack vectors, in name order. */
    public static List<byte[]> goldenMessages() {
        try {
            Path dir = Path.of(MessageMutator.class.getResource("/golden/msgpack").toURI());
            List<byte[]> all = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.filter(f -> f.toString().endsWith(".msgpack")).sorted().toList()) {
                    all.add(Files.readAllBytes(p));
                }
            }
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A corpus message with 1 to 8 mutations applied. */
    public byte[] next() {
        byte[] m = corpus.get(random.nextInt(corpus.size())).clone();
        int edits = 1 + random.nextInt(random.nextInt(8) + 1);
        for (int i = 0; i < edits; i++) {
            m = mutate(m);
        }
        return m;
    }

    /** One mutation of {@code m} (a new array; {@code m} is unchanged). */
    public byte[] mutate(byte[] in) {
        byte[] m = in.clone();
        if (m.length == 0) {
            return new byte[] {(byte) INTERESTING[random.nextInt(INTERESTING.length)]};
        }
        int at = random.nextInt(m.length);
        switch (random.nextInt(9)) {
            case 0 -> m[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> m[at] = (byte) INTERESTING[random.nextInt(INTERESTING.length)];
            case 2 -> {
                byte[] extra = new byte[1 + random.nextInt(8)];
                random.nextBytes(extra);
                m = insert(m, at, extra);
            }
            case 3 -> {
                int n = 1 + random.nextInt(Math.min(16, m.length - at));
                byte[] out = new byte[m.length - n];
                System.arraycopy(m, 0, out, 0, at);
                System.arraycopy(m, at + n, out, at, m.length - at - n);
                m = out;
            }
            case 4 -> {
                int n = 1 + random.nextInt(Math.min(64, m.length - at));
                m = insert(m, random.nextInt(m.length + 1), Arrays.copyOfRange(m, at, at + n));
            }
            case 5, 6 -> m = lieAboutALength(m);
            case 7 -> {
                byte[] other = corpus.get(random.nextInt(corpus.size()));
                int cut = random.nextInt(other.length + 1);
                byte[] out = Arrays.copyOf(m, at + other.length - cut);
                System.arraycopy(other, cut, out, at, other.length - cut);
                m = out;
            }
            default -> m = Arrays.copyOf(m, at);
        }
        return m;
    }

    /** Finds a length-carrying header (str, bin, array, map, ext, big ints) and rewrites its length. */
    private byte[] lieAboutALength(byte[] m) {
        int start = random.nextInt(m.length);
        for (int k = 0; k < m.length; k++) {
            int p = (start + k) % m.length;
            int b = m[p] & 0xff;
            int width = switch (b) {
                case 0xc4, 0xd9, 0xc7, 0xcc, 0xd0 -> 1;
                case 0xc5, 0xda, 0xdc, 0xde, 0xc8, 0xcd, 0xd1 -> 2;
                case 0xc6, 0xdb, 0xdd, 0xdf, 0xc9, 0xce, 0xd2 -> 4;
                case 0xcf, 0xd3 -> 8;
                default -> (b >= 0x80 && b <= 0xbf) ? 0 : -1;
            };
            if (width < 0 || p + width >= m.length) {
                continue;
            }
            if (width == 0) { // fixmap, fixarray, fixstr: the length lives in the low bits
                int bits = b >= 0xa0 ? 5 : 4;
                m[p] = (byte) ((b & ~((1 << bits) - 1)) | random.nextInt(1 << bits));
                return m;
            }
            long value = random.nextBoolean() ? LENGTHS[random.nextInt(LENGTHS.length)] : random.nextLong();
            if (random.nextInt(4) == 0) {
                value = readBigEndian(m, p + 1, width) + (random.nextBoolean() ? 1 : -1);
            }
            for (int i = 0; i < width; i++) {
                m[p + 1 + i] = (byte) (value >>> (8 * (width - 1 - i)));
            }
            return m;
        }
        return m;
    }

    private static long readBigEndian(byte[] m, int at, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            v = (v << 8) | (m[at + i] & 0xff);
        }
        return v;
    }

    private static byte[] insert(byte[] m, int at, byte[] extra) {
        byte[] out = new byte[m.length + extra.length];
        System.arraycopy(m, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(m, at, out, at + extra.length, m.length - at);
        return out;
    }
}
