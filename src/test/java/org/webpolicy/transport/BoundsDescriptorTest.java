package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.array.NdArray;

/**
 * The listener survives the file-descriptor limit: a server in a child JVM under
 * {@code ulimit -n 256} (default maxConnections 1024, which it says it cannot meet) gets 400
 * silent connections, stops accepting near the limit instead of losing its listening socket, and
 * serves a good client once they are gone. Over {@code ws://} and {@code wss://}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class BoundsDescriptorTest {

    private final Wire wire;

    BoundsDescriptorTest(Wire wire) {
        this.wire = wire;
    }

    private static final int DESCRIPTOR_LIMIT = 256;

    @Test
    void theListenerSurvivesTheDescriptorLimit() throws Exception {
        File log = File.createTempFile("descriptor-limited-server", ".log");
        log.deleteOnExit();
        String java = System.getProperty("java.home") + "/bin/java";
        String command = "ulimit -n " + DESCRIPTOR_LIMIT + " && exec '" + java + "' -Xmx256m -cp '"
                + ChildJvm.classPath() + "' " + DescriptorLimitedServer.class.getName()
                + (wire == Wire.WSS ? " '" + TestTls.get().store + "'" : "");
        Process child = new ProcessBuilder("bash", "-c", command).redirectError(log).start();
        List<Socket> silent = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("PORT "), "the child did not start: " + first
                    + "\n" + Files.readString(log.toPath()));
            int port = Integer.parseInt(first.substring(5).trim());
            int connected = 0;
            for (int i = 0; i < 400; i++) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 300);
                    silent.add(s);
                    connected++;
                } catch (IOException e) {
                    s.close(); // the backlog is full: the server is not accepting, as it should not
                }
            }
            Thread.sleep(500);
            assertTrue(child.isAlive(), "the server exited:\n" + Files.readString(log.toPath()));
            for (Socket s : silent) {
                s.close();
            }
            silent.clear();
            assertServes(port);
            String stderr = Files.readString(log.toPath());
            assertTrue(stderr.contains("cannot be met"), "the start-up warning about the limit:\n" + stderr);
            assertTrue(stderr.contains("file descriptor limit"), "the pause was logged:\n" + stderr);
            System.out.println("FIGURE descriptors (" + wire + "): ulimit -n " + DESCRIPTOR_LIMIT + ", " + connected
                    + " of 400 silent connections got through; the listener kept serving");
            child.getOutputStream().close();
            assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the child did not exit");
            assertEquals(0, child.exitValue());
        } finally {
            for (Socket s : silent) {
                s.close();
            }
            child.destroyForcibly();
        }
    }

    private void assertServes(int port) {
        try (PolicyClient client = wire.client(port)
                .connectTimeout(Duration.ofSeconds(20)).requestTimeout(Duration.ofSeconds(20)).build()) {
            Map<String, Object> action = client.step(TestPolicies.observation(7));
            Map<?, ?> echo = (Map<?, ?>) action.get("echo");
            assertEquals(7f, ((NdArray) echo.get("state")).getFloat(0));
        }
    }
}
