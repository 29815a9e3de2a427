package org.webpolicy.transport;

/** The tests of {@link PolicyClientCorrelationTest} over {@code wss://}: TLS with a certificate made at test time. */
class PolicyClientCorrelationWssTest extends PolicyClientCorrelationTest {

    @Override
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WSS;
    }
}
