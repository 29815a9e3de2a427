/**
 * A small MCAP (version 0) writer and reader: chunks compressed with zstd or stored, CRC-32 on
 * chunks, data and summary, message and chunk indexes, statistics. {@link org.webpolicy.mcap.McapWriter}
 * leaves a file readable up to its last chunk if the process dies;
 * {@link org.webpolicy.mcap.McapReader} checks every CRC and count and names the offset and record
 * of anything malformed.
 */
package org.webpolicy.mcap;
