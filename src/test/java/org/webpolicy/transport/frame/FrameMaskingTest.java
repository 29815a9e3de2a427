package org.webpolicy.transport.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * Masking gives RFC 6455's bytes for every kind of source and target buffer, at any position,
 * length, key and payload offset, in the Java loop and in the native kernel alike.
 */
class FrameMaskingTest {

    /** Set by the pom to the build's {@code webpolicy.native.skip}: a Java-only build has no kernel to test. */
    private static final boolean JAVA_ONLY_BUILD = Boolean.getBoolean("webpolicy.test.nativeSkipped");

    /** How a test copies: the dispatching entry point, or one path forced. */
    interface Path {
        void copy(ByteBuffer in, ByteBuffer out, int n, int key, int payloadOffset);
    }

    static Stream<String> paths() {
        return JAVA_ONLY_BUILD ? Stream.of("copy", "java") : Stream.of("copy", "java", "native");
    }

    private static Path path(String name) {
        return switch (name) {
            case "java" -> FrameMasking::copyJava;
            case "native" -> (in, out, n, key, offset) -> {
                NativeLibrary.requireLoaded();
                assertTrue(FrameMasking.copyNative(in, out, n, key, offset), "the native kernel ran");
            };
            default -> (in, out, n, key, offset) -> {
                int from = in.position();
                int to = out.position();
                FrameMasking.copy(in, out, n, key, offset);
                assertEquals(from + n, in.position(), "source advanced by n");
                assertEquals(to + n, out.position(), "target advanced by n");
                in.position(from);
                out.position(to);
            };
        };
    }

