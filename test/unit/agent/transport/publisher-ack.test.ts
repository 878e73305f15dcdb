/**
 * Issue 12, agent side: a record leaves the outbox only when the collector's end-to-end ack
 * covers it, never on the broker's PUBACK; unacknowledged records are re-sent (fresh `sent`)
 * with a backed-off timeout; at most `mqtt.inflight` are unacknowledged at once.
 * A fake MQTT client (PUBACK at once) and a fake clock; a real outbox in a temp dir.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../../agent/config.js';
import { Outbox } from '../../../../agent/transport/outbox.js';
import { Publisher } from '../../../../agent/transport/publisher.js';
import { recordKey } from '../../../../agent/transport/record-envelope.js';
import { silentLogger } from '../../../../common/log.js';
import { ackTopic } from '../../../../contract/ack.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const SITE = 's1';
const HOST = 'h1';
const BOOT = 'boot-aaaaaaaa';
const DATA = `canh/v1/${SITE}/${HOST}/samples`;
const ACK = ackTopic(SITE, HOST);

/** The agent's envelope first, as agent.ts writes it. */
const body = (seq: number, boot = BOOT) => JSON.stringify({ v: 1, site: SITE, host: HOST, boot, seq, t: 1, interval: 15, metrics: {} });

interface Sent {
  topic: string;
  boot: string;
  seq: number;
  sent: number;
}

/** An mqtt.js stand-in: PUBACKs every publish at once, grants subscriptions, and lets the test play the collector. */
class FakeMqtt extends EventEmitter {
  options: Record<string, unknown> = {};
  sent: Sent[] = [];
  statuses: string[] = [];
  subscriptions: Array<{ topic: string; qos: number }> = [];
  /** mqtt.js' own store of unacknowledged packets (what it would replay after a reconnect). */
  outgoing: Record<number, { cmd: string }> = {};
  removed: number[] = [];
  refuseSubscribe = false;
  constructor(readonly clock: FakeClock) {
    super();
  }
  publish(topic: string, payload: string, _opts: unknown, cb?: (err?: Error) => void) {
    if (topic.endsWith('/status')) this.statuses.push(payload);
    else {
      const m = JSON.parse(payload) as { boot: string; seq: number; sent: number };
      this.sent.push({ topic, boot: m.boot, seq: m.seq, sent: m.sent });
    }
    cb?.(); // PUBACK
    return this;
  }
  subscribe(topic: string, opts: { qos: number }, cb: (err: Error | null, granted?: Array<{ topic: string; qos: number }>) => void) {
    this.subscriptions.push({ topic, qos: opts.qos });
    cb(null, [{ topic, qos: this.refuseSubscribe ? 128 : opts.qos }]);
    return this;
  }
  removeOutgoingMessage(id: number) {
    this.removed.push(id);
    delete this.outgoing[id];
    return this;
  }
  end(_force?: boolean, _opts?: unknown, cb?: () => void) {
    (cb ?? (typeof _opts === 'function' ? (_opts as () => void) : undefined))?.();
    return this;
  }
  goOnline() {
    this.emit('connect', { sessionPresent: false });
  }
  goOffline() {
    this.emit('close');
  }
  /** The collector's ack for these seqs of BOOT (one range per seq, fine for the contract). */
  ackSeqs(seqs: number[], boot = BOOT, rejected?: Array<{ boot: string; seq: number; reason: string }>) {
    this.raw(JSON.stringify({ v: 1, acks: seqs.length ? [{ boot, ranges: seqs.map((s) => [s, s]) }] : [], ...(rejected ? { rejected } : {}) }));
  }
  raw(payload: string, topic = ACK) {
    this.emit('message', topic, Buffer.from(payload), {});
  }
  seqs(): number[] {
    return this.sent.map((s) => s.seq);
  }
}

let outbox: Outbox | undefined;
afterEach(async () => {
  await outbox?.close();
  outbox = undefined;
});

