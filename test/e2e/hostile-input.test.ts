/**
 * Hostile input against a real collector process over real MQTT: more than a thousand
 * malformed, out-of-range and oversized payloads on the credential's own topics, with
 * good samples in between. The collector must stay up, count every rejection under the
 * right reason (checked per message, from /metrics), cut 1 MB+ packets and foreign
 * topics, store every good sample exactly once, and keep its log rate-limited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, REJECT_REASONS, type RejectReason } from '../../contract/decode.js';
import { MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES } from '../../contract/limits.js';
import { topicFor, type MessageKind } from '../../contract/topics.js';
import { freePort } from '../helpers/free-port.js';
import { deepArray, deepObject, generateHostile, KINDS, prng, shuffle, validMessage, type Hostile } from '../helpers/hostile-payloads.js';
import { addCredential, createApiToken, startCanh, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const SITE = 'xa-hostile';
const HOST = 'pc-01';
const GOOD_BOOT = 'goodBoot0001';
const SEED = 0xc0ffee;
/** RateLimitedLog interval of the ingest's rejection warnings. */
const REJECT_LOG_INTERVAL_MS = 10_000;

let canh: CanhProcess | undefined;
let dataDir: string;
let mqttUrl: string;
let httpBase: string;
let apiToken: string;
let cred: { username: string; password: string };
let main: MqttClient | undefined;
const openClients = new Set<MqttClient>();
const testStart = Date.now();
/** Seqs of every good sample the collector PUBACKed. */
const goodSeqs: number[] = [];
let nextSeq = 1;

type Outcome = 'acked' | 'cut' | 'timeout' | `error: ${string}`;
type Scrape = Map<string, number>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function connect(): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(mqttUrl, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      // The broker binds the client id to the credential (issue 14): a new connection takes
      // over the previous one of the same PC, which mainClient() reconnects when it is needed.
      clientId: `${SITE}.${HOST}`,
      username: cred.username,
      password: cred.password,
    });
    openClients.add(c);
    c.on('close', () => openClients.delete(c));
    // A cut connection surfaces as EPIPE/ECONNRESET: expected here, never fatal.
    c.on('error', () => undefined);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

/** QoS 1 publish that also notices a cut connection (mqtt.js would wait forever). */
async function publishAcked(c: MqttClient, topic: string, payload: Buffer | string, timeoutMs = 10_000): Promise<Outcome> {
  if (!c.connected) return 'cut';
  let onClose: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<Outcome>((r) => {
    onClose = () => r('cut');
    c.once('close', onClose);
  });
  const timeout = new Promise<Outcome>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  try {
    return await Promise.race([
      c.publishAsync(topic, payload, { qos: 1 }).then(
        (): Outcome => 'acked',
        (e: Error): Outcome => `error: ${e.message}`,
      ),
      closed,
      timeout,
    ]);
  } finally {
    c.off('close', onClose);
    clearTimeout(timer);
  }
}

/** Publish on a disposable connection and wait for the broker to cut it. */
async function publishExpectingCut(topic: string, payload: Buffer, qos: 0 | 1): Promise<'cut' | 'not cut'> {
  const c = await connect();
  const gone = new Promise<'cut'>((r) => c.once('close', () => r('cut')));
  c.publish(topic, payload, { qos });
  const result = await Promise.race([gone, sleep(10_000).then(() => 'not cut' as const)]);
  c.end(true);
  return result;
}

/** The main connection, reconnected if something cut it. */
async function mainClient(): Promise<MqttClient> {
  if (!main?.connected) {
    main?.end(true);
    main = await connect();
  }
  return main;
}

