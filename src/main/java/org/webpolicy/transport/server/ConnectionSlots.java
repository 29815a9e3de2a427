package org.webpolicy.transport.server;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.channels.SelectionKey;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts connections from the moment they are accepted, handshake or not, and stops accepting
 * (the listener stays open; new clients wait in the kernel's backlog) while either the count or
 * the process's file descriptors are near their limit.
 *
 * <p>Why here: Java-WebSocket 1.6.0 closes its listening socket for good when {@code accept()}
 * fails, e.g. with EMFILE once the descriptor limit is reached, and says so only at TRACE; the
 * process then lives on serving no one. The library asks {@link #beforeAccept} before every accept,
 * so an accept that would fail is never tried: accepting pauses and resumes after a back-off.
 */
public final class ConnectionSlots {

    private static final Logger log = LoggerFactory.getLogger(ConnectionSlots.class);
    /** Descriptors kept free for the process (its jars, logs, the policy's files, one more accept). */
    static final int SPARE_DESCRIPTORS = 32;
    /** Connections allowed beyond maxConnections while they handshake, so full servers still answer 503. */
    public static final int HANDSHAKE_SLACK = 64;
    private static final long MIN_BACKOFF_MS = 50;
    private static final long MAX_BACKOFF_MS = 1000;

    private final int maxAccepted;
    private final Housekeeping housekeeping;
    private final ClientLog clientLog;
    private final UnixOperatingSystemMXBean os;
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile SelectionKey acceptKey;
    private volatile boolean paused;
    private long backoffMs = MIN_BACKOFF_MS;

    /**
     * Slots for {@code maxConnections} open connections and {@link #HANDSHAKE_SLACK} more handshaking.
     *
     * @param maxConnections the server's connection limit
     * @param housekeeping the timer that resumes accepting
     * @param clientLog where pauses in accepting are logged
     */
    public ConnectionSlots(int maxConnections, Housekeeping housekeeping, ClientLog clientLog) {
        this.maxAccepted = maxConnections + HANDSHAKE_SLACK;
        this.housekeeping = housekeeping;
        this.clientLog = clientLog;
        OperatingSystemMXBean bean = ManagementFactory.getOperatingSystemMXBean();
        this.os = bean instanceof UnixOperatingSystemMXBean unix ? unix : null;
    }

    /**
     * Says in the log when {@code maxConnections} cannot be met under the process's descriptor limit.
     *
     * @param maxConnections the server's connection limit
     */
    public void checkDescriptorLimit(int maxConnections) {
        if (os == null) {
            return;
        }
        long limit = os.getMaxFileDescriptorCount();
        long open = os.getOpenFileDescriptorCount();
        long room = limit - open - SPARE_DESCRIPTORS;
        if (room < maxConnections + HANDSHAKE_SLACK) {
            log.warn("maxConnections {} cannot be met: the descriptor limit is {} with {} open, room for about {} "
                    + "connections; beyond that the server stops accepting until descriptors are free (raise ulimit -n "
                    + "or lower maxConnections)", maxConnections, limit, open, Math.max(0, room));
        }
    }

    /**
     * Connections accepted and not yet closed, handshake or not.
     *
     * @return the count
     */
    public int accepted() {
        return accepted.get();
    }

    /**
     * The listener's key, once anything was accepted; null before.
     *
     * @return the key, or null
     */
    public SelectionKey acceptKey() {
        return acceptKey;
    }

    /**
     * Called on the selector thread before each accept. Always true: the library cancels the
     * listener's key for good on false. When there is no room, accepting pauses instead; the one
     * accept that follows still has the spare descriptors.
     *
     * @param key the listener's key
     * @return true
     */
    public boolean beforeAccept(SelectionKey key) {
        acceptKey = key;
        boolean countFull = accepted.get() >= maxAccepted;
        boolean fdsFull = !countFull && descriptorsNearLimit();
        if (countFull || fdsFull) {
            pause(key, fdsFull);
        }
        return true;
    }

    /** A connection was accepted: it holds a slot until {@link #closed}. */
    public void opened() {
        accepted.incrementAndGet();
    }

    /** A connection accepted earlier closed: its slot is free, and accepting resumes if it was paused. */
    public void closed() {
        accepted.decrementAndGet();
        if (paused && accepted.get() < maxAccepted) {
            housekeeping.later(0, this::resume);
        }
    }

    private boolean descriptorsNearLimit() {
        return os != null && os.getOpenFileDescriptorCount() >= os.getMaxFileDescriptorCount() - SPARE_DESCRIPTORS;
    }

    private synchronized void pause(SelectionKey key, boolean descriptors) {
        if (paused) {
            return;
        }
        paused = true;
        key.interestOps(0);
        long wait = descriptors ? backoffMs : MAX_BACKOFF_MS;
        if (descriptors) {
            backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        }
        clientLog.warn("Not accepting connections for up to {} ms: {}", wait, descriptors
                ? "the process is near its file descriptor limit (" + (os == null ? "?" : os.getMaxFileDescriptorCount()) + ")"
                : accepted.get() + " connections are open or handshaking");
        housekeeping.later(wait, this::resume);
    }

    private synchronized void resume() {
        SelectionKey key = acceptKey;
        if (!paused || key == null || !key.isValid()) {
            return;
        }
        if (!descriptorsNearLimit()) {
            backoffMs = MIN_BACKOFF_MS;
        }
        paused = false;
        key.interestOps(SelectionKey.OP_ACCEPT);
        key.selector().wakeup();
    }
}
