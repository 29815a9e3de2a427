package org.webpolicy.bench;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.webpolicy.array.NdArray;
import org.webpolicy.codec.MsgpackCodec;

/**
 * Codec speed against the physical limit (a plain copy of the same bytes), for the ALOHA
 * observation and a 64 MB float32 array. {@code encode} is the zero-copy path the transport
 * uses; {@code pack} adds one copy into a single array; {@code unpack} views the message.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CodecBench {

    private final MsgpackCodec codec = new MsgpackCodec();
    private Map<String, Object> aloha;
    private byte[] alohaPacked;
    private NdArray big;
    private byte[] bigPacked;
    private byte[] bigSource;
    private byte[] bigTarget;

    @Setup
    public void setUp() {
        Random random = new Random(0);
        Map<String, Object> images = new LinkedHashMap<>();
        for (String cam : List.of("cam_high", "cam_low", "cam_left_wrist", "cam_right_wrist")) {
            byte[] pixels = new byte[3 * 224 * 224];
            random.nextBytes(pixels);
            images.put(cam, NdArray.ofUint8(pixels, 3, 224, 224));
        }
        double[] state = random.doubles(14).toArray();
        aloha = new LinkedHashMap<>();
        aloha.put("state", NdArray.ofFloat64(state));
        aloha.put("images", images);
        aloha.put("prompt", "do something");
        alohaPacked = codec.pack(aloha);

        float[] values = new float[16 * 1024 * 1024];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        big = NdArray.ofFloat32(values, 4096, 4096);
        bigPacked = codec.pack(big);
        bigSource = big.toByteArray();
        bigTarget = new byte[bigSource.length];
    }

    @Benchmark
    public List<ByteBuffer> alohaEncode() {
        return codec.encode(aloha);
    }

    @Benchmark
    public byte[] alohaPack() {
        return codec.pack(aloha);
    }

    @Benchmark
    public Object alohaUnpack() {
        return codec.unpack(alohaPacked);
    }

    @Benchmark
    public List<ByteBuffer> big64mbEncode() {
        return codec.encode(big);
    }

    @Benchmark
    public byte[] big64mbPack() {
        return codec.pack(big);
    }

    @Benchmark
    public Object big64mbUnpack() {
        return codec.unpack(bigPacked);
    }

    /** The unpacked array copied out of the message: what a decoder that copies would pay. */
    @Benchmark
    public NdArray big64mbUnpackAndCopy() {
        return ((NdArray) codec.unpack(bigPacked)).copy();
    }

    /** The physical limit: one plain copy of the same 64 MB. */
    @Benchmark
    public byte[] big64mbArraycopy() {
        System.arraycopy(bigSource, 0, bigTarget, 0, bigSource.length);
        return bigTarget;
    }
}
