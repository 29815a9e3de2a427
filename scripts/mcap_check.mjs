// Reads MCAP files with the reference reader (@mcap/core) and checks them:
//   node mcap_check.mjs FILE [--expect TOPIC=COUNT ...] [--truncated]
// Both of its readers must agree: the indexed reader (footer, summary CRC, chunk indexes,
// statistics) and the stream reader (every record in order, chunk CRCs). The data-section CRC,
// which neither reader checks, is computed here over the bytes from the magic to the DataEnd.
// Prints one line per file and "N passed, M failed" at the end; exits 1 on any failure.
import { readFileSync } from "node:fs";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { crc32 } from "@foxglove/crc";
import { decompress as zstdDecompress } from "fzstd";

const decompressHandlers = {
  zstd: (data, size) => {
    const out = zstdDecompress(data);
    if (BigInt(out.byteLength) !== size) throw new Error(`zstd gave ${out.byteLength} bytes, chunk says ${size}`);
    return out;
  },
};

function parseArgs(argv) {
  const files = [];
  let current;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--expect") {
      const [topic, count] = argv[++i].split("=");
      current.expect[topic] = Number(count);
    } else if (argv[i] === "--truncated") {
      current.truncated = true;
    } else {
      current = { file: argv[i], expect: {}, truncated: false };
      files.push(current);
    }
  }
  return files;
}

function streamRead(bytes) {
  const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  reader.append(bytes);
  const counts = {};
  const channels = new Map();
  let dataEnd;
  let footer = false;
  for (let rec; (rec = reader.nextRecord()); ) {
    if (rec.type === "Channel") channels.set(rec.id, rec.topic);
    if (rec.type === "Message") {
      const topic = channels.get(rec.channelId);
      counts[topic] = (counts[topic] ?? 0) + 1;
    }
    if (rec.type === "DataEnd") dataEnd = rec;
    if (rec.type === "Footer") footer = true;
  }
  return { counts, dataEnd, footer, done: reader.done() };
}

async function indexedRead(bytes) {
  const readable = {
    size: async () => BigInt(bytes.byteLength),
    read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)),
  };
  const reader = await McapIndexedReader.Initialize({ readable, decompressHandlers });
  const counts = {};
  for await (const msg of reader.readMessages({ validateCrcs: true })) {
    const topic = reader.channelsById.get(msg.channelId).topic;
    counts[topic] = (counts[topic] ?? 0) + 1;
  }
  const stats = reader.statistics;
  const statCounts = {};
  for (const [id, n] of stats.channelMessageCounts) statCounts[reader.channelsById.get(id).topic] = Number(n);
  return { counts, stats, statCounts, chunks: reader.chunkIndexes.length, dataSectionCrc: reader.dataSectionCrc };
}

function dataCrcOk(bytes) {
  // DataEnd is the record right before the summary; find it by walking the top-level records.
  let pos = 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (pos + 9 <= bytes.byteLength) {
    const opcode = bytes[pos];
    const length = Number(view.getBigUint64(pos + 1, true));
    if (opcode === 0x0f) {
      const recorded = view.getUint32(pos + 9, true);
      return recorded === 0 || recorded === crc32(bytes.subarray(0, pos));
    }
    pos += 9 + length;
  }
  throw new Error("no DataEnd record");
}

function sameCounts(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

async function check(spec) {
  const bytes = new Uint8Array(readFileSync(spec.file));
  if (spec.truncated) {
    // The reference stream reader reads a cut file up to its last complete record, then waits for more.
    const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    reader.append(bytes);
    let messages = 0;
    for (let rec; (rec = reader.nextRecord()); ) if (rec.type === "Message") messages++;
    if (reader.done()) throw new Error("a cut file should leave the stream reader waiting for more");
    const min = spec.expect["*"] ?? 1;
    if (messages < min) throw new Error(`only ${messages} messages before the cut, expected at least ${min}`);
    return `${messages} messages before the cut`;
  }
  const stream = streamRead(bytes);
  if (!stream.footer || !stream.done) throw new Error("the stream reader did not reach the footer");
  const indexed = await indexedRead(bytes);
  if (!sameCounts(stream.counts, indexed.counts)) {
    throw new Error(`readers disagree: stream ${JSON.stringify(stream.counts)} indexed ${JSON.stringify(indexed.counts)}`);
  }
  if (!sameCounts(indexed.counts, indexed.statCounts)) {
    throw new Error(`statistics ${JSON.stringify(indexed.statCounts)} but messages ${JSON.stringify(indexed.counts)}`);
  }
  const total = Object.values(indexed.counts).reduce((a, b) => a + b, 0);
  if (Number(indexed.stats.messageCount) !== total) throw new Error(`statistics count ${indexed.stats.messageCount}, read ${total}`);
  if (indexed.stats.chunkCount !== indexed.chunks) throw new Error(`statistics ${indexed.stats.chunkCount} chunks, index ${indexed.chunks}`);
  if (!dataCrcOk(bytes)) throw new Error("data section CRC does not match");
  for (const [topic, n] of Object.entries(spec.expect)) {
    if ((indexed.counts[topic] ?? 0) !== n) throw new Error(`topic ${topic}: ${indexed.counts[topic] ?? 0} messages, expected ${n}`);
  }
  return `${total} messages, ${indexed.chunks} chunks, topics ${JSON.stringify(indexed.counts)}`;
}

let passed = 0;
let failed = 0;
for (const spec of parseArgs(process.argv.slice(2))) {
  try {
    console.log(`ok   ${spec.file}: ${await check(spec)}`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${spec.file}: ${e.message}`);
    failed++;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
