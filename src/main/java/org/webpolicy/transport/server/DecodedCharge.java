package org.webpolicy.transport.server;

import org.webpolicy.codec.DecodeMemory;
import org.webpolicy.transport.protocol.FailureKind;
import org.webpolicy.transport.frame.InboundBudget;
import org.webpolicy.transport.protocol.RequestFailure;

/**
 * What one request's decoded value holds of the inbound budget: the codec charges its maps,
 * lists and strings here as it builds them ({@link org.webpolicy.codec.MsgpackCodec#unpack(java.nio.ByteBuffer,
 * DecodeMemory)}), so that a message of a few bytes per element, which decodes to tens of bytes
 * per element, is paid for before its objects exist; the request gives it all back once it is
 * answered. A charge the budget cannot meet fails the request, not the server. One thread.
 */
public final class DecodedCharge implements DecodeMemory {

    private final InboundBudget budget;
    private final long wireBytes;
    private long taken;

    /** @param wireBytes the request's own bytes, already charged: the small-message reserve looks at both */
    DecodedCharge(InboundBudget budget, long wireBytes) {
        this.budget = budget;
        this.wireBytes = wireBytes;
    }

    @Override
    public void charge(long bytes) {
        if (!budget.tryReserve(bytes, wireBytes + taken + bytes)) {
            throw new RequestFailure(FailureKind.LIMIT, "Could not decode the request: the server's inbound memory budget ("
                    + budget.limit() + " bytes) cannot hold its decoded values now (" + (taken + bytes)
                    + " bytes so far); try again later");
        }
        taken += bytes;
    }

    /** Bytes held now. */
    long taken() {
        return taken;
    }

    /** Gives back everything taken; the charge may be used again. */
    void release() {
        if (taken > 0) {
            budget.release(taken);
            taken = 0;
        }
    }
}
