import { z } from 'zod';
import { CONTRACT_VERSION, MAX_BATCH_RECORDS } from './limits.js';
import { TOPIC_PREFIX } from './topics.js';
import { arrayOf, bootId as isBootId, exact, int, obj, optional, shape, str } from './shape-check.js';

/**
 * End-to-end acknowledgement (issue 12).
 *
 * MQTT's PUBACK is hop by hop: a broker that acknowledged a message may still drop it
 * (a subscriber queue over `max_queued_messages`, a restart without persistence). So an
 * agent keeps every outbox record until the **collector** says it stored it. The collector
 * publishes acks on one topic per host, which only that host's credential may read:
 *
 *   canh/v1/<site>/<host>/ack      collector → agent, QoS 0 (a lost ack only causes a re-send)
 *
 * One ack message covers every message of that host committed in one store transaction:
 * per agent boot, the seq numbers as closed ranges. Messages the collector will never
 * store (they failed validation) are acked too, under `rejected`, so one bad record cannot
 * block an agent's window forever; the agent counts and logs them.
 *
 * Status messages are not outbox records (their `seq` is the current counter, not
 * consumed): they are never acked.
 *
 * Batches (several records per MQTT message, contract/decode.ts `decodeMessages`) are
 * negotiated here, both ways compatible: a collector that takes them says so in every ack,
 * `batch: <most records per message>`. An agent sends one record per message until it has
 * seen that field, again after each reconnect until the next ack, and at once when an ack
 * comes without it (an older collector took over): an older collector never receives a
 * batch, and a newer collector still takes single-record messages from older agents. Each
 * record of a batch keeps its own (boot, seq) and is acked, rejected and deduplicated
 * alone, exactly as when it travels alone. Why not a field in the retained config or a
 * topic of its own: the ack is the one message every agent already receives from the very
 * collector that stores its records, on every connection, and a batch travels on the same
 * `samples`/`events` topics, so the brokers' ACLs and the collector's subscriptions stay as
 * they are.
 */
export const ACK_KIND = 'ack' as const;

export function ackTopic(site: string, host: string): string {
  return `${TOPIC_PREFIX}/${site}/${host}/${ACK_KIND}`;
}

/** At most this many ranges per boot in one ack, and boots per ack (bounded decode). */
export const MAX_ACK_RANGES = 1024;
export const MAX_ACK_BOOTS = 16;

const bootId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const seqNo = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const range = z.tuple([seqNo, seqNo]).refine(([a, b]) => a <= b, 'range start after its end');

export const AckMessage = z.object({
  v: z.literal(CONTRACT_VERSION),
  /** Stored (or already stored: duplicates are acked again), per agent boot. */
  acks: z.array(z.object({ boot: bootId, ranges: z.array(range).max(MAX_ACK_RANGES) })).max(MAX_ACK_BOOTS),
  /** Refused for good (bad message): the agent drops them from its outbox and counts them. */
  rejected: z
    .array(z.object({ boot: bootId, seq: seqNo, reason: z.string().max(64) }))
    .max(256)
    .optional(),
  /**
   * Most records per message this collector takes (batches); absent: one record per message.
   * A malformed value reads as absent (never makes the whole ack invalid).
   */
  batch: z.number().int().min(1).max(1_000_000).optional().catch(undefined),
});
export type AckMessage = z.infer<typeof AckMessage>;

/** Builds one ack message from (boot, seq) pairs in any order; merges runs into ranges. */
export class AckBuilder {
  private readonly byBoot = new Map<string, number[]>();
  private readonly rejected: Array<{ boot: string; seq: number; reason: string }> = [];

  add(boot: string, seq: number): void {
    let list = this.byBoot.get(boot);
    if (!list) this.byBoot.set(boot, (list = []));
    list.push(seq);
  }

  reject(boot: string, seq: number, reason: string): void {
    if (this.rejected.length < 256) this.rejected.push({ boot, seq, reason });
  }

  get empty(): boolean {
    return this.byBoot.size === 0 && this.rejected.length === 0;
  }

  /** `batch`: most records per message the collector takes (announced when > 1). */
  build(batch = 1): AckMessage {
    const acks: AckMessage['acks'] = [];
    for (const [boot, seqs] of this.byBoot) {
      if (acks.length >= MAX_ACK_BOOTS) break;
      acks.push({ boot, ranges: toRanges(seqs).slice(0, MAX_ACK_RANGES) });
    }
    const b = Math.min(MAX_BATCH_RECORDS, Math.floor(batch));
    return { v: CONTRACT_VERSION, acks, ...(this.rejected.length ? { rejected: this.rejected } : {}), ...(b > 1 ? { batch: b } : {}) };
  }
}

/** Sorted, merged closed ranges of a list of integers. */
export function toRanges(seqs: number[]): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}

/** Decode an ack payload; undefined when it is not a valid ack (never throws). */
export function decodeAck(payload: Uint8Array): AckMessage | undefined {
  if (payload.byteLength > 256 * 1024) return undefined;
  try {
    const json: unknown = JSON.parse(Buffer.from(payload).toString('utf8'));
    if (isPlainAck(json)) return json;
    const parsed = AckMessage.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A hand-written check of an ack (the agent decodes one per record it sends: zod's parse of
 * it, and the copy it returns, were ~5 % of the agent's main-thread time). True only for a
 * parsed JSON value that {@link AckMessage} accepts and would return unchanged: plain objects
 * with only the schema's keys, every value valid. Anything else (an error, an unknown key
 * zod strips, a malformed `batch` zod turns into undefined) goes through zod as before, so
 * the result is the same; test/unit/contract/ack-fast.test.ts compares both.
 */
export function isPlainAck(x: unknown): x is AckMessage {
  return exact(x, ACK);
}

const isSeqNo = int(0, Number.MAX_SAFE_INTEGER);
const ACK = shape({
  v: (x) => x === CONTRACT_VERSION,
  acks: arrayOf(
    obj(
      shape({
        boot: isBootId,
        ranges: arrayOf((r) => Array.isArray(r) && r.length === 2 && isSeqNo(r[0]) && isSeqNo(r[1]) && (r[0] as number) <= (r[1] as number), MAX_ACK_RANGES),
      }),
    ),
    MAX_ACK_BOOTS,
  ),
  rejected: optional(arrayOf(obj(shape({ boot: isBootId, seq: isSeqNo, reason: str(0, 64) })), 256)),
  batch: optional(int(1, 1_000_000)),
});

/** True when `seq` of `boot` is inside one of the ack's ranges. */
export function ackCovers(ack: AckMessage, boot: string, seq: number): boolean {
  for (const a of ack.acks) {
    if (a.boot !== boot) continue;
    for (const [from, to] of a.ranges) if (seq >= from && seq <= to) return true;
  }
  return false;
}
