package org.webpolicy.modular;

import org.webpolicy.transport.server.ProtocolCore;

/** Must not compile on the module path: the server's machinery is not exported. */
final class ReachesInside {

    private ReachesInside() {
    }

    static Class<?> inside() {
        return ProtocolCore.class;
    }
}
