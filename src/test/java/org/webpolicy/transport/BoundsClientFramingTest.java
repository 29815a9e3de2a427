package org.webpolicy.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.webpolicy.codec.MsgpackCodec;

/**
 * The framing layer in the client's role: a server that masks its frames (RFC 6455 5.1 forbids
 * it) gets a close with 1002 from our client, which takes nothing from it. Over {@code ws://} and
 * {@code wss://}.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Wire.class)
class BoundsClientFramingTest {

    private final Wire wire;

    BoundsClientFramingTest(Wire wire) {
        this.wire = wire;
    }

    @Test
    void aMaskedServerFrameIsClosedWith1002ByTheClient() throws Exception {
        try (ServerSocket listener = wire.listen()) {
            CompletableFuture<Integer> closeCode = CompletableFuture.supplyAsync(() -> maskingServer(listener));
            try (PolicyClient client = wire.client(listener.getLocalPort())
                    .connectTimeout(Duration.ofSeconds(3)).requestTimeout(Duration.ofSeconds(3)).reconnect(false).build()) {
                assertThrows(RuntimeException.class, () -> client.step(TestPolicies.observation(1)));
            }
            Integer code = closeCode.get(20, TimeUnit.SECONDS);
            assertNotNull(code, "the client sent no close frame");
            assertEquals(1002, code);
        }
    }

    /** Accepts one client, upgrades it, sends the metadata frame masked, returns the client's close code. */
    private static Integer maskingServer(ServerSocket listener) {
        try (Socket s = listener.accept()) {
            s.setSoTimeout(15_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head = WireSocket.readHttpHead(in);
            Matcher key = Pattern.compile("(?i)Sec-WebSocket-Key: *(\\S+)").matcher(head);
            if (!key.find()) {
                return null;
            }
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(
                    (key.group(1) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + Base64.getEncoder().encodeToString(digest) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(WireSocket.frame(WireSocket.BINARY, new MsgpackCodec().pack(Map.of("policy", "masked")), true));
            out.flush();
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    return null;
                }
                int b1 = in.read();
                int len = b1 & 0x7f; // a client's close or request; requests are not expected here
                if (len >= 126) {
                    return null;
                }
                byte[] mask = in.readNBytes((b1 & 0x80) != 0 ? 4 : 0);
                byte[] payload = in.readNBytes(len);
                for (int i = 0; i < payload.length && mask.length == 4; i++) {
                    payload[i] ^= mask[i & 3];
                }
                if ((b0 & 0x0f) == WireSocket.CLOSE) {
                    return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
                }
            }
        } catch (Exception e) {
            return null;
        }
    }
}
