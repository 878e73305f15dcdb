import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { Ingest, type StoredMessage } from '../../../../collector/ingest/ingest.js';
import { GroupCommit, MIN_WAITING_WEIGHT, type Submitted } from '../../../../collector/ingest/group-commit.js';
import { IngestSaturation } from '../../../../collector/health/ingest-saturation.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { decodeAck, type AckMessage } from '../../../../contract/ack.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

function setup(opts: { maxBatch?: number; maxQueue?: number; maxDelayMs?: number; maxWaitingBytes?: number } = {}) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const saturation = new IngestSaturation({ clock, log: silentLogger(), metrics });
  const store = new SqliteStore(openDatabase(':memory:'), ':memory:');
  const stored: StoredMessage[] = [];
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics, onStored: (m) => stored.push(m) });
  const commit = new GroupCommit(
    { ingest, store, clock, log: silentLogger(), metrics, saturation },
    {
      maxBatch: opts.maxBatch ?? 100,
      maxDelayMs: opts.maxDelayMs ?? 20,
      maxQueue: opts.maxQueue ?? 1000,
      maxQueueBytes: 1 << 20,
      ...(opts.maxWaitingBytes ? { maxWaitingBytes: opts.maxWaitingBytes } : {}),
    },
  );
  const acks: Array<{ topic: string; ack: AckMessage }> = [];
  let storedAtAck = -1;
  commit.setAckPublisher({
    publishAck: (topic, payload) => {
      storedAtAck = store.countSamples();
      acks.push({ topic, ack: decodeAck(Buffer.from(payload))! });
      return true;
    },
  });
  /** Submit while there is room: queued at once, no back-pressure promise. */
  const put = (topic: string, payload: Buffer) => expect(commit.submit(topic, payload)).toBeUndefined();
  return { clock, metrics, store, ingest, commit, put, acks, stored, saturation, storedAtAck: () => storedAtAck };
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
      metrics: { cpu: { usage: 12.5, load1: 0.1, load5: 0.1, load15: 0.1, cores: 2 } },
      ...over,
    }),
  );
}

