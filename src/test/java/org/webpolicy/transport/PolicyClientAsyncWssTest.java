package org.webpolicy.transport;

/** The tests of {@link PolicyClientAsyncTest} over {@code wss://}: TLS with a certificate made at test time. */
class PolicyClientAsyncWssTest extends PolicyClientAsyncTest {

    @Override
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WSS;
    }
}
