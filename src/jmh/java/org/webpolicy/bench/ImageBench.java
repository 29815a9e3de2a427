package org.webpolicy.bench;

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
import org.webpolicy.array.NdArray;
import org.webpolicy.image.ApproximateFilter;
import org.webpolicy.image.ImageTools;
import org.webpolicy.internal.nativelib.NativeLibrary;

/**
 * ImageTools through the public API, Java and native ({@code webpolicy.native=off|on}).
 * Pillow on the reference machine: 2.1 ms (480x640 to 224), 6 ms (720x1280), 9 ms (batch of 4).
 * Run: {@code mvn -B -Pjmh package -DskipTests && java -jar target/benchmarks.jar ImageBench}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ImageBench {

    @Param({"off", "on"})
    public String nativeMode;

    private NdArray vga;
    private NdArray hd;
    private NdArray batch4;
    private NdArray floats;
    private NdArray vgaDirect;
    private java.nio.ByteBuffer out224;

    @Setup
    public void setUp() {
        System.setProperty(NativeLibrary.PROPERTY, nativeMode);
        vga = ImageBenchTable.noise(480, 640, 3);
        hd = ImageBenchTable.noise(720, 1280, 3);
        batch4 = ImageBenchTable.noise(4, 480, 640, 3);
        floats = ImageBenchTable.unitFloats(480 * 640 * 3);
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(vga.nbytes());
        direct.put(vga.data()).flip();
        vgaDirect = NdArray.wrap(vga.dtype(), vga.shape(), direct);
        out224 = java.nio.ByteBuffer.allocate(224 * 224 * 3);
    }

    /** A camera frame's case: the input in direct memory, the output in the caller's array. */
    @Benchmark
    public NdArray resize480x640To224DirectInto() {
        return ImageTools.resizeWithPad(vgaDirect, 224, 224, out224);
    }

    @Benchmark
    public NdArray resize480x640To224() {
        return ImageTools.resizeWithPad(vga, 224, 224);
    }

    @Benchmark
    public NdArray resize720x1280To224() {
        return ImageTools.resizeWithPad(hd, 224, 224);
    }

    @Benchmark
    public NdArray resizeBatch4x480x640To224() {
        return ImageTools.resizeWithPad(batch4, 224, 224);
    }

    @Benchmark
    public NdArray convertToUint8Float32480x640x3() {
        return ImageTools.convertToUint8(floats);
    }

    @Benchmark
    public NdArray approximateArea480x640To224() {
        // Native only, whatever nativeMode says.
        return ImageTools.resizeWithPadApproximate(vga, 224, 224, ApproximateFilter.AREA);
    }
}
