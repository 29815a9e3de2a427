package org.webpolicy.transport.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * The requests completed while one thread leads the I/O loop through a turn (leader/followers):
 * instead of going to a worker as each is decoded, they are held until the turn's reads are done,
 * then {@link #dispatch}ed in arrival order. One of them may be answered by the reading thread
 * itself, once it has handed the selector to a parked follower: the follower's wake-up then
 * overlaps the policy call instead of preceding it, and a slow policy holds only that thread.
 *
 * <p>A turn belongs to the thread that leads ({@link #open} binds it to that thread, {@link #close}
 * unbinds it); {@link RequestRunner} asks {@link #current} whether the thread decoding a request
 * is leading one. Requests decoded anywhere else (the WebSocket library's threads, before a
 * connection is handed over) go to a worker as they always did.
 */
public final class ReadTurn {

    private static final ThreadLocal<ReadTurn> LEADING = new ThreadLocal<>();

    private final List<SerialExecutor> serials = new ArrayList<>();
    private final List<Runnable> tasks = new ArrayList<>();
    private final List<Runnable> refused = new ArrayList<>();

    /** Binds this turn to the calling thread, which leads the loop from now on. */
    public void open() {
        LEADING.set(this);
    }

    /** The calling thread no longer leads: its requests go to workers again. */
    public void close() {
        LEADING.remove();
    }

    /** The turn of the loop the calling thread leads, or null. */
    static ReadTurn current() {
        return LEADING.get();
    }

    /**
     * Holds a request until the turn's reads are done.
     *
     * @param serial its connection's turns
     * @param task the request's answer
     * @param onRefused what to do when the worker pool refuses it (shut down)
     */
    void add(SerialExecutor serial, Runnable task, Runnable onRefused) {
        serials.add(serial);
        tasks.add(task);
        refused.add(onRefused);
    }

    /**
     * Whether requests wait for {@link #dispatch}.
     *
     * @return true when the turn holds none
     */
    public boolean isEmpty() {
        return tasks.isEmpty();
    }

    /**
     * The requests waiting for {@link #dispatch}. The loop answers one itself only when its turn
     * completed exactly one: several in one turn mean clients are waiting on each other, and the
     * workers take them while the leader keeps the selector.
     *
     * @return how many
     */
    public int size() {
        return tasks.size();
    }

    /**
     * Sends the turn's requests on, in the order they arrived: each behind its connection's turn
     * under way, or to a worker; when {@code answerHere}, the first that can start at once (its
     * connection idle and no request answered anywhere, see {@link SerialExecutor#claimHere}) is
     * kept for the calling thread instead.
     *
     * @param answerHere whether the calling thread may answer one (a follower can take the selector)
     * @return the connection's turn the calling thread must run, after handing the selector over; null when none
     */
    public Runnable dispatch(boolean answerHere) {
        Runnable mine = null;
        for (int i = 0; i < tasks.size(); i++) {
            SerialExecutor serial = serials.get(i);
            Runnable task = tasks.get(i);
            try {
                if (answerHere && mine == null) {
                    mine = serial.claimHere(task);
                } else {
                    serial.execute(task);
                }
            } catch (RejectedExecutionException e) {
                refused.get(i).run();
            }
        }
        serials.clear();
        tasks.clear();
        refused.clear();
        return mine;
    }
}
