package org.webpolicy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.webpolicy.broker.ActionChunkBroker;
import org.webpolicy.broker.ActionChunkException;
import org.webpolicy.broker.ActionChunkRequestException;
import org.webpolicy.broker.ActionUnavailableException;
import org.webpolicy.broker.AsyncActionChunkBroker;
import org.webpolicy.codec.DecodeException;
import org.webpolicy.codec.EncodeException;
import org.webpolicy.codec.MsgpackCodec;
import org.webpolicy.policy.Policy;
import org.webpolicy.transport.PolicyClient;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.PolicyServer;
import org.webpolicy.transport.RemotePolicyException;

/**
 * Every error the library raises from its own work is caught by one {@code catch
 * (WebPolicyException e)}: each case below makes the library fail for real and catches only the
 * root, then checks which error it was.
 */
class WebPolicyExceptionTest {

    private final MsgpackCodec codec = new MsgpackCodec();

    /** Runs {@code call}, which must fail, and returns what a catch of the root alone receives. */
    private static WebPolicyException caught(Runnable call) {
        try {
            call.run();
        } catch (WebPolicyException e) {
            return e;
        }
        throw new AssertionError("no WebPolicyException was thrown");
    }

    @Test
    void everyLibraryExceptionTypeHasTheRootAndIsUnchecked() {
        for (Class<?> type : List.of(EncodeException.class, DecodeException.class, ActionChunkException.class,
                ActionChunkRequestException.class, ActionUnavailableException.class,
                PolicyConnectionException.class, RemotePolicyException.class)) {
            assertTrue(WebPolicyException.class.isAssignableFrom(type), type + " does not extend the root");
        }
        assertTrue(RuntimeException.class.isAssignableFrom(WebPolicyException.class));
    }

    @Test
    void codecRefusalsAreCaughtByTheRoot() {
        WebPolicyException encode = caught(() -> codec.pack(Set.of(1L)));
        assertInstanceOf(EncodeException.class, encode);
        assertTrue(encode.getMessage().startsWith("$"), encode.getMessage());

        byte[] truncated = {(byte) 0x92, 0x01}; // an array of two, one element present
        WebPolicyException decode = caught(() -> codec.unpack(truncated));
        assertEquals(DecodeException.Problem.TRUNCATED, assertInstanceOf(DecodeException.class, decode).problem());
    }

    @Test
    void brokerFailuresAreCaughtByTheRoot() throws Exception {
        Policy noArrays = observation -> Map.of("text", "no arrays here");
        try (ActionChunkBroker broker = ActionChunkBroker.builder(noArrays, 2).build()) {
            assertInstanceOf(ActionChunkException.class, caught(() -> broker.step(Map.of())));
        }

        Policy failing = observation -> {
            throw new IllegalStateException("the model failed");
        };
        try (AsyncActionChunkBroker broker = AsyncActionChunkBroker.builder(failing, 2).build()) {
            WebPolicyException e = caught(() -> broker.step(Map.of()));
            assertInstanceOf(ActionChunkRequestException.class, e);
            assertEquals("the model failed", e.getCause().getMessage());
        }

        CountDownLatch never = new CountDownLatch(1);
        Policy silent = observation -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Map.of();
        };
        try (AsyncActionChunkBroker broker = AsyncActionChunkBroker.builder(silent, 2)
                .waitTimeout(Duration.ofMillis(50)).build()) {
            assertInstanceOf(ActionUnavailableException.class, caught(() -> broker.step(Map.of())));
        } finally {
            never.countDown();
        }
    }

    @Test
    void clientFailuresAreCaughtByTheRoot() {
        try (PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(1)
                .retryInterval(Duration.ofMillis(50)).connectTimeout(Duration.ofMillis(300)).build()) {
            WebPolicyException e = caught(client::connect);
            assertInstanceOf(PolicyConnectionException.class, e);
            assertTrue(e.getMessage().contains("127.0.0.1:1"), e.getMessage());
        }

        Policy throwing = observation -> {
            throw new IllegalArgumentException("no such camera");
        };
        try (PolicyServer server = PolicyServer.builder(throwing).host("127.0.0.1").port(0).build().start();
             PolicyClient client = PolicyClient.builder().host("127.0.0.1").port(server.port())
                     .connectTimeout(Duration.ofSeconds(10)).build()) {
            WebPolicyException e = caught(() -> client.step(Map.of()));
            RemotePolicyException remote = assertInstanceOf(RemotePolicyException.class, e);
            assertTrue(remote.serverText().contains("no such camera"), remote.serverText());
        }
    }

    @Test
    void aWrongArgumentIsNotALibraryFailure() {
        // Bugs in the calling code keep the JDK's types: the root does not swallow them.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MsgpackCodec(0));
        assertEquals(IllegalArgumentException.class, e.getClass());
    }
}
