import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { Ingest, type StoredMessage } from '../../../../collector/ingest/ingest.js';
import { GroupCommit } from '../../../../collector/ingest/group-commit.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { InlineStoreWriter, STORE_WRITER_MAX_QUEUED, type StoreWriter } from '../../../../collector/store/store-writer.js';
import type { WriteOp } from '../../../../collector/store/store-writes.js';
import { decodeAck, type AckMessage } from '../../../../contract/ack.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/**
 * The group commit with a store writer (collector/store/store-writer.ts): the transactions
 * on a second connection to the same SQLite file, answered later (as the worker thread
 * does); acks and listeners only after that answer.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The inline writer, each write held until the test lets it go (a worker busy with a transaction). */
class GatedWriter implements StoreWriter {
  readonly posted: WriteOp[][] = [];
  private readonly gates: Array<() => void> = [];
  fail: Error | undefined;
  constructor(private readonly inner: InlineStoreWriter) {}
  start(): void {
    this.inner.start();
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  checkpoint() {
    return this.inner.checkpoint();
  }
  write(ops: WriteOp[]): Promise<Uint8Array> {
    this.posted.push(ops);
    return new Promise<void>((go) => this.gates.push(go)).then(() => {
      if (this.fail) throw this.fail;
      return this.inner.write(ops);
    });
  }
  /** Writes posted and not let go. */
  get held(): number {
    return this.gates.length;
  }
  /** Let the oldest held write run and wait until its answer was handled. */
  async releaseOne(): Promise<void> {
    this.gates.shift()!();
    await settle();
  }
}

/** Let promises and setImmediate callbacks (the inline writer's answer) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function setup(opts: { maxBatch?: number; maxQueue?: number; maxDelayMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'canh-gc-writer-'));
  dirs.push(dir);
  const file = join(dir, 'canh.db');
  const db: SqliteDatabase = openDatabase(file);
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const store = new SqliteStore(db, file);
  const writer = new GatedWriter(new InlineStoreWriter(file));
  writer.start();
  const stored: StoredMessage[] = [];
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics, onStored: (m) => stored.push(m) });
  const commit = new GroupCommit(
    { ingest, store, clock, log: silentLogger(), metrics, writer },
    { maxBatch: opts.maxBatch ?? 100, maxDelayMs: opts.maxDelayMs ?? 20, maxQueue: opts.maxQueue ?? 1000, maxQueueBytes: 1 << 20 },
  );
  const acks: Array<{ topic: string; ack: AckMessage; rowsAtAck: number }> = [];
  /** Rows in the file, read by the loop's own connection. */
  const rows = () => (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
  commit.setAckPublisher({
    publishAck: (topic, payload) => {
      acks.push({ topic, ack: decodeAck(Buffer.from(payload))!, rowsAtAck: rows() });
      return true;
    },
  });
  const put = (topic: string, payload: Buffer) => expect(commit.submit(topic, payload)).toBeUndefined();
  return { clock, metrics, store, db, ingest, commit, writer, put, acks, stored, rows };
}

function sample(clock: FakeClock, host: string, seq: number, over: Record<string, unknown> = {}) {
  const t = clock.now();
  return Buffer.from(
    JSON.stringify({
      v: 1,
      site: 's1',
      host,
      boot: 'boot0001',
      seq,
      t,
      sent: t,
      interval: 15,
      metrics: { cpu: { usage: 12.5, load1: 0.1, load5: 0.1, load15: 0.1, cores: 2 }, mem: { total: 1000, used: 250, available: 750, swapTotal: 0, swapUsed: 0 } },
      ...over,
    }),
  );
}

describe('GroupCommit with the store writer', () => {
  it('writes on the other connection and acks only after the writer answered; listeners after the acks', async () => {
    const { clock, put, acks, stored, store, writer, rows, metrics } = setup();
    for (let seq = 0; seq < 10; seq++) put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq));
    clock.advance(20);
    // Posted, not written yet: nothing acked, nothing told, the queue still counts them.
    expect(writer.posted).toHaveLength(1);
    expect(writer.posted[0]!.every((w) => w.op === 'sample')).toBe(true);
    expect(acks).toHaveLength(0);
    expect(stored).toHaveLength(0);
    expect(rows()).toBe(0);
    await writer.releaseOne();
    expect(rows()).toBe(10);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.rowsAtAck).toBe(10); // the commit was visible before the ack left
    expect(acks[0]!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[0, 9]] }]);
    expect(stored).toHaveLength(10);
    expect(store.countSamples()).toBe(10); // the loop's count learns what the writer stored
    // The sample as stored reads back whole (metrics JSON built on the loop, written by the writer).
    expect(store.latestSample('s1', 'h1')!.metrics.cpu).toEqual({ usage: 12.5, load1: 0.1, load5: 0.1, load15: 0.1, cores: 2 });
    expect(store.getHost('s1', 'h1')!.lastSeen).toBe(clock.now()); // the host's last-seen written in the same transaction
    expect(metrics.render()).toContain('canh_ingest_accepted_total{kind="samples"} 10');
  });

  it('a re-send is answered as a duplicate by the writer: acked again, not told twice, counted as duplicate', async () => {
    const { clock, put, acks, stored, writer, rows, metrics, store } = setup();
    const topic = topicFor('s1', 'h1', 'samples');
    put(topic, sample(clock, 'h1', 1));
    clock.advance(20);
    await writer.releaseOne();
    put(topic, sample(clock, 'h1', 1)); // the ack was lost: the agent sends it again
    put(topic, sample(clock, 'h1', 2));
    clock.advance(20);
    await writer.releaseOne();
    expect(rows()).toBe(2);
    expect(acks).toHaveLength(2);
    expect(acks[1]!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[1, 2]] }]);
    expect(stored.map((s) => (s.kind === 'samples' ? s.row.seq : -1))).toEqual([1, 2]);
    expect(store.countSamples()).toBe(2);
    const text = metrics.render();
    expect(text).toContain('canh_ingest_accepted_total{kind="samples"} 2');
    expect(text).toContain('canh_ingest_duplicates_total{kind="samples"} 1');
  });

  it('keeps at most two batches unanswered and answers them in order; the loop prepares the next meanwhile', async () => {
    const { clock, put, acks, stored, writer } = setup({ maxBatch: 10 });
    for (let seq = 0; seq < 35; seq++) put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq));
    clock.advance(0);
    expect(writer.held).toBe(STORE_WRITER_MAX_QUEUED); // two posted; the third waits for an answer
    expect(writer.posted.map((p) => p.length)).toEqual([10, 10]);
    await writer.releaseOne();
    clock.advance(0); // its answer made room: the next full batch goes
    expect(writer.posted.map((p) => p.length)).toEqual([10, 10, 10]);
    while (writer.held > 0) {
      await writer.releaseOne();
      clock.advance(20);
    }
    expect(writer.posted.map((p) => p.length)).toEqual([10, 10, 10, 5]);
    expect(stored.map((s) => (s.kind === 'samples' ? s.row.seq : -1))).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(acks.map((a) => a.ack.acks[0]!.ranges)).toEqual([[[0, 9]], [[10, 19]], [[20, 29]], [[30, 34]]]);
  });

  it('counts records posted and not answered against the queue bound (back-pressure while the writer is slow)', async () => {
    const { clock, commit, writer, rows } = setup({ maxBatch: 5, maxQueue: 10, maxDelayMs: 1000 });
    const topic = topicFor('s1', 'h1', 'samples');
    for (let seq = 0; seq < 10; seq++) expect(commit.submit(topic, sample(clock, 'h1', seq))).toBeUndefined();
    clock.advance(0);
    expect(writer.held).toBe(2);
    expect(commit.pending()).toBe(0); // off the queue, but not answered
    const wait = commit.submit(topic, sample(clock, 'h1', 10));
    expect(wait).toBeInstanceOf(Promise); // no room: 10 records held by the writer
    let inside = false;
    void wait!.then(() => (inside = true));
    await settle();
    expect(inside).toBe(false);
    await writer.releaseOne();
    expect(inside).toBe(true);
    await writer.releaseOne();
    clock.advance(1000);
    await writer.releaseOne();
    expect(rows()).toBe(11);
  });

  it('acks nothing when the writer fails, and the re-send is stored once', async () => {
    const { clock, put, acks, stored, writer, rows, metrics } = setup();
    const topic = topicFor('s1', 'h1', 'samples');
    writer.fail = new Error('SQLITE_FULL: database or disk is full');
    put(topic, sample(clock, 'h1', 1));
    clock.advance(20);
    await writer.releaseOne();
    expect(acks).toHaveLength(0);
    expect(stored).toHaveLength(0);
    expect(rows()).toBe(0);
    expect(metrics.render()).toContain('canh_ingest_batch_failures_total 1');
    writer.fail = undefined;
    put(topic, sample(clock, 'h1', 1));
    clock.advance(20);
    await writer.releaseOne();
    expect(acks).toHaveLength(1);
    expect(rows()).toBe(1);
  });

  it('statuses, events and a clock-skew event go through the writer in the message order', async () => {
    const { clock, put, writer, store, stored } = setup();
    const t = clock.now();
    put(
      topicFor('s1', 'h1', 'status'),
      Buffer.from(JSON.stringify({ v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq: 0, t, sent: t, state: 'online', hostname: 'PC 1', agentVersion: '0.1.0' })),
    );
    // Two samples sent by a clock 10 minutes behind: the second confirms it, a clock_skew event is raised.
    put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 1, { t: t - 600_000, sent: t - 600_000 }));
    put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 2, { t: t - 600_000, sent: t - 600_000 }));
    clock.advance(20);
    expect(writer.posted[0]!.map((w) => w.op)).toEqual(['status', 'sample', 'sample', 'skew', 'event']);
    await writer.releaseOne();
    const host = store.getHost('s1', 'h1')!;
    expect(host.state).toBe('online');
    expect(host.hostname).toBe('PC 1');
    expect(host.clockSkewMs).not.toBeNull();
    expect(store.events('s1', 'h1', { from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10 }).map((e) => e.type)).toEqual(['clock_skew']);
    expect(stored.map((s) => s.kind)).toEqual(['status', 'samples', 'samples', 'events']);
  });

  it('stop() waits for the batches posted and writes what is queued, then refuses the rest', async () => {
    const { clock, commit, put, writer, rows, acks } = setup({ maxBatch: 2 });
    for (let seq = 0; seq < 7; seq++) put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq));
    clock.advance(0);
    expect(writer.held).toBe(2);
    let done = false;
    const stopping = commit.stop().then(() => (done = true));
    expect(commit.submit(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 99))).toBeUndefined();
    for (let i = 0; i < 20 && !done; i++) if (writer.held > 0) await writer.releaseOne();
    await stopping;
    expect(rows()).toBe(7);
    expect(acks.flatMap((a) => a.ack.acks[0]!.ranges)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 6],
    ]);
  });
});
