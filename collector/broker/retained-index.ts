import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

/** What this module uses of aedes' memory persistence (a CommonJS module whose typings describe an ES default export). */
interface RetainedPacket {
  topic: string;
  payload: Buffer;
}
interface Persistence {
  storeRetained(packet: RetainedPacket, cb?: (err?: Error | null) => void): unknown;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => Persistence;

/** Whether an MQTT topic filter has a wildcard level (`+` or `#`). */
export function isTopicFilterWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/**
 * A payload in memory of its own, exactly its size. The MQTT parser hands out payloads as
 * views into the chunk read from the socket: a PC's retained status or Last Will kept as
 * such a view keeps that whole read alive for as long as the PC is known. After a collector
 * restart each agent's first read holds its CONNECT (the will), its birth status and its
 * replayed window (~32–64 KB): with 10,000 agents, ~325 MB of reads kept (bench:province
 * with the embedded broker, `canh_process_heap_bytes{kind="array_buffers"}`). Not from
 * Node's shared 8 KB pool either (one long-lived slice would keep its slab).
 */
export function ownBytes(payload: Buffer): Buffer {
  if (payload.byteOffset === 0 && payload.buffer.byteLength === payload.length) return payload;
  const copy = Buffer.allocUnsafeSlow(payload.length);
  payload.copy(copy);
  return copy;
}

/**
 * aedes' memory persistence with its retained messages also indexed by topic.
 *
 * The stock memory persistence answers every SUBSCRIBE by testing **all** retained messages
 * against each filter. Every Canh agent subscribes to its own topics at each connect (ack,
 * remote configuration, update offer) while the broker holds one retained status per PC and
 * a configuration per PC or site: at 10,000 agents that is 10,000 × 3 × ~10,000 topic
 * matches, minutes of the collector's event loop in a connect storm (measured with
 * `BENCH_PROVINCE_BROKER=embedded bench:province`: stalls of 2–5 s, one after another).
 *
 * A filter without wildcards matches exactly one topic (MQTT 3.1.1 §4.7), so a SUBSCRIBE
 * whose filters have none is answered from the index; one with a wildcard still goes to the
 * stock scan. The index holds the same packets as the persistence (one entry per retained
 * topic, removed by an empty retained payload), so the memory it adds is one Map entry per
 * retained topic. Each stored payload is its own copy ({@link ownBytes}).
 */
export function indexedMemoryPersistence(): Persistence {
  const p = memoryPersistence();
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = p.storeRetained.bind(p);
  const combi = p.createRetainedStreamCombi.bind(p);
  const single = p.createRetainedStream.bind(p);
  p.storeRetained = (packet, cb) => {
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else {
      // Kept for as long as the PC's status: never a view into the connection's read.
      packet = { ...packet, payload: ownBytes(packet.payload) };
      byTopic.set(packet.topic, packet);
    }
    return storeRetained(packet, cb);
  };
  p.createRetainedStreamCombi = (patterns) => {
    if (patterns.some(isTopicFilterWildcard)) return combi(patterns);
    const found: RetainedPacket[] = [];
    for (const t of new Set(patterns)) {
      const pkt = byTopic.get(t);
      if (pkt) found.push(pkt);
    }
    return Readable.from(found);
  };
  p.createRetainedStream = (pattern) => (isTopicFilterWildcard(pattern) ? single(pattern) : Readable.from(byTopic.has(pattern) ? [byTopic.get(pattern)!] : []));
  return p;
}
