import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { Fifo } from '../../common/fifo.js';
import { RateLimitedLog } from '../../common/log.js';
import { AckBuilder, ackTopic } from '../../contract/ack.js';
import { MAX_BATCH_RECORDS } from '../../contract/limits.js';
import { parseTopic } from '../../contract/topics.js';
import type { Counter, Gauge, Histogram, MetricsRegistry } from '../../common/metrics-registry.js';
import type { SaturationSink } from '../health/ingest-saturation.js';
import type { Store } from '../store/store.js';
import type { Ingest, StoredMessage, StoreOutcome } from './ingest.js';

/** Where the collector's end-to-end acks go (the embedded broker, or the external broker's client). */
export interface AckPublisher {
  /** Publish one ack (QoS 0); must not throw. Returns false when it could not be handed over. */
  publishAck(topic: string, payload: string): boolean;
}

export interface GroupCommitOptions {
  /** Most records in one transaction (a message counts its records; one message at least). */
  maxBatch: number;
  /** Longest a message waits for its transaction (ms) once it is queued. */
  maxDelayMs: number;
  /** Bound of the receive queue (records); a full queue pushes back to the broker connection. */
  maxQueue: number;
  /** Bound of the receive queue (payload bytes). */
  maxQueueBytes: number;
  /**
   * Bound of the messages waiting for room in a full queue (payload bytes, each counted as
   * at least {@link MIN_WAITING_WEIGHT}). Each waiting message is a broker connection's read
   * held in memory: with the embedded broker, one per agent that sent while the queue was
   * full, so without a bound their number is that of the agents (10,000 windows of ~32 KB
   * in a province's replay). Past the bound a message is shed: not queued, not stored, not
   * acked end to end; the broker acknowledges its delivery (transport) and the agent sends
   * it again after its ack timeout, as it does when an external broker's queue for the
   * collector drops it. (mqtt.js hands the external broker's messages over one at a time:
   * one waits at most.)
   */
  maxWaitingBytes: number;
  /**
   * Most records per MQTT message announced to the agents in every ack (contract/ack.ts
   * `batch`); 1: no batches announced (agents send one record per message).
   */
  maxRecordsPerMessage: number;
}

export const GROUP_COMMIT_DEFAULTS: GroupCommitOptions = {
  maxBatch: 1000,
  maxDelayMs: 25,
  maxQueue: 20_000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxWaitingBytes: 16 * 1024 * 1024,
  maxRecordsPerMessage: 1,
};

/** What a waiting message counts against `maxWaitingBytes` at least (its promise, closure and packet). */
export const MIN_WAITING_WEIGHT = 1024;

/**
 * {@link GroupCommit.submit}: `undefined` queued now; a promise: wait for room (back-pressure);
 * `'shed'`: not queued (too many waiting already): acknowledge the delivery to the broker
 * (transport only) and drop it; the agent sends it again.
 */
export type Submitted = Promise<void> | undefined | 'shed';

const SEQ_KEY = Buffer.from('"seq":');
const Q = 0x71; // q
const QUOTE = 0x22;
const COLON = 0x3a;
const S = 0x73;
const E = 0x65;
/** Bytes `q` that are not in a `"seq":` key tolerated before counting switches to the plain key search. */
const Q_MISSES = 256;

/**
 * Records in a payload, counted before decoding (queue and transaction bounds): the
 * occurrences of the key `"seq":`, which only an object key can produce in JSON (a quote
 * inside a string is escaped). Exact for an honest agent (one per record); a sender that
 * hides more keys only makes its own message weigh more. At least 1.
 *
 * It looks for the rare byte `q` (memchr speed) and checks the bytes around it: about
 * 35 ns per record against 1.4 µs for a search of the whole key (`"` is everywhere in
 * JSON), measured on the bench's 11-record, 11 KB batches. A payload full of `q` that are
 * not keys falls back to the key search after {@link Q_MISSES} misses, so its cost stays
 * that of the plain search.
 */
