package org.webpolicy.transport;

/** A request failed for a reason the client is told in plain words (no stack trace). */
final class RequestFailure extends RuntimeException {

    RequestFailure(String message) {
        super(message, null, false, false);
    }
}
