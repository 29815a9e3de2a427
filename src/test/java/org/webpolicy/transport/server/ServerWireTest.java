package org.webpolicy.transport.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.webpolicy.transport.frame.CloseCodes;
import org.webpolicy.transport.frame.EncodedMessage;
import org.webpolicy.transport.frame.Frame;
import org.webpolicy.transport.frame.FrameCodec;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.frame.Opcode;
import org.webpolicy.transport.frame.ProtocolException;

/**
 * The server's WebSocket semantics without a socket: bytes in as a client writes them, messages
 * out to a receiver, frames out to a recording connection. Reassembly and its budget, text
 * refused unread, ping and pong with their bounds, the close handshake both ways, and protocol
 * violations closed with the RFC's code.
 */
class ServerWireTest {

    private static final int MAX = 1 << 20;

    /** Records what the wire writes and how it closes the socket. */
    private static final class Link implements WireConnection {
        final List<Frame> written = new ArrayList<>();
        final FrameCodec reader = new FrameCodec(Integer.MAX_VALUE, FrameCodec.Masking.FORBIDDEN, null);
        long pending;
        String closed;
        int pongs;

        @Override
        public InetSocketAddress remoteAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public boolean handshaking() {
            return false;
        }

        @Override
        public void write(List<ByteBuffer> frames) {
            if (closed != null) {
                throw new IllegalStateException("closed");
            }
            for (ByteBuffer frame : frames) {
                try {
                    written.addAll(reader.decode(frame));
                } catch (ProtocolException e) {
                    throw new AssertionError("the server wrote a frame a client would refuse: " + e.getMessage(), e);
                }
            }
        }

        @Override
        public void closeWhenFlushed(int code, String reason, boolean remote) {
            closed = "flushed " + code + (remote ? " remote" : " local");
        }

        @Override
        public void cut(int code, String reason) {
            closed = "cut " + code;
        }

        @Override
        public void flushSoon() {
        }

        @Override
        public long pendingBytes(long enough) {
            return pending;
        }

        @Override
        public void alive() {
            pongs++;
        }
    }

    /** Records messages and bounds broken; holds each message's prepaid bytes until told to give them back. */
    private static final class Messages implements ServerWire.Receiver {
        final List<byte[]> binary = new ArrayList<>();
        final List<Long> prepaid = new ArrayList<>();
        int texts;
        String limit;

        @Override
        public void binary(ServerWire wire, ByteBuffer message, long prepaidBytes) {
            byte[] b = new byte[message.remaining()];
            message.get(b);
            binary.add(b);
            prepaid.add(prepaidBytes);
        }

        @Override
        public void text(ServerWire wire) {
            texts++;
        }

        @Override
        public void limit(ServerWire wire, int code, String reason, boolean now) {
            limit = code + (now ? " now" : " after close");
            if (now) {
                wire.cut(code, reason);
            } else {
                wire.close(code, reason);
            }
        }
    }

    private final Link link = new Link();
    private final Messages messages = new Messages();
    private final InboundBudget budget = new InboundBudget(64L << 20);
    private final ServerWire wire = new ServerWire(link, new ServerConnection(Runnable::run), messages, MAX, 1000, budget,
            new ClientLog());

    /** A client's frame: masked, as RFC 6455 5.1 asks. */
    private static ByteBuffer client(Opcode opcode, boolean fin, byte[] payload) {
        return FrameCodec.encode(new Frame(opcode, fin, ByteBuffer.wrap(payload)), true);
    }

