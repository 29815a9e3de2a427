package org.webpolicy.transport.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connections from their TCP accept to the end of their handshake: the only ones nobody has
 * vouched for yet (no key checked, no request seen), so what they may hold is bounded here.
 * <ul>
 * <li>A connection that sends nothing within {@code firstByteTimeout} is closed: a silent
 * connect flood holds a slot for that long, not for the whole handshake timeout.</li>
 * <li>One that has not finished its handshake within {@code handshakeTimeout} is closed (one that
 * trickles its request head).</li>
 * <li>At most {@code maxPerAddress} handshakes are under way from one address at once; a
 * connection past that is closed as soon as it is accepted. Open connections do not count, so
 * many robots behind one NAT or a proxy are never refused for being many, only for handshaking
 * all at the same instant.</li>
 * </ul>
 * Together they keep a flood from one address, or a slow one from many, from filling the
 * server's connection slots, so {@code /healthz}, {@code /metrics} and new robots are accepted
 * and answered while it runs.
 */
public final class PendingHandshakes {

    /** What is known of a connection under way. */
    private static final class Pending {
        final long since = System.nanoTime();
        final InetAddress address;
        volatile boolean spoke;

        Pending(InetAddress address) {
            this.address = address;
        }
    }

    /** How a connection past its time is closed. */
    public interface Closer {
        /**
         * Closes {@code conn}, which is past its time.
         *
         * @param conn the connection
         * @param reason why it is closed
         */
        void close(ServerWire conn, String reason);
    }

    private final Map<ServerWire, Pending> pending = new ConcurrentHashMap<>();
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final int maxPerAddress;
    private final long firstByteNanos;
    private final long handshakeNanos;

    /**
     * No handshakes under way yet.
     *
     * @param maxPerAddress the most handshakes under way from one address
     * @param firstByteTimeout how long a connection may stay silent after it is accepted
     * @param handshakeTimeout how long a handshake may take in all
     */
    public PendingHandshakes(int maxPerAddress, Duration firstByteTimeout, Duration handshakeTimeout) {
        this.maxPerAddress = maxPerAddress;
        this.firstByteNanos = firstByteTimeout.toNanos();
        this.handshakeNanos = handshakeTimeout.toNanos();
    }

    /**
     * A connection was accepted. False when its address already has {@code maxPerAddress}
     * handshakes under way: the connection is not counted, and the caller closes it.
     *
     * @param conn the connection
     * @return whether it was admitted
     */
    public boolean admit(ServerWire conn) {
        InetAddress address = addressOf(conn);
        if (address != null) {
            boolean[] room = {false};
            perAddress.compute(address, (a, n) -> {
                int count = n == null ? 0 : n;
                if (count >= maxPerAddress) {
                    return n;
                }
                room[0] = true;
                return count + 1;
            });
            if (!room[0]) {
                return false;
            }
        }
        pending.put(conn, new Pending(address));
        return true;
    }

    /**
     * Bytes arrived on {@code conn} (called for every read while it handshakes; cheap).
     *
     * @param conn the connection
     */
    public void spoke(ServerWire conn) {
        Pending p = pending.get(conn);
        if (p != null) {
            p.spoke = true;
        }
    }

    /**
     * The handshake of {@code conn} ended (done, refused or closed); a second call does nothing.
     *
     * @param conn the connection
     */
    public void done(ServerWire conn) {
        Pending p = pending.remove(conn);
        if (p != null && p.address != null) {
            perAddress.computeIfPresent(p.address, (a, n) -> n <= 1 ? null : n - 1);
        }
    }

    /**
     * Connections whose handshake is under way.
     *
     * @return the count
     */
    public int count() {
        return pending.size();
    }

    /** Handshakes under way from {@code address} (for tests). */
    int from(InetAddress address) {
        return perAddress.getOrDefault(address, 0);
    }

    /**
     * Closes the connections past their first-byte or handshake time, with the reason.
     *
     * @param closer how to close them
     */
    public void sweep(Closer closer) {
        long now = System.nanoTime();
        pending.forEach((conn, p) -> {
            long age = now - p.since;
            if (!conn.handshaking()) {
                done(conn);
            } else if (!p.spoke && age > firstByteNanos) {
                done(conn);
                closer.close(conn, "nothing sent within " + firstByteNanos / 1_000_000 + " ms");
            } else if (age > handshakeNanos) {
                done(conn);
                closer.close(conn, "no handshake within " + handshakeNanos / 1_000_000 + " ms");
            }
        });
    }

    private static InetAddress addressOf(ServerWire conn) {
        InetSocketAddress remote = conn.remoteAddress();
        return remote == null ? null : remote.getAddress();
    }
}