export function recordWeight(payload: Uint8Array): number {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let n = 0;
  let misses = 0;
  let i = buf.indexOf(Q);
  for (; i !== -1 && n <= MAX_BATCH_RECORDS; i = buf.indexOf(Q, i + 1)) {
    if (i >= 3 && buf[i + 1] === QUOTE && buf[i + 2] === COLON && buf[i - 1] === E && buf[i - 2] === S && buf[i - 3] === QUOTE) n++;
    else if (++misses > Q_MISSES) break;
  }
  // Too many misses: the rest by the key itself, from the last miss (a key holding that q
  // would have matched, so every key before it is counted).
  if (i !== -1 && n <= MAX_BATCH_RECORDS) {
    for (i = buf.indexOf(SEQ_KEY, i); i !== -1 && n <= MAX_BATCH_RECORDS; i = buf.indexOf(SEQ_KEY, i + SEQ_KEY.length)) n++;
  }
  return Math.max(1, n);
}

export interface GroupCommitDeps {
  ingest: Ingest;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Told when the queue fills and when it has room again (collector/health/ingest-saturation.ts). */
  saturation?: SaturationSink | undefined;
}

interface Queued {
  topic: string;
  payload: Uint8Array;
  context: Record<string, unknown>;
  /** Records it carries ({@link recordWeight}). */
  records: number;
  /** Monotonic time it was received (store latency). */
  at: number;
}

/**
 * Group commit (issue 12): messages from the broker are queued (bounded), stored many per
 * transaction, and only **after the commit** are they acknowledged to their agents (one ack
 * message per host and batch, contract/ack.ts) and handed to the listeners (exports,
 * outages, alerting, the board's live stream).
 *
 * A message may carry several outbox records (a batch, contract/decode.ts): the queue bound
 * and the transaction size count records, not messages, so memory and the time of one
 * transaction stay bounded whatever the agents pack. Every ack announces the most records
 * per message this collector takes (`maxRecordsPerMessage`, contract/ack.ts).
 *
 * Back-pressure: `submit()` resolves when the message is queued. When the queue is full it
 * resolves only once room is made, and the broker connection that delivered it waits:
 * aedes stops reading that client, mqtt.js stops reading the external broker (which then
 * holds or drops, and the agents keep the data in their outboxes until acked). Memory is
 * bounded by `maxQueue`/`maxQueueBytes` whatever the offered load.
 *
 * A failed transaction (disk full, I/O error) acks nothing: the agents send again after
 * their ack timeout. Each transaction is one short synchronous step (≤ `maxBatch`
 * messages); between two, the event loop serves the broker and everything else.
 */
export class GroupCommit {
  /**
   * Received messages, oldest first. A taken message is released at once: a spent slot that
   * kept it (and its payload, a view of the socket read it came in) until a compaction up to
   * 4,096 messages later held 46.2 MB of ArrayBuffers for 2,000 embedded-broker agents that
   * had each sent one 20-record batch; 6.1 MB without.
   */
  private readonly queue = new Fifo<Queued>();
  private queuedBytes = 0;
  /** Records of the queued messages (the queue's bound counts records: memory). */
  private queuedRecords = 0;
  private readonly waiters = new Fifo<{ go: () => void; records: number; weight: number }>();
  /** Bytes (at least MIN_WAITING_WEIGHT each) of the messages in `waiters`. */
  private waitingBytes = 0;
  /** Waiters let in whose message is not queued yet (it is, one microtask later), and their records. */
  private released = 0;
  private releasedRecords = 0;
  private timer: TimerHandle | undefined;
  private immediate = false;
  private ackSink: AckPublisher | undefined;
  private stopped = false;
  private readonly opts: GroupCommitOptions;
  private readonly log: RateLimitedLog;
  private readonly batches: Counter;
  private readonly failures: Counter;
  private readonly pushedBack: Counter;
  private readonly shed: Counter;
  private readonly shedRecords: Counter;
  private readonly acksSent: Counter;
  private readonly acksDropped: Counter;
  private readonly batchSize: Histogram;
  private readonly commitSeconds: Histogram;
  private readonly storeLatency: Histogram;
  private readonly depth: Gauge;