async function scrape(): Promise<Scrape> {
  const res = await fetch(`${httpBase}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const m: Scrape = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** Rejection counter; the series are pre-registered at 0, so a missing one is NaN (fails every comparison). */
const rejected = (m: Scrape, reason: RejectReason) => m.get(`canh_ingest_rejected_total{reason="${reason}"}`) ?? Number.NaN;
const accepted = (m: Scrape, kind: MessageKind) => m.get(`canh_ingest_accepted_total{kind="${kind}"}`) ?? 0;
const duplicates = (m: Scrape) => [...m].filter(([k]) => k.startsWith('canh_ingest_duplicates_total')).reduce((s, [, v]) => s + v, 0);
const oversize = (m: Scrape) => m.get('canh_broker_oversize_packets_total') ?? 0;

/** Messages the collector has decided (stored, duplicate or rejected) so far. */
const decided = (m: Scrape) => [...m].filter(([k]) => /^canh_ingest_(rejected|accepted|duplicates)_total\{/.test(k)).reduce((sum, [, v]) => sum + v, 0);

/**
 * Scrape once the collector decided `n` more messages than at `prev`: a PUBACK is
 * transport only, the group commit stores and counts a few ms later (issue 12).
 */
async function scrapeAfter(prev: Scrape, n: number): Promise<Scrape> {
  let cur = await scrape();
  const deadline = Date.now() + 10_000;
  while (decided(cur) - decided(prev) < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    cur = await scrape();
  }
  return cur;
}

/** Which rejection counters moved between two scrapes, and by how much. */
function rejectDelta(before: Scrape, after: Scrape): Partial<Record<RejectReason, number>> {
  const d: Partial<Record<RejectReason, number>> = {};
  for (const r of REJECT_REASONS) {
    const n = rejected(after, r) - rejected(before, r);
    if (n !== 0) d[r] = n;
  }
  return d;
}

function goodSample(seq: number, padToLimit: boolean): string {
  const t = Date.now();
  const text = JSON.stringify(validMessage('samples', SITE, HOST, seq, t, t, GOOD_BOOT));
  // A good sample of exactly MAX_PAYLOAD_BYTES: the limit is inclusive.
  return padToLimit ? text + ' '.repeat(MAX_PAYLOAD_BYTES - Buffer.byteLength(text)) : text;
}

async function health(): Promise<{ status: number; body: { status?: string; samplesStored?: number } }> {
  const res = await fetch(`${httpBase}/api/health`);
  return { status: res.status, body: (await res.json()) as { status?: string; samplesStored?: number } };
}

async function storedSamples(): Promise<Array<{ boot: string; seq: number }>> {
  const q = new URLSearchParams({ from: String(testStart - 120_000), to: String(Date.now() + 120_000), limit: '5000' });
  const res = await fetch(`${httpBase}/api/hosts/${SITE}/${HOST}/samples?${q}`, { headers: { authorization: `Bearer ${apiToken}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { samples: Array<{ boot: string; seq: number }> }).samples;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'canh-hostile-'));
  cred = addCredential(dataDir, SITE, HOST);
  apiToken = createApiToken(dataDir, 'read').token;
  const mqttPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === mqttPort) httpPort = await freePort();
  mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  httpBase = `http://127.0.0.1:${httpPort}`;
  canh = startCanh(['collector'], {
    CANH_COLLECTOR__DATA_DIR: dataDir,
    CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
    CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort),
    CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
    CANH_COLLECTOR__HTTP__PORT: String(httpPort),
  });
  await canh.waitFor((l) => l.msg === 'collector started', 30_000, '"collector started"');
  main = await connect();
});

