package org.webpolicy.transport;

import java.io.FileInputStream;
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
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, made once per test JVM
 * with the JDK's keytool (as {@link SecurityTest} does), and the two TLS contexts around it: the
 * server's, holding the key, and a client's that trusts this one certificate and nothing else.
 */
final class TestTls {

    private static final char[] PASSWORD = "test-only".toCharArray();
    private static SSLContext server;
    private static SSLContext client;

    private TestTls() {
    }

    /** The server's TLS context. */
    static synchronized SSLContext server() {
        make();
        return server;
    }

    /** A client's TLS context, trusting the server's certificate only. */
    static synchronized SSLContext client() {
        make();
        return client;
    }

    private static void make() {
        if (server != null) {
            return;
        }
        try {
            Path dir = Files.createTempDirectory("webpolicy-tls");
            Path store = dir.resolve("server.p12");
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + out);
            }
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(store.toFile())) {
                keys.load(in, PASSWORD);
            }
            Files.delete(store);
            Files.delete(dir);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASSWORD);
            SSLContext s = SSLContext.getInstance("TLS");
            s.init(kmf.getKeyManagers(), null, null);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("server", keys.getCertificate("server"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, tmf.getTrustManagers(), null);
            server = s;
            client = c;
        } catch (Exception e) {
            throw new IllegalStateException("could not make the test certificate", e);
        }
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
            return this == WSS ? b.sslContext(TestTls.client()) : b;
        }

        /** A server builder serving this scheme (TLS with the test certificate over wss). */
        PolicyServerBuilder serve(PolicyServerBuilder b) {
            return this == WSS ? b.sslContext(TestTls.server()) : b;
        }

        /** The server's TLS context, or null over ws. */
        SSLContext serverTls() {
            return this == WSS ? TestTls.server() : null;
        }
    }
}
