/**
 * webpolicy-java: serve a robot policy over WebSocket from the JVM and call one, byte-compatible on
 * the wire with the Python openpi and webpolicy peers.
 *
 * <p>The exported packages are the API: numpy-style values ({@code array}) and their msgpack
 * encoding ({@code codec}), the {@code policy} interface, the server and client ({@code transport}),
 * chunk brokers ({@code broker}), the control loop ({@code runtime}), image tools ({@code image},
 * {@code image.compression}), cameras ({@code camera}) and recordings ({@code mcap},
 * {@code record}). The transport's machinery ({@code transport.frame}, {@code .protocol},
 * {@code .server}, {@code .client}, {@code .adapter}, {@code .metrics}) and {@code internal.*} are
 * not exported: they change without notice. The command line ({@code cli}, {@code demo},
 * {@code check}) ships in its own jar, which runs on the class path.
 *
 * <p>Optional dependencies are {@code requires static}, read when the application resolves them:
 * Micrometer ({@link org.webpolicy.transport.MicrometerMetrics}: the application's module requires
 * {@code micrometer.core}), zstd-jni (zstd MCAP chunks) and OpenCV (cameras, the approximate resize:
 * {@code --add-modules org.bytedeco.opencv.linux.x86_64,org.bytedeco.openblas.linux.x86_64}, whose
 * modules hold the natives and bring the preset's API module with them).
 *
 * <p>No package is opened. JavaCPP's loader finds our native library as a resource under
 * {@code org/webpolicy/internal/nativelib/linux-x86_64/} (and {@code linux-arm64}): a directory
 * whose name is no package name, which a module does not encapsulate.
 */
module org.webpolicy {
    requires java.desktop; // javax.imageio: the JDK's PNG and JPEG codecs
    requires jdk.management; // com.sun.management: the descriptor limit the server checks against
    requires org.slf4j;
    requires org.java_websocket;
    // msgpack-core's jar names no module: this is the name the JDK derives from its file name
    // (msgpack-core-<version>.jar, as Maven and Gradle keep it), hence the compiler plugin's warning
    // about a filename-based automatic module. Should msgpack-java name one (its issue 749 asks for
    // org.msgpack.core), this line follows.
    requires msgpack.core;
    requires org.bytedeco.javacpp;
    // JavaCPP's own native library, per platform: modules that export nothing, which nothing would
    // resolve (and Loader would not find libjnijavacpp) unless someone requires them. The pom ships
    // both platforms to every consumer.
    requires org.bytedeco.javacpp.linux.x86_64;
    requires org.bytedeco.javacpp.linux.arm64;

    requires static org.bytedeco.opencv;
    requires static org.bytedeco.openblas;
    requires static micrometer.core;
    requires static com.github.luben.zstd_jni;
    // The command line's own (org.webpolicy.cli, .demo, .check: not in the library jar).
    requires static info.picocli;
    requires static com.fasterxml.jackson.databind;

    exports org.webpolicy;
    exports org.webpolicy.array;
    exports org.webpolicy.codec;
    exports org.webpolicy.policy;
    exports org.webpolicy.transport;
    exports org.webpolicy.broker;
    exports org.webpolicy.runtime;
    exports org.webpolicy.image;
    exports org.webpolicy.image.compression;
    exports org.webpolicy.camera;
    exports org.webpolicy.mcap;
    exports org.webpolicy.record;
}
