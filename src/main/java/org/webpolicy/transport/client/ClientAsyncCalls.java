package org.webpolicy.transport.client;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.webpolicy.policy.Continuation;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.protocol.ClientText;
import org.webpolicy.transport.protocol.Request;
import org.webpolicy.transport.PolicyConnectionException;
import org.webpolicy.transport.RequestTimeoutException;

/**
 * The asynchronous calls of a {@link org.webpolicy.transport.PolicyClient}: a queue of steps, sent in the order they were
 * made by one client-owned daemon thread (started on the first call), whose futures are completed
 * in that order on the client's callback executor, never on the connection's reader thread nor on
 * the sending thread (a callback that blocks or calls {@code step} cannot stall or reenter it).
 *
 * <p>On a connection whose server echoes request ids (ours, which answers a connection's requests
 * in order) the calls waiting are sent without waiting for replies, and each reply is matched to
 * its call by its id. Elsewhere (openpi's raw form, Python webpolicy servers) they go one at a
 * time, as {@code step}s. Either way a call runs in the session's turn, so {@code step} calls and
 * resets are never interleaved with a burst: a burst takes no new call while another caller
 * waits for its turn, and ends when its replies are in.
 *
 * <p>Each sent call gets {@code requestTimeout} from its sending for its reply. A call without
 * its reply in time, or any failure of the connection, drops the connection and fails every call
 * sent on it and not answered yet, each naming the cause; none is resent (whether the server ran
 * it is unknown). Calls not sent yet go on the next connection. At most {@code maxOutstanding}
 * calls are outstanding (queued or sent, future not completed); one more is refused at once.
 */
public final class ClientAsyncCalls {

    /** One call: what to send and its future; settled exactly once. */
    private final class Call {
        final Map<String, Object> observation;
        final Continuation continuation;
        final CompletableFuture<Map<String, Object>> future = new CompletableFuture<>();
        private final AtomicBoolean settled = new AtomicBoolean();

        Call(Map<String, Object> observation, Continuation continuation) {
            this.observation = observation;
            this.continuation = continuation;
        }

        /** True when its future was completed by its holder (cancelled): it is not sent. */
        boolean abandoned() {
            if (future.isDone()) {
                settle(null, null);
                return true;
            }
            return false;
        }

        void succeed(Map<String, Object> action) {
            settle(action, null);
        }

        void fail(Throwable error) {
            settle(null, error);
        }

