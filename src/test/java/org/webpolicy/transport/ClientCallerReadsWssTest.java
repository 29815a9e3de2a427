package org.webpolicy.transport;

/** The tests of {@link ClientCallerReadsTest} over {@code wss://}: an {@code SSLSocket} read by one thread at a time. */
class ClientCallerReadsWssTest extends ClientCallerReadsTest {

    @Override
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WSS;
    }
}
