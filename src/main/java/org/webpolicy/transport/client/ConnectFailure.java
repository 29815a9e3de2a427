package org.webpolicy.transport.client;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import org.webpolicy.transport.ClientOptions;
import org.webpolicy.transport.protocol.ClientText;

/**
 * Why an attempt to connect failed, whether the server may yet accept one (a restart, a full
 * server, a balancer that lost its server: yes; a refused key, a certificate, not a WebSocket
 * server: no), and whether the attempt ran out of its time (the next may be given longer).
 *
 * @param reason what went wrong, for the error a caller finally sees
 * @param retryable true when another attempt may succeed
 * @param timedOut true when the attempt ran out of its time
 */
public record ConnectFailure(String reason, boolean retryable, boolean timedOut) {

    ConnectFailure(String reason, boolean retryable) {
        this(reason, retryable, false);
    }

    /**
     * Why an attempt whose handshake did not succeed failed.
     *
     * @param e what the connecting thread caught, or null
     * @param endReason how the connection ended, or null
     * @param options the attempt's options
     * @param timeoutNanos the attempt's time
     * @return the failure, retryable when a later attempt may succeed
     */
    static ConnectFailure of(Exception e, String endReason, ClientOptions options, long timeoutNanos) {
        if (e instanceof ConnectException) {
            return new ConnectFailure("refused (" + e.getMessage() + ")", true);
        }
        if (e instanceof ClientUpgrade.Refused refused) {
            int status = refused.status();
            if (status == 401) {
                return new ConnectFailure(refusedKey(options.apiKey() != null), false);
            }
            // 503: the server is full or shutting down (a restart): both pass. 502 and 504: a load
            // balancer in front lost the server it chose (killed mid-handshake); another attempt goes
            // to a server that lives.
            return new ConnectFailure(refused.getMessage() + refusalHint(status), status == 503 || status == 502 || status == 504);
        }
        if (e instanceof SocketTimeoutException) {
            // The reader's socket timeout is the attempt's time too: whichever of it and the wait in
            // open() ends first, the caller is told the same thing.
            return new ConnectFailure("no handshake within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms (" + e.getMessage() + ")", true, true);
        }
        if (e instanceof UnknownHostException || e instanceof java.nio.channels.UnresolvedAddressException) {
            return new ConnectFailure("unknown host " + options.uri().getHost() + " (" + ClientText.reason(e) + ")", false);
        }
        if (e instanceof javax.net.ssl.SSLException && !endedUnderneath(e)) {
            return new ConnectFailure(ClientText.reason(e), false); // the certificate or TLS itself: no retry mends it
        }
        if (e instanceof ClientUpgrade.NotWebSocket) {
            return new ConnectFailure(ClientText.reason(e), false);
        }
        // Closed or reset during the handshake, with no answer refusing us: a server going away
        // (restarting, killed) that a later attempt may find back.
        String said = e != null ? ClientText.reason(e) : endReason != null ? endReason : "handshake not completed";
        return new ConnectFailure("the connection ended during the handshake (" + said + ")", true);
    }

    /**
     * True when a TLS failure is the connection ending under the handshake (a server going away:
     * worth another attempt), not a refusal of the certificate or the protocol.
     */
    private static boolean endedUnderneath(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.EOFException || t instanceof java.net.SocketException) {
                return true;
            }
        }
        String m = e.getMessage();
        return m != null && m.contains("Remote host terminated the handshake");
    }

    /** What a refusal of the upgrade means for the one who reads it. */
    private static String refusalHint(int status) {
        return switch (status) {
            case 426 -> " (the server wants another WebSocket version than 13)";
            case 503 -> " (the server is full or shutting down)";
            case 404 -> " (no WebSocket endpoint at this path)";
            default -> "";
        };
    }

    /**
     * A 401 from the handshake: the server wants an API key this client did not send or sent
     * wrong. "HTTP 401" alone says nothing about the key.
     *
     * @param keySent whether this client sent a key
     * @return what went wrong and how to pass the server's key
     */
    public static String refusedKey(boolean keySent) {
        return "the server refused the API key (HTTP 401 Unauthorized): "
                + (keySent ? "the key this client sent is not the server's"
                        : "this client sent none, and the server requires one")
                + "; pass the server's key with PolicyClient.builder().apiKey(key) (webpolicy client: --api-key KEY),"
                + " which sends it as the header Authorization: Api-Key <key>";
    }
}