async function setup(mqtt: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const config = AgentConfigSchema.parse({ site: SITE, host: HOST, mqtt: { password: 'p', replayPerSecond: 1000, inflight: 8, ...mqtt } });
  const dir = mkdtempSync(join(tmpdir(), 'canh-pub-ack-'));
  const ob = new Outbox({ dir, maxBytes: 8 * 1024 * 1024, segmentBytes: 1024 * 1024, fsync: 'never', fsyncIntervalMs: 1000, clock, log: silentLogger() });
  outbox = ob;
  await ob.open();
  const client = new FakeMqtt(clock);
  let options: IClientOptions | undefined;
  const pub = new Publisher({
    config,
    outbox: ob,
    clock,
    log: silentLogger(),
    status: (state) => ({ topic: `canh/v1/${SITE}/${HOST}/status`, payload: JSON.stringify({ state }) }),
    connect: (_url, opts) => {
      options = opts;
      return client as unknown as MqttClient;
    },
  });
  /** Advance fake time in steps, letting the outbox's real disk I/O finish between them. */
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 2));
  };
  const enqueue = async (seq: number, boot = BOOT) => {
    await pub.enqueue(DATA, body(seq, boot));
    await run(1, 1);
  };
  return { clock, config, outbox: ob, dir, client, pub, run, enqueue, options: () => options! };
}