  constructor(
    private readonly deps: GroupCommitDeps,
    opts: Partial<GroupCommitOptions> = {},
  ) {
    this.opts = { ...GROUP_COMMIT_DEFAULTS, ...opts };
    const m = deps.metrics;
    this.log = new RateLimitedLog(deps.log, 10_000, () => deps.clock.now());
    this.batches = m.counter('canh_ingest_batches_total', 'Store transactions of the group commit.');
    this.failures = m.counter('canh_ingest_batch_failures_total', 'Store transactions that failed (nothing acked; agents send again).');
    this.pushedBack = m.counter('canh_ingest_pushback_total', 'Messages that waited for room in the full receive queue (back-pressure to the broker).');
    this.shed = m.counter(
      'canh_ingest_shed_total',
      'Messages shed (not stored, not acked; the agent sends them again) because the full receive queue already had `ingest.waitingBytes` of messages waiting for room.',
    );
    this.shedRecords = m.counter('canh_ingest_shed_records_total', 'Outbox records in the shed messages.');
    m.gauge('canh_ingest_waiting_bytes', 'Payload bytes of the messages waiting for room in the full receive queue (bounded by ingest.waitingBytes).', (g) =>
      g.set(this.waitingBytes),
    );
    this.acksSent = m.counter('canh_ingest_acks_sent_total', 'End-to-end ack messages published to agents.');
    this.acksDropped = m.counter('canh_ingest_acks_unsent_total', 'End-to-end acks that could not be handed to the broker (the agent sends again; the re-send is a duplicate).');
    this.batchSize = m.histogram('canh_ingest_batch_messages', 'Records per store transaction (a message counts its records).', [1, 10, 50, 100, 250, 500, 1000, 2500]);
    this.commitSeconds = m.histogram('canh_ingest_commit_seconds', 'Duration of one store transaction.', [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    this.storeLatency = m.histogram('canh_ingest_store_latency_seconds', 'From receipt at the collector to commit and ack.', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    this.depth = m.gauge('canh_ingest_queue_messages', 'Messages received and not yet committed.', (g) => g.set(this.pending()));
    m.gauge('canh_ingest_queue_records', 'Records (outbox records of the queued messages) received and not yet committed; the queue bound counts these.', (g) =>
      g.set(this.queuedRecords),
    );
    m.gauge('canh_ingest_queue_bytes', 'Payload bytes received and not yet committed.', (g) => g.set(this.queuedBytes));
  }

  /** Where acks go; set once the broker side exists (it needs this object first). */
  setAckPublisher(sink: AckPublisher): void {
    this.ackSink = sink;
  }

  pending(): number {
    return this.queue.length;
  }

  /**
   * Queue one message from the broker. Resolves when it is queued (at once while there is
   * room); the caller acknowledges the broker-level delivery then. After `stop()` the
   * message is dropped unacked (the agent sends it again to the next run).
   */
  submit(topic: string, payload: Uint8Array, context: Record<string, unknown> = {}): Submitted {
    if (this.stopped) return undefined;
    const records = recordWeight(payload);
    if (this.isFull()) {
      this.deps.saturation?.saturated();
      const weight = Math.max(MIN_WAITING_WEIGHT, payload.byteLength);
      // Bounded too: past it the message is shed (the agent keeps it and sends it again).
      // Never a status (a birth, or a Last Will the broker publishes): agents do not send
      // those again, and a lost will turns a power cut into a silence. They are small and
      // one per connection, so they wait whatever the bound.
      if (this.waiters.length > 0 && this.waitingBytes + weight > this.opts.maxWaitingBytes && parseTopic(topic)?.kind !== 'status') {
        this.shed.inc();
        this.shedRecords.inc({}, records);
        this.log.warn(
          'shed',
          { waiting: this.waiters.length, waitingBytes: this.waitingBytes, bytes: payload.byteLength, ...context },
          'receive queue full and too many messages waiting: message shed, the agent will send it again',
        );
        return 'shed';
      }
      this.pushedBack.inc();
      this.waitingBytes += weight;
      return new Promise<void>((go) => this.waiters.push({ go, records, weight })).then(() => {
        this.released--;
        this.releasedRecords -= records;
        this.push(topic, payload, context, records);
      });
    }
    this.push(topic, payload, context, records);
    return undefined;
  }

  private isFull(): boolean {
    return this.queuedRecords >= this.opts.maxQueue || this.queuedBytes >= this.opts.maxQueueBytes;
  }

  private push(topic: string, payload: Uint8Array, context: Record<string, unknown>, records: number): void {
    if (this.stopped) return;
    this.queue.push({ topic, payload, context, records, at: this.deps.clock.monotonic() });
    this.queuedBytes += payload.byteLength;
    this.queuedRecords += records;
    if (this.queuedRecords >= this.opts.maxBatch) this.scheduleNow();
    else if (!this.timer && !this.immediate) this.timer = this.deps.clock.setTimeout(() => this.flushSoon(), this.opts.maxDelayMs);
  }

  private scheduleNow(): void {
    if (this.immediate) return;
    this.immediate = true;
    this.deps.clock.clear(this.timer);
    // A zero timer, not a loop: the broker's I/O runs between two transactions.
    this.timer = this.deps.clock.setTimeout(() => this.flushSoon(), 0);
  }

  private flushSoon(): void {
    this.immediate = false;
    this.timer = undefined;
    this.flushOne();
    // More waiting: the next transaction after the event loop served I/O once.
    if (this.pending() > 0) {
      if (this.queuedRecords >= this.opts.maxBatch || this.stopped) this.scheduleNow();
      else this.timer = this.deps.clock.setTimeout(() => this.flushSoon(), this.opts.maxDelayMs);
    }
  }

  /** Store, commit, ack and tell the listeners for up to `maxBatch` queued records (one message at least). */
  flushOne(): number {
    const pending = this.pending();
    if (pending === 0) return 0;
    const batch: Queued[] = [];
    let records = 0;
    while (batch.length < pending && (batch.length === 0 || records + this.queue.peek()!.records <= this.opts.maxBatch)) {
      const q = this.queue.shift()!;
      batch.push(q);
      records += q.records;
      this.queuedBytes -= q.payload.byteLength;
    }
    const n = batch.length;
    this.queuedRecords -= records;
    this.release();
    const { ingest, store, clock } = this.deps;
    const t0 = clock.monotonic();
    let outcomes: StoreOutcome[];
    try {
      outcomes = store.transaction(() => batch.flatMap((q) => ingest.storeAll(q.topic, q.payload, q.context)));
    } catch (err) {
      ingest.rolledBack();
      this.failures.inc();
      this.log.warn('commit', { err: (err as Error).message, messages: n, records }, 'store transaction failed; nothing acked, agents will send again');
      return 0;
    }
    const t1 = clock.monotonic();
    this.batches.inc();
    this.batchSize.observe(outcomes.length);
    this.commitSeconds.observe((t1 - t0) / 1000);
    for (const q of batch) this.storeLatency.observe((t1 - q.at) / 1000);
    this.sendAcks(outcomes);
    for (const o of outcomes) {
      if (o.stored) ingest.emitStored(o.stored as StoredMessage);
      if (o.raised) ingest.emitStored(o.raised);
    }
    return n;
  }

  private sendAcks(outcomes: StoreOutcome[]): void {
    const byHost = new Map<string, { site: string; host: string; b: AckBuilder }>();
    for (const o of outcomes) {
      const k = o.ack;
      if (!k) continue;
      const key = `${k.site}/${k.host}`;
      let e = byHost.get(key);
      if (!e) byHost.set(key, (e = { site: k.site, host: k.host, b: new AckBuilder() }));
      if (o.status === 'rejected') e.b.reject(k.boot, k.seq, o.reason);
      else e.b.add(k.boot, k.seq);
    }
    const sink = this.ackSink;
    for (const { site, host, b } of byHost.values()) {
      if (b.empty) continue;
      if (sink?.publishAck(ackTopic(site, host), JSON.stringify(b.build(this.opts.maxRecordsPerMessage)))) this.acksSent.inc();
      else this.acksDropped.inc();
    }
  }

  /** Let as many waiting submitters in as there is room for (they queue in arrival order). */
  private release(): void {
    let room = this.opts.maxQueue - this.queuedRecords - this.releasedRecords;
    if (this.queuedBytes >= this.opts.maxQueueBytes) room = 0;
    // In arrival order; a message heavier than the room waits until the queue has it all.
    while (this.waiters.length && (room >= this.waiters.peek()!.records || this.queuedRecords + this.releasedRecords === 0)) {
      const w = this.waiters.shift()!;
      this.waitingBytes -= w.weight;
      room -= w.records;
      this.released++;
      this.releasedRecords += w.records;
      w.go();
    }
    if (this.waiters.length === 0 && this.released === 0 && this.queuedRecords < this.opts.maxQueue / 2 && this.queuedBytes < this.opts.maxQueueBytes / 2)
      this.deps.saturation?.relieved();
  }

  /** Commit what is queued (bounded by the queue) and refuse further messages. */
  stop(): void {
    this.stopped = true;
    this.deps.clock.clear(this.timer);
    this.timer = undefined;
    while (this.pending() > 0) if (this.flushOne() === 0) break;
    this.queue.clear();
    this.queuedBytes = 0;
    this.queuedRecords = 0;
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) w.go();
    this.waitingBytes = 0;
    this.depth.set(0);
  }
}
