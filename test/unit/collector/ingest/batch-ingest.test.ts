/**
 * Batches, collector side: every record of a batch message is validated, deduplicated,
 * stored and acked (or rejected) alone inside the same group commit; a malformed envelope
 * is one counted rejection that costs nothing else; the queue bound and the transaction
 * size count records, not messages; every ack announces the collector's bound.
 * Real SQLite (in memory), a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { GroupCommit } from '../../../../collector/ingest/group-commit.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { decodeAck, type AckMessage } from '../../../../contract/ack.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const TOPIC = topicFor('s1', 'h1', 'samples');

function setup(opts: { maxBatch?: number; maxQueue?: number; maxDelayMs?: number; maxRecordsPerMessage?: number } = {}) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const db = openDatabase(':memory:');
  const store = new SqliteStore(db, ':memory:');
  const warnings: unknown[] = [];
  const log = silentLogger();
  const logSpy = Object.assign(Object.create(log) as typeof log, { warn: (...a: unknown[]) => warnings.push(a) });
  const ingest = new Ingest({ store, clock, log: logSpy, metrics });
  const commit = new GroupCommit(
    { ingest, store, clock, log: silentLogger(), metrics },
    {
      maxBatch: opts.maxBatch ?? 1000,
      maxDelayMs: opts.maxDelayMs ?? 20,
      maxQueue: opts.maxQueue ?? 10_000,
      maxQueueBytes: 1 << 24,
      maxRecordsPerMessage: opts.maxRecordsPerMessage ?? 64,
    },
  );
  const acks: AckMessage[] = [];
  commit.setAckPublisher({ publishAck: (_t, p) => (acks.push(decodeAck(Buffer.from(p))!), true) });
  const seqsStored = () => (db.prepare("SELECT seq FROM samples WHERE host = 'h1' ORDER BY seq").all() as Array<{ seq: number }>).map((r) => r.seq);
  /** Submit while there is room: queued at once, no back-pressure promise. */
  const put = (payload: Buffer) => expect(commit.submit(TOPIC, payload)).toBeUndefined();
  return { clock, metrics, store, ingest, commit, acks, seqsStored, warnings, put };
}

function record(clock: FakeClock, seq: number, over: Record<string, unknown> = {}) {
  const t = clock.now();
  return {
    v: 1,
    site: 's1',
    host: 'h1',
    boot: 'boot0001',
    seq,
    t,
    sent: t,
    interval: 15,
    metrics: { cpu: { usage: 12.5, load1: 0.1, load5: 0.1, load15: 0.1, cores: 2 } },
    ...over,
  };
}
const batch = (records: unknown[]) => Buffer.from(JSON.stringify({ v: 1, records }));
const seqs = (clock: FakeClock, from: number, n: number) => Array.from({ length: n }, (_, i) => record(clock, from + i));
const value = (metrics: MetricsRegistry, line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics.render())?.[1] ?? NaN);