    private static ByteBuffer concat(ByteBuffer... frames) {
        int n = 0;
        for (ByteBuffer f : frames) {
            n += f.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(n);
        for (ByteBuffer f : frames) {
            all.put(f);
        }
        return all.flip();
    }

    @Test
    void aBinaryFrameIsOneMessageAndNothingIsPrepaid() {
        wire.received(client(Opcode.BINARY, true, new byte[] {1, 2, 3}));
        assertEquals(1, messages.binary.size());
        assertArrayEquals(new byte[] {1, 2, 3}, messages.binary.get(0));
        assertEquals(0L, messages.prepaid.get(0));
        assertEquals(0, budget.used(), "a whole frame leaves the decoder's charge");
    }

    @Test
    void fragmentsAreOneMessageWhoseCopyIsChargedAndHandedOn() {
        byte[] a = new byte[70_000];
        byte[] b = new byte[5];
        a[0] = 7;
        b[4] = 9;
        // Both fragments and a ping between them in one read, as a client may send them.
        wire.received(concat(client(Opcode.BINARY, false, a), client(Opcode.PING, true, new byte[] {4}),
                client(Opcode.CONTINUATION, true, b)));
        assertEquals(1, messages.binary.size());
        byte[] whole = messages.binary.get(0);
        assertEquals(70_005, whole.length);
        assertEquals(7, whole[0]);
        assertEquals(9, whole[70_004]);
        assertEquals(70_005L, messages.prepaid.get(0), "the copy's bytes are the receiver's to give back");
        assertEquals(70_005, budget.used(), "only the copy is held: the fragments' charge went back");
        assertEquals(List.of(Opcode.PONG), link.written.stream().map(Frame::opcode).toList(), "the ping between fragments is answered");
    }

    @Test
    void aTextMessageIsRefusedForItsKindAndItsFragmentsAreNotKept() {
        wire.received(concat(client(Opcode.TEXT, false, "hel".getBytes(StandardCharsets.UTF_8)),
                client(Opcode.CONTINUATION, true, "lo".getBytes(StandardCharsets.UTF_8))));
        assertEquals(1, messages.texts);
        assertEquals(0, messages.binary.size());
        assertEquals(0, budget.used());
    }

    @Test
    void pingsAreAnsweredWithTheirPayloadUpToTheRateLimit() {
        wire.received(client(Opcode.PING, true, new byte[] {5, 6}));
        assertEquals(1, link.written.size());
        assertEquals(Opcode.PONG, link.written.get(0).opcode());
        assertEquals(ByteBuffer.wrap(new byte[] {5, 6}), link.written.get(0).payload());
        for (int i = 1; i < ServerWire.MAX_PINGS_PER_SECOND; i++) {
            wire.received(client(Opcode.PING, true, new byte[0]));
        }
        assertEquals(null, messages.limit);
        wire.received(client(Opcode.PING, true, new byte[0]));
        assertEquals(CloseCodes.POLICY + " after close", messages.limit);
        assertEquals(CloseCodes.POLICY, link.written.get(link.written.size() - 1).closeCode());
    }

    @Test
    void aPingWhileRepliesPileUpUnreadCutsTheConnection() {
        link.pending = 1001;
        wire.received(client(Opcode.PING, true, new byte[0]));
        assertEquals(CloseCodes.POLICY + " now", messages.limit);
        assertEquals("cut " + CloseCodes.POLICY, link.closed);
        assertTrue(link.written.isEmpty(), "no pong queued behind what the client does not read");
    }

    @Test
    void aPongProvesTheClientAlive() {
        wire.received(client(Opcode.PONG, true, new byte[0]));
        assertEquals(1, link.pongs);
        assertTrue(link.written.isEmpty());
    }

    @Test
    void theClientsCloseIsAnsweredWithItsCodeAndNothingAfterItIsRead() {
        ByteBuffer close = FrameCodec.encode(Frame.close(1001, "bye"), true);
        wire.received(concat(close, client(Opcode.BINARY, true, new byte[] {1})));
        assertEquals(1, link.written.size());
        assertEquals(1001, link.written.get(0).closeCode());
        assertEquals("flushed 1001 remote", link.closed);
        assertEquals(0, messages.binary.size(), "a frame after the close frame is not a request");
        assertThrows(IllegalStateException.class, () -> wire.sendText("late"));
    }

    @Test
    void aCloseWithoutACodeIsAnsweredWithoutOne() {
        wire.received(FrameCodec.encode(Frame.close(-1, ""), true));
        assertEquals(0, link.written.get(0).payload().remaining());
    }

    @Test
    void ourCloseGoesOutOnceAndTheClientsAnswerEndsTheConnection() {
        wire.sendText("the reason");
        wire.close(CloseCodes.UNEXPECTED, "error");
        wire.close(CloseCodes.NORMAL, "again");
        assertEquals(List.of(Opcode.TEXT, Opcode.CLOSE), link.written.stream().map(Frame::opcode).toList());
        assertEquals(CloseCodes.UNEXPECTED, link.written.get(1).closeCode());
        assertEquals("flushed 1011 local", link.closed);
        assertThrows(IllegalStateException.class, () -> wire.sendBinary(new EncodedMessage(List.of(ByteBuffer.allocate(1)))));
        wire.received(concat(client(Opcode.BINARY, true, new byte[] {1}), FrameCodec.encode(Frame.close(1011, ""), true)));
        assertEquals(0, messages.binary.size(), "requests after our close are not run");
        assertEquals("cut 1011", link.closed);
    }

    @Test
    void protocolViolationsCloseWithTheRfcsCode() {
        wire.received(FrameCodec.encode(new Frame(Opcode.BINARY, true, ByteBuffer.wrap(new byte[] {1})), false));
        assertEquals(CloseCodes.PROTOCOL_ERROR, link.written.get(0).closeCode());
        assertTrue(link.written.get(0).closeReason().contains("unmasked"), link.written.get(0).closeReason());
        assertEquals("flushed 1002 local", link.closed);
        wire.received(client(Opcode.BINARY, true, new byte[] {1}));
        assertEquals(0, messages.binary.size(), "nothing more is read");
    }

    @Test
    void aMessageOverTheLimitCloses1009BeforeItsBytesArrive() {
        ByteBuffer header = ByteBuffer.allocate(14).put((byte) 0x82).put((byte) (0x80 | 127)).putLong(MAX + 1L)
                .putInt(0x01020304).flip();
        wire.received(header);
        assertEquals(CloseCodes.TOO_BIG, link.written.get(0).closeCode());
        assertEquals(0, budget.used());
    }

    @Test
    void aPartlyReceivedMessageGivesItsBytesBackWhenTheConnectionGoes() {
        ByteBuffer first = client(Opcode.BINARY, false, new byte[200_000]);
        ByteBuffer second = client(Opcode.CONTINUATION, true, new byte[100_000]);
        wire.received(first);
        second.limit(second.limit() - 50_000); // half of the last fragment
        wire.received(second);
        assertTrue(budget.used() >= 250_000, "held while it arrives: " + budget.used());
        wire.release();
        assertEquals(0, budget.used());
    }
}
