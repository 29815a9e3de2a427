package org.webpolicy.transport.frame;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * RFC 6455 masking, Java loop against native kernel, next to the floor measured in the same run:
 * a plain copy of the same bytes between the same kinds of memory ({@code System.arraycopy} for
 * heap to heap, a bulk {@code get}/{@code put} between direct and heap). The sizes are an ALOHA
 * observation (602 KB) and a large message (3.7 MB); run with small sizes, it places
 * {@link FrameMasking#NATIVE_MIN_BYTES} (where the JNI call stops costing more than it saves).
 * The cases name source to target; {@code readOnlyHeap} is the client's case (the codec hands
 * the transport read-only views of the caller's arrays).
 *
 * <pre>
 * mvn -Pjmh package -DskipTests &amp;&amp; java -jar target/benchmarks.jar MaskingBench
 * java -jar target/benchmarks.jar 'MaskingBench\.(java|native).*ToHeap' -p size=512,1024,2048,4096,8192
 * </pre>
 * (the second run places the threshold). Sample time: on a shared machine the median (p0.50) of
 * single copies is steadier than a mean that a few preempted ones dominate.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class MaskingBench {

    /** Bytes per copy. */
    @Param({"602112", "3700000"})
    public int size;

    private static final int KEY = 0x5a3c9e17;

    private byte[] heapSource;
    private ByteBuffer heap;
    private ByteBuffer readOnlyHeap;
    private ByteBuffer direct;
    private byte[] heapTarget;
    private ByteBuffer heapOut;
    private ByteBuffer directOut;

    @Setup
    public void setUp() {
        NativeLibrary.requireLoaded();
        heapSource = new byte[size];
        new Random(1).nextBytes(heapSource);
        heap = ByteBuffer.wrap(heapSource);
        readOnlyHeap = heap.asReadOnlyBuffer();
        direct = ByteBuffer.allocateDirect(size).put(heapSource).clear();
        heapTarget = new byte[size];
        heapOut = ByteBuffer.wrap(heapTarget);
        directOut = ByteBuffer.allocateDirect(size);
    }

    // ---- the floor: plain copies of the same bytes ----

    @Benchmark
    public byte[] floorHeapToHeap() {
        System.arraycopy(heapSource, 0, heapTarget, 0, size);
        return heapTarget;
    }

    @Benchmark
    public byte[] floorDirectToHeap() {
        direct.get(0, heapTarget, 0, size);
        return heapTarget;
    }

    @Benchmark
    public ByteBuffer floorHeapToDirect() {
        return directOut.put(0, heapSource, 0, size);
    }

    // ---- masking: the Java loop and the native kernel ----

    @Benchmark
    public ByteBuffer javaHeapToHeap() {
        FrameMasking.copyJava(heap, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer nativeHeapToHeap() {
        FrameMasking.copyNative(heap, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer javaReadOnlyHeapToHeap() {
        FrameMasking.copyJava(readOnlyHeap, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer nativeReadOnlyHeapToHeap() {
        FrameMasking.copyNative(readOnlyHeap, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer javaDirectToHeap() {
        FrameMasking.copyJava(direct, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer nativeDirectToHeap() {
        FrameMasking.copyNative(direct, heapOut, size, KEY, 1);
        return heapOut;
    }

    @Benchmark
    public ByteBuffer javaHeapToDirect() {
        FrameMasking.copyJava(heap, directOut, size, KEY, 1);
        return directOut;
    }

    @Benchmark
    public ByteBuffer nativeHeapToDirect() {
        FrameMasking.copyNative(heap, directOut, size, KEY, 1);
        return directOut;
    }

    @Benchmark
    public ByteBuffer javaReadOnlyHeapToDirect() {
        FrameMasking.copyJava(readOnlyHeap, directOut, size, KEY, 1);
        return directOut;
    }

    @Benchmark
    public ByteBuffer nativeReadOnlyHeapToDirect() {
        FrameMasking.copyNative(readOnlyHeap, directOut, size, KEY, 1);
        return directOut;
    }

    /** In place in the server's read buffer, as {@link FrameMasking#unmask} (same memory both sides). */
    @Benchmark
    public ByteBuffer nativeDirectInPlace() {
        FrameMasking.copyNative(directOut, directOut, size, KEY, 1);
        return directOut;
    }
}
