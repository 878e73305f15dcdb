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
 * retained topic.
 */
export function indexedMemoryPersistence(): Persistence {
  const p = memoryPersistence();
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = p.storeRetained.bind(p);
  const combi = p.createRetainedStreamCombi.bind(p);
  const single = p.createRetainedStream.bind(p);
  p.storeRetained = (packet, cb) => {
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
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
