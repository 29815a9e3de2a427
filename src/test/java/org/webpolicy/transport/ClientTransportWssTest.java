package org.webpolicy.transport;

/** The tests of {@link ClientTransportTest} over {@code wss://}: TLS with a certificate made at test time. */
class ClientTransportWssTest extends ClientTransportTest {

    @Override
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WSS;
    }
}
