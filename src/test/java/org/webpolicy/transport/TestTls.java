package org.webpolicy.transport;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1, made once per test JVM with the JDK's keytool, and the
 * two contexts tests need: the server's (its key) and a client's trusting that certificate only.
 */
public final class TestTls {

    private static final char[] PASSWORD = "test-only".toCharArray();
    private static TestTls made;

    /** The server's context: the test certificate and its key. */
    public final SSLContext server;
    /** A client's context trusting the test certificate only. */
    public final SSLContext client;
    /** The key store, kept while the JVM lives, for a child JVM to serve the same certificate. */
    final Path store;

    private TestTls(SSLContext server, SSLContext client, Path store) {
        this.server = server;
        this.client = client;
        this.store = store;
    }

    /**
     * The contexts of this JVM's test certificate, made on first use.
     *
     * @return the contexts
     */
    public static synchronized TestTls get() {
        if (made == null) {
            try {
                made = make();
            } catch (Exception e) {
                throw new IllegalStateException("could not make a test certificate: " + e, e);
            }
        }
        return made;
    }

    private static TestTls make() throws Exception {
        Path dir = Files.createTempDirectory("webpolicy-test-tls");
        Path store = dir.resolve("server.p12");
        dir.toFile().deleteOnExit();
        store.toFile().deleteOnExit();
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        return load(store);
    }

    /** The contexts of a key store made by another test JVM's {@link #get}. */
    static TestTls load(Path store) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD);
        SSLContext server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", keys.getCertificate("server"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);
        return new TestTls(server, client, store);
    }


    /**
     * Which scheme a client test runs over: a test class names its servers and clients through
     * this, and a subclass runs the same tests over the other scheme.
     */
    enum Scheme {
        WS, WSS;

        /** The address of a loopback server on {@code port}. */
        String uri(int port) {
            return (this == WSS ? "wss" : "ws") + "://127.0.0.1:" + port;
        }

        /** A client builder for the loopback server on {@code port}, trusting the test certificate over wss. */
        PolicyClientBuilder client(int port) {
            PolicyClientBuilder b = PolicyClient.builder().uri(uri(port));
            return this == WSS ? b.sslContext(TestTls.get().client) : b;
        }

        /** A server builder serving this scheme (TLS with the test certificate over wss). */
        PolicyServerBuilder serve(PolicyServerBuilder b) {
            return this == WSS ? b.sslContext(TestTls.get().server) : b;
        }

        /** The server's TLS context, or null over ws. */
        SSLContext serverTls() {
            return this == WSS ? TestTls.get().server : null;
        }
    }
}