afterAll(async () => {
  for (const c of openClients) c.end(true);
  await canh?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('collector process under hostile MQTT input', () => {
  it('rejects >1,000 bad payloads under the right reasons, cuts oversize/foreign publishes, stores every good sample once', async () => {
    const hostile = shuffle(generateHostile({ site: SITE, host: HOST, otherSite: 'xa-other', otherHost: 'pc-02', now: Date.now(), seed: SEED }), prng(SEED + 1));
    const onMain = hostile.filter((h) => h.transport === 'main');
    const oversized = hostile.filter((h) => h.transport === 'oversize');
    const foreign = hostile.filter((h) => h.transport === 'foreign');
    expect(onMain.length).toBeGreaterThanOrEqual(1000);
    expect(oversized.length).toBeGreaterThanOrEqual(4);
    for (const h of oversized) expect(h.payload.length).toBeGreaterThan(Math.max(MAX_PACKET_BYTES, 1024 * 1024));
    expect(new Set(onMain.map((h) => h.kind))).toEqual(new Set(KINDS));

    // The generator's expectation, decided per category, agrees with the contract decoder.
    const decoderDisagrees = onMain
      .map((h) => ({ h, d: decodeMessage(h.topic, h.payload) }))
      .filter(({ h, d }) => d.ok || d.reason !== h.expected)
      .map(({ h, d }) => `${h.kind} ${h.category} ${h.label}: expected ${h.expected}, decoder ${d.ok ? 'ACCEPTS' : d.reason}`);
    expect(decoderDisagrees).toEqual([]);

    const expectedTally = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
    for (const h of [...onMain, ...foreign]) expectedTally[h.expected!]++;

    // Independent expectations for some categories: literal reasons, not the generator's field.
    const hard: Array<[string, RejectReason]> = [
      ['huge-1e400', 'schema'],
      ['huge-2^64', 'schema'],
      ['negative-counter', 'schema'],
      ['pct-out-of-range', 'schema'],
      ['time-out-of-range', 'schema'],
      ['deep-nesting', 'schema'],
      ['array-too-long', 'schema'],
      ['invalid-utf8', 'bad_encoding'],
      ['too-large', 'too_large'],
      ['nan-infinity-token', 'bad_json'],
      ['bad-json-truncated', 'bad_json'],
      ['json-non-object', 'bad_json'],
      ['unknown-version', 'unknown_version'],
      ['sent-before-t', 'time_inconsistent'],
      ['identity-in-payload', 'identity_mismatch'],
    ];
    for (const [category, reason] of hard) {
      const inCat = onMain.filter((h) => h.category === category);
      expect(inCat.length, category).toBeGreaterThan(0);
      expect(
        inCat.filter((h) => h.expected !== reason).map((h) => h.label),
        `${category} → ${reason}`,
      ).toEqual([]);
    }
    // A few of each hard category are sent alone, so the live counters attribute them one by one.
    const solo = new Set<Hostile>(hard.flatMap(([category]) => onMain.filter((h) => h.category === category).slice(0, 3)));

    const rnd = prng(SEED + 2);
    const notAcked: string[] = [];
    const misattributed: string[] = [];
    const notCut: string[] = [];
    /** Reason the live collector counted, per payload sent alone. */
    const observed = new Map<Hostile, string>();
    let goodCount = 0;
    let windows = 0;

    const start = await scrape();
    const firstBadAt = Date.now();
    let prev = start;

    /**
     * Publish a window of bad messages and one good sample, all in flight together (QoS 1,
     * every PUBACK awaited), then check that the counters moved by exactly the window's
     * expected reasons and one accepted sample.
     */
    const sendWindow = async (bad: Hostile[]) => {
      const seq = nextSeq++;
      const c = await mainClient();
      const outcomes = await Promise.all([
        ...bad.map((h) => publishAcked(c, h.topic, h.payload)),
        publishAcked(c, topicFor(SITE, HOST, 'samples'), goodSample(seq, goodCount % 7 === 3)),
      ]);
      goodCount++;
      windows++;
      bad.forEach((h, i) => outcomes[i] !== 'acked' && notAcked.push(`${h.kind} ${h.category} ${h.label}: ${outcomes[i]}`));
      if (outcomes.at(-1) === 'acked') goodSeqs.push(seq);
      else notAcked.push(`good sample seq ${seq}: ${outcomes.at(-1)}`);
      const cur = await scrapeAfter(prev, bad.length + 1);
      const want: Partial<Record<RejectReason, number>> = {};
      for (const h of bad) want[h.expected!] = (want[h.expected!] ?? 0) + 1;
      const got = rejectDelta(prev, cur);
      const acc = KINDS.map((k) => accepted(cur, k) - accepted(prev, k));
      if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(want)) || JSON.stringify(acc) !== JSON.stringify([1, 0, 0, 0])) {
        misattributed.push(
          `window ${windows} [${bad.map((h) => `${h.kind} ${h.category} ${h.label}`).join(' | ')}]: expected ${JSON.stringify(want)} + 1 sample, ` +
            `counted ${JSON.stringify(got)}, accepted by kind ${JSON.stringify(acc)}`,
        );
      }
      prev = cur;
    };

    let pending: Hostile[] = [];
    let sinceGood = 0;
    let windowSize = 8 + Math.floor(rnd() * 5);
    for (const h of hostile) {
      if (h.transport === 'main' && !solo.has(h)) {
        pending.push(h);
      } else if (h.transport === 'main') {
        const outcome = await publishAcked(await mainClient(), h.topic, h.payload);
        if (outcome !== 'acked') notAcked.push(`${h.kind} ${h.category} ${h.label}: ${outcome}`);
        const cur = await scrapeAfter(prev, 1);
        const d = rejectDelta(prev, cur);
        const reasons = Object.keys(d) as RejectReason[];
        observed.set(h, reasons.length === 1 && d[reasons[0]!] === 1 ? reasons[0]! : JSON.stringify(d));
        if (observed.get(h) !== h.expected) misattributed.push(`${h.kind} ${h.category} ${h.label}: expected ${h.expected}, counted ${JSON.stringify(d)}`);
        if (KINDS.some((k) => accepted(cur, k) !== accepted(prev, k))) misattributed.push(`${h.kind} ${h.category} ${h.label}: was ACCEPTED`);
        prev = cur;
      } else {
        const r = await publishExpectingCut(h.topic, h.payload, h.transport === 'oversize' ? 0 : 1);
        if (r !== 'cut') notCut.push(`${h.kind} ${h.category} ${h.label} on ${h.topic}: ${r}`);
        // The counter moves as the broker cuts; let it settle before attributing anything else.
        const counter = async () => (h.transport === 'oversize' ? oversize(await scrape()) : rejected(await scrape(), 'identity_mismatch'));
        const want = (h.transport === 'oversize' ? oversize(prev) : rejected(prev, 'identity_mismatch')) + 1;
        await waitFor(async () => (await counter()) >= want, { timeoutMs: 5_000, what: `counter after ${h.category} ${h.label}`, intervalMs: 20 }).catch(() => undefined);
        const cur = await scrape();
        const d = rejectDelta(prev, cur);
        if (h.transport === 'oversize' && (oversize(cur) - oversize(prev) !== 1 || Object.keys(d).length)) {
          misattributed.push(`${h.kind} oversize ${h.label}: oversize +${oversize(cur) - oversize(prev)}, rejections ${JSON.stringify(d)}`);
        }
        if (h.transport === 'foreign' && JSON.stringify(d) !== JSON.stringify({ identity_mismatch: 1 })) {
          misattributed.push(`${h.kind} foreign ${h.label}: counted ${JSON.stringify(d)}`);
        }
        prev = cur;
      }
      if (++sinceGood >= windowSize) {
        await sendWindow(pending);
        pending = [];
        sinceGood = 0;
        windowSize = 8 + Math.floor(rnd() * 5);
      }
    }
    await sendWindow(pending);

    // A final burst of good samples, in flight together: ingest goes on after the abuse.
    const burst = Array.from({ length: 100 }, () => nextSeq++);
    const c = await mainClient();
    const burstOutcomes = await Promise.all(burst.map((seq) => publishAcked(c, topicFor(SITE, HOST, 'samples'), goodSample(seq, false))));
    burst.forEach((seq, i) => (burstOutcomes[i] === 'acked' ? goodSeqs.push(seq) : notAcked.push(`burst seq ${seq}: ${burstOutcomes[i]}`)));
    goodCount += burst.length;
    const end = await scrapeAfter(prev, burst.length);
    const elapsedMs = Date.now() - firstBadAt;

    // Every non-oversize publish was PUBACKed, every oversize/foreign one cut.
    expect(notAcked).toEqual([]);
    expect(notCut).toEqual([]);
    // Per message: exactly the expected counter moved, by exactly one.
    expect(misattributed).toEqual([]);

    // The categories sent alone were counted under their literal reason, one by one.
    for (const [category, reason] of hard) {
      const sent = [...solo].filter((h) => h.category === category);
      expect(sent.length, category).toBeGreaterThan(0);
      expect(
        sent.filter((h) => observed.get(h) !== reason).map((h) => `${h.kind} ${h.label}: ${observed.get(h)}`),
        `${category} → ${reason}`,
      ).toEqual([]);
    }

    // Totals per reason, and overall.
    const totals = Object.fromEntries(REJECT_REASONS.map((r) => [r, rejected(end, r) - rejected(start, r)]));
    expect(totals).toEqual(expectedTally);
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(onMain.length + foreign.length);
    expect(oversize(end) - oversize(start)).toBe(oversized.length);
    expect(accepted(end, 'samples') - accepted(start, 'samples')).toBe(goodCount);
    for (const k of ['events', 'inventory', 'status'] as const) expect(accepted(end, k) - accepted(start, k), k).toBe(0);
    expect(duplicates(end) - duplicates(start)).toBe(0);

    // Still up and healthy.
    expect(canh!.proc.exitCode).toBeNull();
    expect(canh!.proc.signalCode).toBeNull();
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect(h.body.samplesStored).toBe(goodCount);

    // Every good sample stored exactly once, and nothing else.
    const stored = await storedSamples();
    expect(stored.every((s) => s.boot === GOOD_BOOT)).toBe(true);
    expect(stored.map((s) => s.seq)).toEqual(Array.from({ length: goodCount }, (_, i) => i + 1));
    expect([...goodSeqs].sort((a, b) => a - b)).toEqual(stored.map((s) => s.seq));

    // The log: nothing fatal or uncaught, rejection warnings rate-limited.
    const logs = canh!.logs();
    const severe = logs.filter((l) => typeof l.level === 'number' && l.level >= 50).map((l) => JSON.stringify(l).slice(0, 300));
    expect(severe).toEqual([]);
    const rawBad = canh!
      .output()
      .split('\n')
      .filter((l) => !l.startsWith('{') && /fatal|uncaught|unhandled|RangeError|TypeError|Error:/i.test(l));
    expect(rawBad).toEqual([]);
    const rejectWarns = logs.filter((l) => l.level === 40 && l.msg === 'message rejected');
    const reasonsSeen = REJECT_REASONS.filter((r) => expectedTally[r] > 0);
    // Each reason logs its first occurrence, then at most once per interval.
    expect(new Set(rejectWarns.map((l) => l.reason))).toEqual(new Set(reasonsSeen));
    expect(rejectWarns.length).toBeLessThanOrEqual(reasonsSeen.length * (Math.floor(elapsedMs / REJECT_LOG_INTERVAL_MS) + 2));
    expect(rejectWarns.length).toBeLessThan(100);
    const oversizeWarns = logs.filter((l) => l.level === 40 && l.msg === 'oversized MQTT packet; connection closed');
    // Untrusted input: the first oversize is logged, then at most one line a minute (issue 14 item 4).
    expect(oversized.length).toBeGreaterThan(1);
    expect(oversizeWarns.length).toBeGreaterThanOrEqual(1);
    expect(oversizeWarns.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 60_000) + 1);

    console.log(
      `hostile-input: ${onMain.length} bad on the main connection, ${oversized.length} oversize, ${foreign.length} foreign-topic, ${goodCount} good; ${solo.size} sent alone, the rest in ${windows} windows; ` +
        `${rejectWarns.length} rejection warnings in ${elapsedMs} ms; by category: ${JSON.stringify(countBy(hostile, (x) => x.category))}; ` +
        `by reason: ${JSON.stringify(expectedTally)}; by kind: ${JSON.stringify(countBy(hostile, (x) => x.kind))}`,
    );
  });

  it('a deeply nested `v` is rejected as unknown_version, not a dropped connection', async () => {
    // decodeMessage's unknown_version detail does JSON.stringify(v): a deep enough `v`
    // overflows the stack there. Depth 1,000 is the control that works.
    const cases = KINDS.flatMap((kind) =>
      [
        ['array depth 1000', deepArray(1_000)],
        ['array depth 6000', deepArray(6_000)],
        ['object depth 6000', deepObject(6_000)],
        ['array depth 10000', deepArray(10_000)],
      ].map(([label, v]) => ({ kind, label: `${kind} v=${label!}`, payload: Buffer.from(`{"v":${v!},"site":"${SITE}","host":"${HOST}"}`) })),
    );
    for (const c of cases) expect(c.payload.length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);

    const throws = cases.flatMap((c) => {
      try {
        const d = decodeMessage(topicFor(SITE, HOST, c.kind), c.payload);
        return d.ok || d.reason !== 'unknown_version' ? [`${c.label}: ${d.ok ? 'accepted' : d.reason}`] : [];
      } catch (e) {
        return [`${c.label}: decodeMessage threw ${(e as Error).name}: ${(e as Error).message}`];
      }
    });
    expect.soft(throws, 'contract decoder never throws').toEqual([]);

    const before = await scrape();
    const outcomes: string[] = [];
    for (const c of cases) {
      const outcome = await publishAcked(await mainClient(), topicFor(SITE, HOST, c.kind), c.payload);
      if (outcome !== 'acked') outcomes.push(`${c.label}: ${outcome}`);
    }
    const after = await scrapeAfter(before, cases.length);
    expect.soft(outcomes, 'every publish PUBACKed on a kept connection').toEqual([]);
    expect.soft(rejectDelta(before, after), 'counted as unknown_version').toEqual({ unknown_version: cases.length });

    // Whatever happened, the collector is up and still ingests.
    const seq = nextSeq++;
    const beforeLast = await scrape();
    expect(await publishAcked(await mainClient(), topicFor(SITE, HOST, 'samples'), goodSample(seq, false))).toBe('acked');
    goodSeqs.push(seq);
    await scrapeAfter(beforeLast, 1);
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect((await storedSamples()).map((s) => s.seq)).toContain(seq);
  });
});

function sortKeys(o: Record<string, number>): Array<[string, number]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