describe('GroupCommit: batch messages', () => {
  it('stores the good records of a batch, rejects the bad one alone and acks it as rejected; the ack announces the bound', () => {
    const { clock, commit, acks, seqsStored, metrics } = setup();
    expect(commit.submit(TOPIC, batch([record(clock, 1), record(clock, 2, { interval: -5 }), record(clock, 3), record(clock, 4)]))).toBeUndefined();
    clock.advance(20);
    expect(seqsStored()).toEqual([1, 3, 4]);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.acks).toEqual([
      {
        boot: 'boot0001',
        ranges: [
          [1, 1],
          [3, 4],
        ],
      },
    ]);
    expect(acks[0]!.rejected).toEqual([{ boot: 'boot0001', seq: 2, reason: 'schema' }]);
    expect(acks[0]!.batch).toBe(64);
    expect(value(metrics, 'canh_ingest_accepted_total{kind="samples"}')).toBe(3);
    expect(value(metrics, 'canh_ingest_rejected_total{reason="schema"}')).toBe(1);
    expect(value(metrics, 'canh_ingest_batch_messages_total')).toBe(1);
    expect(value(metrics, 'canh_ingest_batch_records_total')).toBe(4);
  });

  it('stores a record once when it comes twice in one batch, and again in a later batch or alone (acked every time)', () => {
    const { clock, acks, seqsStored, metrics, put } = setup();
    put(batch([record(clock, 1), record(clock, 2), record(clock, 2)]));
    put(batch([record(clock, 2), record(clock, 3)])); // the same commit
    clock.advance(20);
    put(batch(seqs(clock, 1, 4))); // a re-send after a lost ack
    put(Buffer.from(JSON.stringify(record(clock, 4)))); // and alone
    clock.advance(20);
    expect(seqsStored()).toEqual([1, 2, 3, 4]);
    expect(value(metrics, 'canh_ingest_accepted_total{kind="samples"}')).toBe(4);
    expect(value(metrics, 'canh_ingest_duplicates_total{kind="samples"}')).toBe(6); // 2; 2; 1, 2, 3; 4
    expect(acks.map((a) => a.acks[0]!.ranges)).toEqual([[[1, 3]], [[1, 4]]]);
  });

  it('refuses a malformed envelope as bad_batch (counted, the log rate-limited) and stores the rest of the commit', () => {
    const { clock, seqsStored, metrics, warnings, acks, put } = setup();
    for (let i = 0; i < 50; i++) put(Buffer.from(JSON.stringify({ v: 1, records: 'x' })));
    put(Buffer.from(JSON.stringify({ v: 1, records: [] })));
    put(batch(seqs(clock, 10, 3)));
    clock.advance(20);
    expect(seqsStored()).toEqual([10, 11, 12]);
    expect(value(metrics, 'canh_ingest_rejected_total{reason="bad_batch"}')).toBe(51);
    expect(warnings.length).toBeLessThanOrEqual(2);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.rejected).toBeUndefined();
  });

  it('bounds the receive queue in records: a second heavy batch waits (pushback)', async () => {
    const { clock, commit, seqsStored, metrics } = setup({ maxQueue: 100, maxBatch: 100, maxDelayMs: 1000 });
    expect(commit.submit(TOPIC, batch(seqs(clock, 0, 60)))).toBeUndefined();
    expect(commit.submit(TOPIC, batch(seqs(clock, 60, 60)))).toBeUndefined(); // 60 < 100: room
    const waiting = commit.submit(TOPIC, batch(seqs(clock, 120, 60))); // 120 ≥ 100: full
    expect(waiting).toBeInstanceOf(Promise);
    expect(value(metrics, 'canh_ingest_queue_records')).toBe(120);
    expect(value(metrics, 'canh_ingest_pushback_total')).toBe(1);
    clock.advance(0); // 120 queued ≥ maxBatch: one transaction at once, of ≤ 100 records: the first batch only
    expect(seqsStored()).toHaveLength(60);
    let letIn = false;
    void (waiting as Promise<void>).then(() => (letIn = true));
    await Promise.resolve();
    expect(letIn).toBe(false); // 60 queued + 60 > 100: it waits for the room it needs
    clock.advance(1000);
    await waiting;
    expect(seqsStored()).toHaveLength(120);
    clock.advance(1000);
    expect(seqsStored()).toHaveLength(180);
    expect(value(metrics, 'canh_ingest_queue_records')).toBe(0);
  });

  it('bounds a transaction in records: batches of 60 with maxBatch 100 commit one per transaction', () => {
    const { clock, seqsStored, metrics, put } = setup({ maxBatch: 100 });
    for (let i = 0; i < 3; i++) put(batch(seqs(clock, i * 60, 60)));
    clock.advance(0);
    clock.advance(0);
    clock.advance(20);
    expect(seqsStored()).toHaveLength(180);
    expect(value(metrics, 'canh_ingest_batches_total')).toBe(3);
    expect(value(metrics, 'canh_ingest_batch_messages_bucket{le="50"}')).toBe(0);
    expect(value(metrics, 'canh_ingest_batch_messages_bucket{le="100"}')).toBe(3);
  });

  it('announces no batches when maxRecordsPerMessage is 1, yet still takes a batch from an agent', () => {
    const { clock, acks, seqsStored, put } = setup({ maxRecordsPerMessage: 1 });
    put(batch(seqs(clock, 0, 3)));
    clock.advance(20);
    expect(seqsStored()).toEqual([0, 1, 2]);
    expect(acks[0]!.batch).toBeUndefined();
  });
});