describe('Publisher: end-to-end ack (issue 12)', () => {
  it('reads (boot, seq) from the envelope prefix, or by parsing', () => {
    expect(recordKey(body(42))).toEqual({ boot: BOOT, seq: 42 });
    expect(recordKey(JSON.stringify({ seq: 7, v: 1, boot: 'boot-bbbbbbbb' }))).toEqual({ boot: 'boot-bbbbbbbb', seq: 7 });
    expect(recordKey('{"v":1}')).toBeUndefined();
    expect(recordKey('not json')).toBeUndefined();
  });

  it('subscribes to its own ack topic (QoS 0) on every connect, itself', async () => {
    const { client, pub, run, options } = await setup();
    pub.start();
    expect(options().resubscribe).toBe(false);
    client.goOnline();
    client.goOffline();
    client.goOnline();
    await run(10);
    expect(client.subscriptions).toEqual([
      { topic: ACK, qos: 0 },
      { topic: ACK, qos: 0 },
    ]);
    expect(pub.stats().ackSubscribed).toBe(true);
  });

  it('a PUBACK alone does not ack: the records stay in the outbox', async () => {
    const { client, pub, outbox, enqueue, run } = await setup();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await enqueue(i);
    await run(100);
    expect(client.seqs()).toEqual([0, 1, 2]);
    expect(outbox.stats().records).toBe(3);
    expect(pub.stats()).toMatchObject({ published: 3, acked: 0, unacked: 3 });
  });

  it('a collector ack removes exactly the records it covers', async () => {
    const { client, pub, outbox, enqueue, run } = await setup();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 5; i++) await enqueue(i);
    client.raw(
      JSON.stringify({
        v: 1,
        acks: [
          {
            boot: BOOT,
            ranges: [
              [0, 1],
              [3, 3],
            ],
          },
        ],
      }),
    );
    await run(10);
    expect(outbox.stats().records).toBe(2);
    expect(pub.stats()).toMatchObject({ acked: 3, collectorAcked: 1, unacked: 2 });
    // Only the uncovered ones are re-sent at the timeout: the oldest first, alone (the
    // timeout cuts the congestion window to one record), the next when it is acked.
    await run(30_000, 1000);
    expect(client.seqs().slice(5)).toEqual([2]);
    client.ackSeqs([2]);
    await run(10);
    expect(client.seqs().slice(5)).toEqual([2, 4]);
  });

  it('re-sends an unacked record after the ack timeout, with a fresh sent stamp', async () => {
    const { client, pub, enqueue, run, clock } = await setup({ ackTimeoutSeconds: 30 });
    pub.start();
    client.goOnline();
    await enqueue(0);
    const first = client.sent[0]!;
    await run(29_000, 500);
    expect(client.sent).toHaveLength(1);
    await run(1_000, 100);
    expect(client.sent).toHaveLength(2);
    const again = client.sent[1]!;
    expect(again.seq).toBe(0);
    expect(again.sent - first.sent).toBeGreaterThanOrEqual(30_000);
    expect(again.sent).toBeLessThanOrEqual(clock.now());
    expect(pub.stats().resent).toBe(1);
    expect(pub.stats().oldestUnackedMs).toBeGreaterThanOrEqual(30_000);
    client.ackSeqs([0]);
    await run(10);
    expect(pub.stats()).toMatchObject({ unacked: 0, oldestUnackedMs: 0, acked: 1 });
  });

  it('re-sends at once a record lost on the way when one sent later on the same connection is acked (no ack-timeout wait)', async () => {
    const { client, pub, enqueue, run } = await setup({ ackTimeoutSeconds: 30 });
    pub.start();
    client.goOnline();
    await enqueue(0); // lost between broker and collector
    await run(2_000, 100);
    await enqueue(1);
    await enqueue(2);
    client.ackSeqs([1, 2]);
    await run(200, 50);
    expect(client.seqs()).toEqual([0, 1, 2, 0]);
    expect(pub.stats()).toMatchObject({ resent: 1, gapResends: 1, unacked: 1 });
    client.ackSeqs([0]);
    await run(10);
    expect(pub.stats()).toMatchObject({ unacked: 0, acked: 3 });
  });

  it('does not take acks crossing on the wire for a gap: records sent within the slack of an acked one wait', async () => {
    const { client, pub, enqueue, run } = await setup({ ackTimeoutSeconds: 30 });
    pub.start();
    client.goOnline();
    await enqueue(0);
    await run(300, 100);
    await enqueue(1);
    client.ackSeqs([1]); // 0 was sent only ~0.3 s before 1: its ack may still be coming
    await run(2_000, 100);
    expect(client.seqs()).toEqual([0, 1]);
    expect(pub.stats().gapResends).toBe(0);
    // And a record from an earlier connection is not compared with this one's sends.
    client.goOffline();
    client.goOnline();
    await run(200, 50);
    expect(client.seqs()).toEqual([0, 1, 0]); // in flight at the drop: re-sent for the link, once
    expect(pub.stats().gapResends).toBe(0);
  });

  it('stretches the ack timeout to the measured round trip (RTT + 4 deviations) when the collector is slow, instead of re-sending every window', async () => {
    const { client, pub, enqueue, run } = await setup({ ackTimeoutSeconds: 30, ackTimeoutMaxSeconds: 300 });
    pub.start();
    client.goOnline();
    await enqueue(0);
    await run(20_000, 500);
    client.ackSeqs([0]); // a busy collector: 20 s round trip → timeout 20 + 4 × 10 = 60 s
    await run(10);
    expect(pub.stats().ackTimeoutSeconds).toBeCloseTo(60, 0);
    await enqueue(1);
    await run(45_000, 500);
    expect(client.seqs()).toEqual([0, 1]); // the fixed 30 s would have re-sent it by now
    await run(16_000, 500);
    expect(client.seqs()).toEqual([0, 1, 1]);
    // Karn: the ack of a re-sent record gives no sample (it would read 1 s, not 61 s).
    await run(1_000, 500);
    client.ackSeqs([1]);
    await run(10);
    expect(pub.stats().ackTimeoutSeconds).toBeCloseTo(60, 0);
  });

  it('re-sends many records in seq order, paced by replayPerSecond', async () => {
    const { client, pub, run } = await setup({ inflight: 40, replayPerSecond: 10, ackTimeoutSeconds: 5 });
    pub.start();
    client.goOnline();
    await run(1000);
    for (let i = 0; i < 30; i++) await pub.enqueue(DATA, body(i)); // one sample burst
    await run(10, 10);
    expect(client.seqs()).toHaveLength(30); // live: not paced
    await run(5_000, 50);
    const resends = () => client.sent.slice(30);
    expect(resends().map((s) => s.seq)).toEqual([0]); // the timeout cut the window to one record
    // The collector acks each copy as it comes: the window opens, and the re-sends stay
    // paced by replayPerSecond (~10/s) and in seq order.
    let acked = 0;
    for (let t = 0; t < 1000; t += 50) {
      const got = resends().map((s) => s.seq);
      if (got.length > acked) client.ackSeqs(got.slice(acked));
      acked = got.length;
      await run(50);
    }
    expect(resends().length).toBeGreaterThan(1);
    // Paced: at most the token bucket (one second's worth, filled while waiting) and a second's refill.
    expect(resends().length).toBeLessThanOrEqual(21);
    for (let t = 0; t < 4000; t += 50) {
      const got = resends().map((s) => s.seq);
      if (got.length > acked) client.ackSeqs(got.slice(acked));
      acked = got.length;
      await run(50);
    }
    expect(resends().map((s) => s.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('congestion window: an ack timeout cuts it to one record, acks open it again (slow start, then one per window)', async () => {
    const { client, pub, run } = await setup({ inflight: 32, replayPerSecond: 1000, ackTimeoutSeconds: 5 });
    pub.start();
    client.goOnline();
    await run(1000);
    for (let i = 0; i < 32; i++) await pub.enqueue(DATA, body(i));
    await run(10, 10);
    expect(client.seqs()).toHaveLength(32);
    expect(pub.stats().cwnd).toBe(32); // a new link: the whole window
    await run(5_000, 50); // no ack: all 32 time out
    const resends = () => client.sent.slice(32).map((s) => s.seq);
    expect(resends()).toEqual([0]);
    expect(pub.stats().cwnd).toBe(1);
    // Each round the collector acks what came again: 1, 2, 4, 8 records (slow start up to
    // the threshold, half of the 32 on the wire), then one more per window.
    const rounds: number[] = [];
    let acked = 0;
    for (let round = 0; round < 6; round++) {
      const got = resends();
      rounds.push(got.length - acked);
      client.ackSeqs(got.slice(acked));
      acked = got.length;
      await run(20, 10);
    }
    expect(rounds).toEqual([1, 2, 4, 8, 16, 1]);
    expect(acked).toBe(32);
    // From the threshold on, a whole window of acks adds one record: 16 → 17 after 17 acks.
    expect(pub.stats().cwnd).toBe(17);
  });

  it('never exceeds the window; a live record takes a freed slot before the backlog', async () => {
    const { client, pub, enqueue, run, outbox } = await setup({ inflight: 4 });
    pub.start();
    for (let i = 0; i < 20; i++) await enqueue(i); // taken offline: backlog
    client.goOnline();
    let maxUnacked = 0;
    const watch = async (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        await run(50);
        maxUnacked = Math.max(maxUnacked, pub.stats().unacked);
      }
    };
    await watch(500);
    expect(client.seqs()).toEqual([0, 1, 2, 3]);
    await enqueue(20); // live, window full: waits
    await watch(200);
    expect(client.seqs()).toEqual([0, 1, 2, 3]);
    client.ackSeqs([0]);
    await watch(200);
    expect(client.seqs()).toEqual([0, 1, 2, 3, 20]); // live first
    client.ackSeqs([1, 2]);
    await watch(200);
    expect(client.seqs()).toEqual([0, 1, 2, 3, 20, 4, 5]); // then the backlog, in order
    // Collector acks everything it gets from now on.
    for (let round = 0; round < 20 && outbox.stats().records > 0; round++) {
      client.ackSeqs([...new Set(client.seqs())]);
      await watch(200);
    }
    expect(outbox.stats().records).toBe(0);
    expect(maxUnacked).toBeLessThanOrEqual(4);
    expect(new Set(client.seqs()).size).toBe(21);
    expect(pub.stats().resent).toBe(0);
  });

  it('with the window full, live records wait on disk (bounded queue) and all arrive in the end', async () => {
    const { client, pub, enqueue, run, outbox } = await setup({ inflight: 2 });
    pub.start();
    client.goOnline();
    for (let i = 0; i < 10; i++) await enqueue(i);
    expect(client.seqs()).toEqual([0, 1]);
    expect(pub.stats().liveQueued).toBeLessThanOrEqual(2);
    for (let round = 0; round < 20 && outbox.stats().records > 0; round++) {
      client.ackSeqs([...new Set(client.seqs())]);
      await run(200);
      expect(pub.stats().unacked).toBeLessThanOrEqual(2);
    }
    expect(outbox.stats().records).toBe(0);
    // The newest live records went first after the stall, the older ones came back from disk.
    expect(new Set(client.seqs())).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i)));
    expect(client.seqs().slice(2, 4)).toEqual([8, 9]);
  });

  it('with the window full and no ack, probes with its oldest record once per sampling interval (the collector hears a live PC while its acks wait)', async () => {
    const { client, pub, enqueue, run, clock } = await setup({ inflight: 2, ackTimeoutSeconds: 30, ackTimeoutMaxSeconds: 300 });
    pub.start();
    client.goOnline();
    const t0 = clock.monotonic();
    const at: number[] = [];
    let n = 0;
    // 10 minutes of a collector that acks nothing, one sample every 15 s (the default interval).
    for (let i = 0; i < 40; i++) {
      await enqueue(i);
      for (let s = 0; s < 15; s++) {
        await run(1000, 1000);
        while (client.sent.length > n) {
          at.push(clock.monotonic() - t0);
          n++;
        }
      }
      expect(pub.stats().unacked).toBeLessThanOrEqual(2);
    }
    // Never silent for more than an interval (+ the 1 s step of this loop) once the window is full.
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(16_000);
    // The probes are the oldest record in flight (seq 0), not new records beyond the window.
    expect(new Set(client.seqs())).toEqual(new Set([0, 1]));
    expect(pub.stats().probes).toBeGreaterThan(20);
    // The collector comes back and acks the probe: the window opens and the newest samples go.
    client.ackSeqs([0]);
    await run(100);
    expect(Math.max(...client.seqs())).toBeGreaterThan(1);
  });

  it('sends no probe while the window has room', async () => {
    const { client, pub, enqueue, run } = await setup({ inflight: 8 });
    pub.start();
    client.goOnline();
    await enqueue(0);
    await run(29_000, 1000); // below the 30 s ack timeout
    expect(client.seqs()).toEqual([0]);
    expect(pub.stats().probes).toBe(0);
  });

  it('backs off the ack timeout while no ack arrives, and resets it on the first ack of a record sent once', async () => {
    const { client, pub, enqueue, run, clock } = await setup({ ackTimeoutSeconds: 30, ackTimeoutMaxSeconds: 300 });
    pub.start();
    client.goOnline();
    const t0 = clock.monotonic();
    await enqueue(0);
    const sendTimes: number[] = [];
    let n = 1;
    for (let t = 0; t < 1100; t += 5) {
      await run(5_000, 5_000);
      while (client.sent.length > n) {
        n++;
        sendTimes.push(Math.round((clock.monotonic() - t0) / 1000));
      }
    }
    // 30, then 60, 120, 240, capped at 300 (to the 5 s step of this loop).
    const gaps = sendTimes.map((t, i) => t - (i ? sendTimes[i - 1]! : 0));
    expect(gaps.slice(0, 5)).toEqual([30, 60, 120, 240, 300]);
    expect(pub.stats().ackTimeoutSeconds).toBe(300);
    // An ack shows the collector is back, but only one for a record sent once gives the
    // round trip back (Karn): until then the backed-off timeout holds.
    client.ackSeqs([999]);
    await run(10);
    expect(pub.stats().ackTimeoutSeconds).toBe(300);
    client.ackSeqs([0]); // sent six times
    await run(10);
    expect(pub.stats().ackTimeoutSeconds).toBe(300);
    await enqueue(1);
    client.ackSeqs([1]);
    await run(10);
    expect(pub.stats().ackTimeoutSeconds).toBe(30);
  });

  it('drops and counts records the collector rejects for good', async () => {
    const { client, pub, enqueue, run, outbox } = await setup();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await enqueue(i);
    client.ackSeqs([0], BOOT, [{ boot: BOOT, seq: 1, reason: 'schema' }]);
    await run(10);
    expect(outbox.stats().records).toBe(1);
    expect(pub.stats()).toMatchObject({ acked: 1, rejectedByCollector: 1, unacked: 1 });
    await run(31_000, 1000);
    expect(client.seqs()).toEqual([0, 1, 2, 2]);
  });

  it('counts and ignores a bad ack payload', async () => {
    const { client, pub, enqueue, run, outbox } = await setup();
    pub.start();
    client.goOnline();
    await enqueue(0);
    client.raw('not json');
    client.raw(JSON.stringify({ v: 2, acks: [{ boot: BOOT, ranges: [[0, 0]] }] }));
    client.raw(JSON.stringify({ v: 1, acks: [{ boot: BOOT, ranges: [[3, 1]] }] }));
    client.raw(JSON.stringify({ v: 1, acks: [{ boot: BOOT, ranges: [[0, 0]] }] }), 'canh/v1/s1/other/ack'); // not our topic
    await run(10);
    expect(pub.stats()).toMatchObject({ badAcks: 3, acked: 0, collectorAcked: 0, unacked: 1 });
    expect(outbox.stats().records).toBe(1);
  });

  it('ignores acks for another boot or an unknown seq', async () => {
    const { client, pub, enqueue, run, outbox } = await setup();
    pub.start();
    client.goOnline();
    await enqueue(0);
    await enqueue(1);
    client.ackSeqs([0, 1], 'boot-other-1');
    client.ackSeqs([7, 8]);
    await run(10);
    expect(pub.stats()).toMatchObject({ acked: 0, collectorAcked: 2, unacked: 2 });
    expect(outbox.stats().records).toBe(2);
  });

  it("keeps in-flight records over a disconnect and re-sends them after the reconnect, withdrawing mqtt.js' stale copies", async () => {
    const { client, pub, enqueue, run, outbox, clock } = await setup();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await enqueue(i);
    const firstSent = client.sent.map((s) => s.sent);
    client.outgoing = { 11: { cmd: 'publish' }, 12: { cmd: 'publish' }, 13: { cmd: 'subscribe' } };
    client.goOffline();
    expect(client.removed).toEqual([11, 12]); // would be replayed with their old `sent`
    await run(60_000, 1000); // offline for a minute; nothing is sent
    for (let i = 3; i < 5; i++) await enqueue(i); // taken while offline
    expect(client.sent).toHaveLength(3);
    expect(pub.stats().unacked).toBe(3);
    client.goOnline();
    await run(200);
    expect(client.seqs()).toEqual([0, 1, 2, 0, 1, 2, 3, 4]);
    for (const s of client.sent.slice(3, 6)) expect(s.sent).toBeGreaterThanOrEqual(firstSent[0]! + 60_000);
    expect(client.sent.at(-1)!.sent).toBeLessThanOrEqual(clock.now());
    expect(pub.stats().resent).toBe(3);
    // An ack of what the broker had before the cut still settles them.
    client.ackSeqs([0, 1, 2, 3, 4]);
    await run(10);
    expect(outbox.stats().records).toBe(0);
    expect(pub.stats().unacked).toBe(0);
  });

  it('drops an outbox record without boot/seq (it could never be acked)', async () => {
    const { client, pub, run, outbox } = await setup();
    pub.start();
    client.goOnline();
    await pub.enqueue(DATA, '{"v":1,"x":1}');
    await run(10);
    expect(pub.stats()).toMatchObject({ unkeyed: 1, unacked: 0 });
    expect(outbox.stats().records).toBe(0);
  });

  it('stop() waits briefly for acks, then leaves the unacked records in the outbox', async () => {
    const { client, pub, enqueue, run, outbox, dir, clock } = await setup();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await enqueue(i);
    client.ackSeqs([1]);
    await run(10);
    const stopped = pub.stop(1000);
    await run(500);
    client.ackSeqs([0]); // arrives while stop() waits
    await run(700);
    await stopped;
    expect(client.statuses.map((s) => JSON.parse(s) as { state: string }).at(-1)!.state).toBe('offline');
    expect(pub.stats().unacked).toBe(1);
    await outbox.close();
    const again = new Outbox({ dir, maxBytes: 8 * 1024 * 1024, segmentBytes: 1024 * 1024, fsync: 'never', fsyncIntervalMs: 1000, clock, log: silentLogger() });
    await again.open();
    const left = await again.read(0, 10);
    expect(left.map((r) => recordKey(r.payload.toString())!.seq)).toEqual([2]);
    await again.close();
  });

  it('a refused ack subscription is retried at the next ack timeout', async () => {
    const { client, pub, enqueue, run } = await setup();
    client.refuseSubscribe = true;
    pub.start();
    client.goOnline();
    await enqueue(0);
    expect(pub.stats().ackSubscribed).toBe(false);
    client.refuseSubscribe = false;
    await run(31_000, 1000);
    expect(client.subscriptions).toHaveLength(2);
    expect(pub.stats().ackSubscribed).toBe(true);
  });
});