    /** RFC 6455 5.3, one byte at a time: byte i of the payload XOR byte i % 4 of the key. */
    private static byte[] reference(byte[] payload, int from, int n, int key, int payloadOffset) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) (payload[from + i] ^ (key >>> (((payloadOffset + i) & 3) * 8)));
        }
        return out;
    }

    /** A source holding {@code bytes}, positioned at 0: each kind the transport may read from. */
    private static final List<Kind> SOURCES = List.of(
            new Kind("heap", ByteBuffer::wrap),
            new Kind("heap slice", b -> slice(ByteBuffer.allocate(b.length + 3).position(3).put(b).position(3))),
            new Kind("read-only heap", b -> ByteBuffer.wrap(b).asReadOnlyBuffer()),
            new Kind("read-only heap slice",
                    b -> slice(ByteBuffer.allocate(b.length + 5).position(5).put(b).position(5)).asReadOnlyBuffer()),
            new Kind("direct", b -> ByteBuffer.allocateDirect(b.length).put(b).flip()),
            new Kind("read-only direct", b -> ByteBuffer.allocateDirect(b.length).put(b).flip().asReadOnlyBuffer()));

    /** An empty target of {@code capacity} bytes: each kind the transport may write to. */
    private static final List<Target> TARGETS = List.of(
            new Target("heap", ByteBuffer::allocate),
            new Target("heap slice", c -> slice(ByteBuffer.allocate(c + 7).position(7))),
            new Target("direct", ByteBuffer::allocateDirect));

    record Kind(String name, java.util.function.Function<byte[], ByteBuffer> make) {
    }

    record Target(String name, IntFunction<ByteBuffer> make) {
    }

    private static ByteBuffer slice(ByteBuffer b) {
        return b.slice();
    }

    private static byte[] bytes(ByteBuffer b, int from, int n) {
        byte[] got = new byte[n];
        b.duplicate().position(from).get(got);
        return got;
    }

    private static void checkCopy(Path path, Random random, byte[] payload, int n, String label) {
        int from = random.nextInt(Math.max(1, payload.length - n + 1));
        int at = random.nextInt(9);
        int key = random.nextInt();
        int payloadOffset = random.nextInt(1 << 20);
        byte[] expected = reference(payload, from, n, key, payloadOffset);
        for (Kind source : SOURCES) {
            for (Target target : TARGETS) {
                ByteBuffer in = source.make().apply(payload).position(from);
                ByteBuffer out = target.make().apply(at + n + 4).position(at);
                path.copy(in, out, n, key, payloadOffset);
                String what = label + " n=" + n + " from=" + from + " at=" + at + " payloadOffset=" + payloadOffset + " "
                        + source.name() + " -> " + target.name();
                assertArrayEquals(expected, bytes(out, at, n), what);
                assertArrayEquals(new byte[at], bytes(out, 0, at), "nothing written before the target's position: " + what);
                assertArrayEquals(new byte[4], bytes(out, at + n, 4), "nothing written after n bytes: " + what);
                assertArrayEquals(payload, bytes(source.make().apply(payload), 0, payload.length), "source unchanged");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("paths")
    void everySourceAndTargetKindGivesTheMaskedBytes(String name) {
        Path path = path(name);
        Random random = new Random(6455);
        byte[] payload = new byte[200];
        random.nextBytes(payload);
        for (int n = 0; n <= 70; n++) {
            for (int round = 0; round < 3; round++) {
                checkCopy(path, random, payload, n, name);
            }
        }
        for (int n : new int[] {127, 128, 129, 199, 200}) {
            checkCopy(path, random, payload, n, name);
        }
    }

    @ParameterizedTest
    @MethodSource("paths")
    void anAlohaObservationGivesTheMaskedBytes(String name) {
        Path path = path(name);
        Random random = new Random(600);
        byte[] payload = new byte[602_113];
        random.nextBytes(payload);
        checkCopy(path, random, payload, payload.length, name);
        checkCopy(path, random, payload, payload.length - 13, name);
    }

    @ParameterizedTest
    @MethodSource("paths")
    void inPlaceAndOverlappingCopiesWithinOneBuffer(String name) {
        Path path = path(name);
        Random random = new Random(11);
        for (boolean direct : new boolean[] {false, true}) {
            for (int shift : new int[] {0, 1, 3, 8, 33, -1, -5, -8, -40}) {
                for (int n : new int[] {0, 7, 9, 64, 70, 101, 5000, 5003}) {
                    byte[] original = new byte[n + 40];
                    random.nextBytes(original);
                    int src = shift < 0 ? 40 : 0;
                    int dst = src + shift;
                    int key = random.nextInt();
                    int payloadOffset = random.nextInt(4);
                    byte[] expected = reference(original, src, n, key, payloadOffset);
                    ByteBuffer buffer = direct ? ByteBuffer.allocateDirect(original.length).put(original).clear()
                            : ByteBuffer.wrap(original.clone());
                    // Direct views of one memory with the target after the source: the native
                    // kernel's case only (the Java loop cannot see that they overlap; FrameMasking
                    // documents it). Every other overlap holds on all paths.
                    if (direct && shift > 0 && !name.equals("native")) {
                        continue;
                    }
                    path.copy(buffer.duplicate().position(src), buffer.duplicate().position(dst), n, key, payloadOffset);
                    assertArrayEquals(expected, bytes(buffer, dst, n), name + (direct ? " direct" : " heap") + " shift "
                            + shift + " n " + n);
                }
            }
        }
    }

    @Test
    void unmaskWorksInPlaceAndAdvances() {
        Random random = new Random(3);
        for (int n : new int[] {5, 70, 4096, 100_000}) {
            byte[] original = new byte[n + 2];
            random.nextBytes(original);
            int key = random.nextInt();
            byte[] expected = reference(original, 2, n, key, 1);
            for (ByteBuffer buffer : new ByteBuffer[] {ByteBuffer.wrap(original.clone()),
                    ByteBuffer.allocateDirect(original.length).put(original).clear()}) {
                buffer.position(2);
                FrameMasking.unmask(buffer, n, key, 1);
                assertEquals(2 + n, buffer.position());
                assertArrayEquals(expected, bytes(buffer, 2, n), "n=" + n + (buffer.isDirect() ? " direct" : " heap"));
            }
        }
    }

    @Test
    void keyZeroIsAPlainCopy() {
        byte[] payload = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        ByteBuffer out = ByteBuffer.allocate(payload.length);
        FrameMasking.copy(ByteBuffer.wrap(payload).asReadOnlyBuffer(), out, payload.length, 0, 3);
        assertArrayEquals(payload, out.array());
        assertEquals(payload.length, out.position());
    }

    @Test
    void badCountsAndTargetsAreRefusedWithoutTouchingTheTarget() {
        List<Runnable> calls = new ArrayList<>();
        ByteBuffer in = ByteBuffer.allocate(10);
        ByteBuffer out = ByteBuffer.allocate(8);
        calls.add(() -> FrameMasking.copy(in, out, 9, 1, 0));
        calls.add(() -> FrameMasking.copy(in.duplicate().position(5), out, 6, 1, 0));
        calls.add(() -> FrameMasking.copy(in, out, -1, 1, 0));
        calls.add(() -> FrameMasking.copy(in, out, 4, 1, -1));
        calls.add(() -> FrameMasking.copy(in, ByteBuffer.allocateDirect(1 << 16), 1 << 12, 1, 0));
        for (Runnable call : calls) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
            assertTrue(e.getMessage().contains("masking"), e.getMessage());
        }
        assertThrows(ReadOnlyBufferException.class, () -> FrameMasking.copy(in, out.asReadOnlyBuffer(), 1, 1, 0));
        assertEquals(0, in.position());
        assertEquals(0, out.position());
        assertArrayEquals(new byte[8], out.array());
    }
}
