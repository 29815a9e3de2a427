package org.webpolicy.mcap;

import org.webpolicy.WebPolicyException;

/** A file that is not MCAP, or whose record at {@link #offset()} is malformed or fails its CRC. */
public final class McapFormatException extends WebPolicyException {

    /** Serialization version: the class's fields are its message and offset. */
    private static final long serialVersionUID = 1L;

    /** Where the bad record starts, in bytes from the start of the file. */
    private final long offset;

    McapFormatException(long offset, String record, String problem) {
        super("MCAP file is bad at byte offset " + offset + (record == null ? "" : ", record " + record) + ": " + problem);
        this.offset = offset;
    }

    /**
     * Where, from the start of the file, the bad record (or the chunk holding it) starts.
     *
     * @return a byte offset
     */
    public long offset() {
        return offset;
    }
}