describe('GroupCommit', () => {
  it('stores a batch in one transaction, then acks each host once with merged ranges, then tells listeners', () => {
    const { clock, put, acks, store, stored, metrics, storedAtAck } = setup();
    for (let seq = 0; seq < 10; seq++) put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq));
    for (const seq of [3, 5, 4]) put(topicFor('s1', 'h2', 'samples'), sample(clock, 'h2', seq));
    expect(store.countSamples()).toBe(0); // nothing before the batch delay
    expect(acks).toHaveLength(0);
    clock.advance(20);
    expect(store.countSamples()).toBe(13);
    expect(storedAtAck()).toBe(13); // acked only after everything was committed
    expect(acks.map((a) => a.topic).sort()).toEqual(['canh/v1/s1/h1/ack', 'canh/v1/s1/h2/ack']);
    expect(acks.find((a) => a.topic.includes('/h1/'))!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[0, 9]] }]);
    expect(acks.find((a) => a.topic.includes('/h2/'))!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[3, 5]] }]);
    expect(stored).toHaveLength(13);
    expect(metrics.render()).toContain('canh_ingest_batches_total 1');
  });

  it('acks duplicates again, never status messages, and rejected records as rejected', () => {
    const { clock, put, acks, stored } = setup();
    const topic = topicFor('s1', 'h1', 'samples');
    put(topic, sample(clock, 'h1', 1));
    clock.advance(20);
    put(topic, sample(clock, 'h1', 1)); // a re-send after a lost ack
    put(topic, sample(clock, 'h1', 2, { interval: -5 })); // schema: never storable
    put(topic, sample(clock, 'h1', 3, { v: 9 })); // newer contract: kept by the agent
    const t = clock.now();
    put(
      topicFor('s1', 'h1', 'status'),
      Buffer.from(JSON.stringify({ v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq: 4, t, sent: t, state: 'online', hostname: 'PC 1', agentVersion: '0.1.0' })),
    );
    clock.advance(20);
    expect(acks).toHaveLength(2);
    expect(acks[1]!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[1, 1]] }]);
    expect(acks[1]!.ack.rejected).toEqual([{ boot: 'boot0001', seq: 2, reason: 'schema' }]);
    expect(stored.map((s) => s.kind)).toEqual(['samples', 'status']); // the duplicate is not told twice
  });

  it('flushes at once when a batch is full, in several transactions of at most maxBatch', () => {
    const { clock, put, store, metrics } = setup({ maxBatch: 10 });
    for (let seq = 0; seq < 25; seq++) put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq));
    expect(store.countSamples()).toBe(0);
    clock.advance(0); // the two full batches, each its own zero timer (I/O runs between them)
    expect(store.countSamples()).toBe(20);
    clock.advance(20); // the rest after the batch delay
    expect(store.countSamples()).toBe(25);
    expect(metrics.render()).toContain('canh_ingest_batches_total 3');
    expect(metrics.render()).toContain('canh_ingest_batch_messages_bucket{le="10"} 3');
  });

  it('pushes back when the queue is full and lets the waiting messages in as room is made', async () => {
    const { clock, commit, store, metrics } = setup({ maxBatch: 5, maxQueue: 5, maxDelayMs: 1000 });
    const waits: Submitted[] = [];
    for (let seq = 0; seq < 8; seq++) waits.push(commit.submit(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq)));
    expect(waits.slice(0, 5).every((w) => w === undefined)).toBe(true);
    expect(waits.slice(5).every((w) => w instanceof Promise)).toBe(true);
    expect(commit.pending()).toBe(5); // bounded: the other three wait outside
    clock.advance(0); // the full batch commits, room for the waiting ones
    await Promise.all(waits.filter((w): w is Promise<void> => w instanceof Promise));
    expect(store.countSamples()).toBe(5);
    expect(commit.pending()).toBe(3);
    clock.advance(1000);
    expect(store.countSamples()).toBe(8);
    expect(metrics.render()).toContain('canh_ingest_pushback_total 3');
  });

  it('bounds the messages waiting for room: past maxWaitingBytes a message is shed (not stored, not acked), counted, and its re-send is stored once', async () => {
    const { clock, commit, store, metrics, acks } = setup({ maxBatch: 4, maxQueue: 4, maxDelayMs: 1000, maxWaitingBytes: 3 * MIN_WAITING_WEIGHT });
    const topic = topicFor('s1', 'h1', 'samples');
    const gauge = () => Number(/^canh_ingest_waiting_bytes (\d+)$/m.exec(metrics.render())![1]);
    const results: Submitted[] = [];
    for (let seq = 0; seq < 9; seq++) results.push(commit.submit(topic, sample(clock, 'h1', seq)));
    // 4 queued, 3 waiting (each < 1 KiB, counted as MIN_WAITING_WEIGHT), the last 2 shed.
    expect(results.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(results.slice(4, 7).every((r) => r instanceof Promise)).toBe(true);
    expect(results.slice(7)).toEqual(['shed', 'shed']);
    expect(gauge()).toBe(3 * MIN_WAITING_WEIGHT);
    expect(metrics.render()).toContain('canh_ingest_shed_total 2');
    expect(metrics.render()).toContain('canh_ingest_shed_records_total 2');
    expect(metrics.render()).toContain('canh_ingest_pushback_total 3');
    clock.advance(0); // the full batch commits; the three waiting are let in
    await Promise.all(results.filter((r): r is Promise<void> => r instanceof Promise));
    expect(gauge()).toBe(0);
    clock.advance(1000);
    expect(store.countSamples()).toBe(7);
    const acked = acks.flatMap((a) => a.ack.acks.flatMap((x) => x.ranges));
    expect(acked).toEqual([
      [0, 3],
      [4, 6],
    ]); // 7 and 8: neither stored nor acked
    // The agent sends them again (no ack came): stored once each.
    expect(commit.submit(topic, sample(clock, 'h1', 7))).toBeUndefined();
    expect(commit.submit(topic, sample(clock, 'h1', 8))).toBeUndefined();
    clock.advance(1000);
    expect(store.countSamples()).toBe(9);
    expect(acks.at(-1)!.ack.acks).toEqual([{ boot: 'boot0001', ranges: [[7, 8]] }]);
  });

  it('never sheds a status (a birth or a Last Will: agents do not send them again); it waits past the bound and is stored', async () => {
    const { clock, commit, store, metrics } = setup({ maxBatch: 2, maxQueue: 2, maxDelayMs: 1000, maxWaitingBytes: MIN_WAITING_WEIGHT });
    const topic = topicFor('s1', 'h1', 'samples');
    expect(commit.submit(topic, sample(clock, 'h1', 0))).toBeUndefined();
    expect(commit.submit(topic, sample(clock, 'h1', 1))).toBeUndefined();
    const first = commit.submit(topic, sample(clock, 'h1', 2)); // the bound's worth waits
    expect(first).toBeInstanceOf(Promise);
    expect(commit.submit(topic, sample(clock, 'h1', 3))).toBe('shed'); // a record: shed
    const t = clock.now();
    const will = Buffer.from(JSON.stringify({ v: 1, site: 's1', host: 'h2', boot: 'boot0002', seq: 0, t, sent: t, state: 'offline', hostname: 'PC 2', agentVersion: '0.1.0' }));
    const status = commit.submit(topicFor('s1', 'h2', 'status'), will); // a will: waits
    expect(status).toBeInstanceOf(Promise);
    expect(metrics.render()).toContain('canh_ingest_shed_total 1');
    clock.advance(0);
    await Promise.all([first, status]);
    clock.advance(1000);
    expect(store.countSamples()).toBe(3);
    expect(store.getHost('s1', 'h2')?.state).toBe('offline');
  });

  it('lets one message wait whatever its size (it could never be stored otherwise), and counts large ones by their bytes', async () => {
    const { clock, commit, store, metrics } = setup({ maxBatch: 1, maxQueue: 1, maxDelayMs: 1000, maxWaitingBytes: 2 * MIN_WAITING_WEIGHT });
    const topic = topicFor('s1', 'h1', 'samples');
    const big = (seq: number) => sample(clock, 'h1', seq, { metrics: { cpu: { usage: 1, load1: 0, load5: 0, load15: 0, cores: 2 }, pad: 'x'.repeat(3 * MIN_WAITING_WEIGHT) } });
    expect(commit.submit(topic, big(0))).toBeUndefined();
    const waiting = commit.submit(topic, big(1)); // over the bound alone: still waits
    expect(waiting).toBeInstanceOf(Promise);
    expect(commit.submit(topic, sample(clock, 'h1', 2))).toBe('shed'); // nothing more beside it
    expect(Number(/^canh_ingest_waiting_bytes (\d+)$/m.exec(metrics.render())![1])).toBeGreaterThan(3 * MIN_WAITING_WEIGHT);
    clock.advance(0);
    await waiting;
    clock.advance(0);
    expect(store.countSamples()).toBe(2);
  });

  it('tells the saturation watch when the queue fills and when it is below half again', async () => {
    const { clock, commit, saturation, metrics, store } = setup({ maxBatch: 4, maxQueue: 8, maxDelayMs: 1000 });
    const waits: Submitted[] = [];
    const submit = (seq: number) => waits.push(commit.submit(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', seq)));
    for (let seq = 0; seq < 7; seq++) submit(seq);
    expect(saturation.saturatedNow()).toBe(false); // 7 of 8: room left
    const start = clock.now();
    for (let seq = 7; seq < 10; seq++) submit(seq);
    expect(saturation.saturatedNow()).toBe(true); // 8 queued, 2 waiting
    clock.advance(100);
    // The batches run; the two let in are queued a microtask later: not relieved before that.
    await Promise.all(waits.filter((w): w is Promise<void> => w instanceof Promise));
    expect(store.countSamples() + commit.pending()).toBe(10);
    clock.advance(1000);
    expect(store.countSamples()).toBe(10);
    expect(commit.pending()).toBe(0);
    expect(saturation.saturatedNow()).toBe(false);
    const ms = saturation.saturatedMs(start - 1, clock.now());
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThanOrEqual(1100);
    expect(metrics.render()).toContain('canh_ingest_saturations_total 1');
    expect(metrics.render()).toMatch(/canh_ingest_saturated_seconds_total (0\.1|1\.1)\b/);
  });

  it('acks nothing when the transaction fails, so the agents send again', () => {
    const { clock, put, acks, store, metrics } = setup();
    const broken = store as unknown as { transaction: <T>(fn: () => T) => T };
    const real = broken.transaction.bind(store);
    broken.transaction = () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 1));
    clock.advance(20);
    expect(acks).toHaveLength(0);
    expect(metrics.render()).toContain('canh_ingest_batch_failures_total 1');
    broken.transaction = real;
    put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 1));
    clock.advance(20);
    expect(acks).toHaveLength(1);
    expect(store.countSamples()).toBe(1);
  });

  it('stop() commits what is queued and refuses the rest', () => {
    const { clock, commit, put, store } = setup();
    put(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 1));
    commit.stop();
    expect(store.countSamples()).toBe(1);
    expect(commit.submit(topicFor('s1', 'h1', 'samples'), sample(clock, 'h1', 2))).toBeUndefined();
    clock.advance(100);
    expect(store.countSamples()).toBe(1);
  });

  it('keeps no committed message: its payload (a view of a socket read) is free to go', async () => {
    // A real collection, not a count of slots: the V8 flag and a fresh context give `gc`.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { clock, commit, store } = setup({ maxBatch: 50 });
    const refs: Array<WeakRef<Buffer>> = [];
    // 300 messages (fewer than the 4,096 spent slots after which the queue compacts), in
    // several transactions, each payload a slice of a larger read as a broker hands them over.
    // (Built in a function of its own, so no variable of this test keeps the last one.)
    const feed = (seq: number) => {
      const read = Buffer.concat([Buffer.alloc(64), sample(clock, `h${seq % 7}`, seq)]);
      const payload = read.subarray(64);
      refs.push(new WeakRef(payload));
      return commit.submit(topicFor('s1', `h${seq % 7}`, 'samples'), payload);
    };
    for (let seq = 0; seq < 300; seq++) {
      expect(feed(seq)).toBeUndefined();
      if (seq % 40 === 39) clock.advance(20);
    }
    clock.advance(20);
    expect(store.countSamples()).toBe(300);
    expect(commit.pending()).toBe(0);
    // Let pending promise jobs and the listeners' closures go before collecting.
    await new Promise((r) => setImmediate(r));
    gc();
    gc();
    expect(refs.flatMap((r, i) => (r.deref() === undefined ? [] : [i]))).toEqual([]);
  });
});