        private void settle(Map<String, Object> action, Throwable error) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            // Counted free before completion: a callback (or a caller woken by join) may make the next call.
            outstanding.decrementAndGet();
            complete(() -> {
                if (error != null) {
                    future.completeExceptionally(error);
                } else {
                    future.complete(action);
                }
            });
        }
    }

    /** A call sent on a pipelined connection, waiting for its reply. */
    private record Sent(Call call, Request request, long deadline) {
    }

    private final ClientSession session;
    private final ClientOptions options;
    private final int maxOutstanding;
    private final Executor callbacks;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Object stopToken = new Object();
    /** Completions not yet handed to {@link #callbacks}, run one at a time in order (guarded by itself). */
    private final ArrayDeque<Runnable> completions = new ArrayDeque<>();
    private boolean completing;
    private Thread sender;
    private volatile boolean closed;
    /** The connection of the burst in progress, or null: a new call wakes its wait for a reply. */
    private volatile ClientConnection bursting;

    /**
     * Asynchronous calls over {@code session}; the sender thread starts with the first call.
     *
     * @param session the session whose turns the calls take
     * @param options the client's options (outstanding calls, callback executor)
     */
    public ClientAsyncCalls(ClientSession session, ClientOptions options) {
        this.session = session;
        this.options = options;
        this.maxOutstanding = options.maxOutstandingCalls();
        this.callbacks = options.callbackExecutor();
    }

    /**
     * Queues a step and returns its future.
     *
     * @param observation the observation
     * @param continuation what the robot will still execute, or null
     * @return the future of the action
     * @throws RejectedExecutionException when {@code maxOutstanding} calls are outstanding
     * @throws IllegalStateException when the client is closed
     */
    public CompletableFuture<Map<String, Object>> submit(Map<String, Object> observation, Continuation continuation) {
        if (closed) {
            throw new IllegalStateException("This PolicyClient is closed");
        }
        if (outstanding.incrementAndGet() > maxOutstanding) {
            outstanding.decrementAndGet();
            throw new RejectedExecutionException(maxOutstanding + " asynchronous calls to " + options.uri()
                    + " are already outstanding (maxOutstandingCalls " + maxOutstanding + "); wait for one to complete,"
                    + " or raise PolicyClientBuilder.maxOutstandingCalls (at most the server's maxQueuedRequests,"
                    + " 16 by default on ours)");
        }
        Call call = new Call(observation, continuation);
        queue.add(call);
        startSender();
        ClientConnection c = bursting;
        if (c != null) {
            c.pipelined().nudge();
        }
        if (closed) {
            failQueued(); // close() ran while this call was queued
        }
        return call.future;
    }

    /** Fails the calls not sent yet and stops the sending thread; calls in flight fail as the session closes. */
    public void close() {
        closed = true;
        failQueued();
        queue.add(stopToken);
        ClientConnection c = bursting;
        if (c != null) {
            c.pipelined().nudge();
        }
    }

    private synchronized void startSender() {
        if (sender == null) {
            sender = new Thread(this::sendLoop, "webpolicy-client-async " + options.uri());
            sender.setDaemon(true);
            sender.start();
        }
    }

    private void failQueued() {
        Object o;
        while ((o = queue.poll()) != null) {
            if (o instanceof Call call) {
                call.fail(new IllegalStateException("This PolicyClient was closed before the call was sent"));
            }
        }
    }

    private void sendLoop() {
        while (true) {
            Object next;
            try {
                next = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (!(next instanceof Call call)) {
                return; // the stop token
            }
            if (call.abandoned()) {
                continue;
            }
            try {
                session.call(c -> {
                    if (c.envelope() && c.echoesIds()) {
                        burst(c, call);
                    } else {
                        call.succeed(session.stepOn(c, call.observation, call.continuation));
                    }
                    return null;
                });
            } catch (RuntimeException | Error e) {
                call.fail(e); // a no-op when a burst already settled it
            }
        }
    }

    /**
     * Sends {@code first} and every call queued while replies are awaited (until another caller
     * waits for the turn), each reply matched to its call by id, until none is outstanding.
     */
    private void burst(ClientConnection c, Call first) {
        ArrayDeque<Sent> inFlight = new ArrayDeque<>();
        bursting = c;
        try {
            Call next = first;
            while (true) {
                while (next != null) {
                    if (!next.abandoned()) {
                        send(c, next, inFlight);
                    }
                    next = takeMore();
                }
                Sent head = inFlight.peek();
                if (head == null) {
                    return;
                }
                long left = head.deadline() - System.nanoTime();
                if (left <= 0) {
                    c.shutDown("request timed out");
                    throw noReplyInTime(c);
                }
                boolean ready;
                try {
                    ready = c.pipelined().awaitReply(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    c.shutDown("interrupted");
                    throw new PolicyConnectionException("Interrupted while waiting for the reply from " + c.uri(), e);
                }
                if (ready) {
                    Map<String, Object> action;
                    try {
                        action = c.pipelined().receive(head.request()).action();
                    } catch (RuntimeException e) {
                        if (!c.usable()) {
                            throw e;
                        }
                        inFlight.poll();
                        head.call().fail(e); // a reply of its own that is no action: the others go on
                        continue;
                    }
                    inFlight.poll();
                    head.call().succeed(action);
                } else {
                    next = takeMore();
                }
            }
        } catch (RuntimeException | Error e) {
            if (!inFlight.isEmpty()) {
                // Their replies may still come: they must never meet a later call.
                c.shutDown("a pipelined call failed");
            }
            failInFlight(c, inFlight, e);
            throw e;
        } finally {
            bursting = null;
        }
    }

    /** The next queued call, or null when there is none, the client closes or another caller waits for the turn. */
    private Call takeMore() {
        if (closed || session.othersWaiting()) {
            return null;
        }
        Object o = queue.poll();
        if (o instanceof Call call) {
            return call;
        }
        if (o != null) {
            queue.add(o); // the stop token: the send loop ends on it once this burst is over
        }
        return null;
    }

    private void send(ClientConnection c, Call call, ArrayDeque<Sent> inFlight) {
        try {
            Request sent = c.pipelined().send(c.protocol().step(call.observation, call.continuation));
            inFlight.add(new Sent(call, sent, System.nanoTime() + options.requestTimeout().toNanos()));
        } catch (RuntimeException e) {
            if (!c.usable()) {
                throw e;
            }
            call.fail(e); // this call's own value cannot travel; nothing was sent, the others go on
        }
    }

    /**
     * The failure of the oldest call sent: no reply within the request timeout. Raised here only;
     * the connection has been dropped, so a late reply can never meet another call.
     */
    private RequestTimeoutException noReplyInTime(ClientConnection c) {
        return new RequestTimeoutException("No reply from " + c.uri() + " within " + options.requestTimeout().toMillis()
                + " ms; the connection was closed and the next call reconnects", options.requestTimeout());
    }

    /** The oldest call fails with {@code cause}, the later ones with an error naming it; none is resent. */
    private static void failInFlight(ClientConnection c, ArrayDeque<Sent> inFlight, Throwable cause) {
        Sent head = inFlight.poll();
        if (head == null) {
            return;
        }
        head.call().fail(cause);
        for (Sent later : inFlight) {
            later.call().fail(new PolicyConnectionException("The connection to " + c.uri() + " was dropped before request "
                    + later.request().id() + " was answered (" + ClientText.reason(cause) + "); it was not resent, since whether the"
                    + " server ran it is unknown", cause));
        }
        inFlight.clear();
    }

    /** Runs {@code completion} on the callback executor after the earlier ones, or here when the executor refuses. */
    private void complete(Runnable completion) {
        synchronized (completions) {
            completions.add(completion);
            if (completing) {
                return;
            }
            completing = true;
        }
        try {
            callbacks.execute(this::drainCompletions);
        } catch (RejectedExecutionException e) {
            drainCompletions(); // an executor shut down by its owner: completing here beats never
        }
    }

    private void drainCompletions() {
        while (true) {
            Runnable next;
            synchronized (completions) {
                next = completions.poll();
                if (next == null) {
                    completing = false;
                    return;
                }
            }
            next.run();
        }
    }
}
