package org.webpolicy.transport;

/** The tests of {@link ClientWritePathTest} over {@code wss://}: TLS with a certificate made at test time. */
class ClientWritePathWssTest extends ClientWritePathTest {

    @Override
    TestTls.Scheme scheme() {
        return TestTls.Scheme.WSS;
    }
}
