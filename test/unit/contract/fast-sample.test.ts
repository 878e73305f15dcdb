import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mutations } from '../../helpers/mutations.js';
import { decodeMessage, decodeMessages } from '../../../contract/decode.js';
import { isPlainSample } from '../../../contract/fast-sample.js';
import { MAX_DISKS, MAX_STRING, MAX_TIME_MS, MIN_TIME_MS } from '../../../contract/limits.js';
import { SampleMessage } from '../../../contract/schemas.js';
import { topicFor } from '../../../contract/topics.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/contract/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** A sample with every metric the contract knows (as a current agent sends it). */
const FULL: Record<string, unknown> = {
  ...fixture('sample-valid.json'),
  metrics: {
    ...(fixture('sample-valid.json').metrics as object),
    http: [
      { name: 'dichvucong', url: 'https://dichvucong.gov.vn/', ok: true, status: 200, dnsMs: 3, connectMs: 20, tlsMs: 60, firstByteMs: 210.5, totalMs: 230 },
      {
        name: 'motcua',
        url: 'https://motcua.example.vn/',
        ok: false,
        status: null,
        dnsMs: null,
        connectMs: null,
        tlsMs: null,
        firstByteMs: null,
        totalMs: null,
        error: 'ETIMEDOUT',
      },
    ],
    power: { source: 'battery', batteryPct: 80, minutesLeft: null },
    diskio: [{ disk: 'sda', busyPct: 12.5, queue: 0.3 }],
    pressure: { memSomePct: 1.5, memFullPct: 0, swapInPs: null, swapOutPs: 0, hardFaultsPs: 4 },
  },
};

const VALID: Array<[string, Record<string, unknown>]> = [
  ['sample-valid.json', fixture('sample-valid.json')],
  ['sample-unavailable.json', fixture('sample-unavailable.json')],
  ['sample-disk-pressure.json', fixture('sample-disk-pressure.json')],
  ['every metric', FULL],
  ['no metrics at all', { ...FULL, metrics: {} }],
  ['every metric unavailable', { ...FULL, metrics: Object.fromEntries(Object.keys(FULL.metrics as object).map((k) => [k, { unavailable: 'không đọc được' }])) }],
  ['edge values', { ...FULL, seq: 0, interval: 1, metrics: { cpu: { usage: 100, load1: null, load5: 0, load15: 1e12, cores: 4096 }, disks: [] } }],
];

/** Hostile and wrong values put in place of each field in turn. */
const HOSTILE: unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  JSON.parse('1e400') as number,
  2 ** 53,
  Number.MAX_SAFE_INTEGER + 2,
  -1,
  -0,
  // Just past each bound of the schema.
  100.000001,
  101,
  999.5,
  1001,
  4097,
  86_401,
  1e12 + 1,
  MIN_TIME_MS - 1,
  MAX_TIME_MS + 1,
  0.5,
  1e13,
  '1',
  '',
  'x'.repeat(MAX_STRING + 1),
  'Đường',
  null,
  true,
  {},
  [],
  [1],
  { unavailable: '' },
  { unavailable: 'x' },
  JSON.parse('{"__proto__":{"polluted":1}}') as unknown,
];

describe('isPlainSample: the fast check of the hot sample shape agrees with zod', () => {
  it.each(VALID)('accepts %s, which zod returns unchanged', (_name, rec) => {
    const z = SampleMessage.safeParse(rec);
    expect(z.success).toBe(true);
    expect(z.data).toStrictEqual(rec);
    expect(isPlainSample(rec)).toBe(true);
  });

  it('never accepts what zod refuses or changes (every field of every valid sample replaced, removed, or given a sibling)', () => {
    let cases = 0;
    let fastAccepted = 0;
    const wrong: string[] = [];
    for (const [, base] of VALID) {
      for (const [name, rec] of mutations(base, { hostile: HOSTILE, extraKeys: ['extra', 'constructor', 'toString', 'hasOwnProperty'], tooLong: MAX_DISKS + 1 })) {
        cases++;
        const fast = isPlainSample(rec as Record<string, unknown>);
        if (!fast) continue;
        fastAccepted++;
        const z = SampleMessage.safeParse(rec);
        // Accepted by the fast check: zod must accept it and give back the same object.
        if (!z.success) wrong.push(`${name}: zod refuses (${z.error.issues[0]?.message})`);
        else if (!isDeepStrictEqual(z.data, rec)) wrong.push(`${name}: zod changes it`);
      }
    }
    expect(wrong).toEqual([]);
    // The table is large and the fast check does accept some of the variants (valid ones).
    expect(cases).toBeGreaterThan(3000);
    expect(fastAccepted).toBeGreaterThan(100);
  });

  it('refuses each hostile shape zod refuses or strips (the decoder then gives zod’s error)', () => {
    const base = FULL;
    const hostile: Array<[string, unknown]> = [
      ['extra top-level key', { ...base, extra: 1 }],
      ['__proto__ key', JSON.parse(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"seq":1},'))],
      ['NaN usage', { ...base, metrics: { cpu: { usage: NaN, load1: 0, load5: 0, load15: 0, cores: 2 } } }],
      ['Infinity seq', { ...base, seq: Infinity }],
      ['1e400 seq', JSON.parse(JSON.stringify(base).replace('"seq":42', '"seq":1e400'))],
      ['unsafe integer seq', { ...base, seq: 2 ** 53 }],
      ['string seq', { ...base, seq: '42' }],
      ['metric with both shapes', { ...base, metrics: { cpu: { usage: 1, load1: 0, load5: 0, load15: 0, cores: 2, unavailable: 'x' } } }],
      ['array of metrics objects with an extra key', { ...base, metrics: { disks: [{ mount: '/', total: 1, used: 1, free: 0, usedPct: 100, extra: true }] } }],
      ['metrics an array', { ...base, metrics: [] }],
      ['upper-case site', { ...base, site: 'XA' }],
      ['short boot', { ...base, boot: 'abc' }],
    ];
    for (const [name, rec] of hostile) {
      expect(isPlainSample(rec as Record<string, unknown>), name).toBe(false);
      const z = SampleMessage.safeParse(rec);
      // zod refuses it, or accepts it only by stripping what the fast check would not take.
      if (z.success) expect(isDeepStrictEqual(z.data, rec), name).toBe(false);
    }
  });
});

describe('the decoder with the fast path gives what zod gave', () => {
  const topic = topicFor('xa-an-binh', 'pc-motcua-01', 'samples');
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o));

  it('a valid sample: the same message as zod’s output', () => {
    for (const [, rec] of VALID) {
      const d = decodeMessage(topicFor(rec.site as string, rec.host as string, 'samples'), enc(rec));
      expect(d.ok, JSON.stringify(d)).toBe(true);
      if (d.ok) expect(d.message).toStrictEqual(SampleMessage.parse(JSON.parse(JSON.stringify(rec))));
    }
  });

  it('an unknown key is still stripped (slow path), and an error still names the field', () => {
    const stripped = decodeMessage(topic, enc({ ...FULL, extra: 1, metrics: { ...(FULL.metrics as object), gpu: { usage: 1 } } }));
    expect(stripped.ok).toBe(true);
    if (stripped.ok) {
      expect(stripped.message).not.toHaveProperty('extra');
      expect((stripped.message as { metrics: object }).metrics).not.toHaveProperty('gpu');
    }
    const bad = decodeMessage(topic, enc({ ...FULL, metrics: { cpu: { usage: 140, load1: 0, load5: 0, load15: 0, cores: 2 } } }));
    expect(bad).toMatchObject({ ok: false, reason: 'schema', detail: expect.stringContaining('metrics.cpu') as string });
    const time = decodeMessage(topic, enc({ ...FULL, sent: (FULL.t as number) - 3_600_000 }));
    expect(time).toMatchObject({ ok: false, reason: 'time_inconsistent' });
    const who = decodeMessage(topic, enc({ ...FULL, host: 'pc-other' }));
    expect(who).toMatchObject({ ok: false, reason: 'identity_mismatch' });
  });

  it('a batch mixing fast, slow and bad records: one outcome each, as zod decides', () => {
    const records = [FULL, { ...FULL, seq: 43, extra: 1 }, { ...FULL, seq: 44, interval: 0 }, { ...FULL, seq: 45, metrics: {} }];
    const d = decodeMessages(topic, enc({ v: 1, records }));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.records.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(d.records[2]).toMatchObject({ reason: 'schema', key: { boot: FULL.boot, seq: 44 }, detail: expect.stringContaining('interval') as string });
    expect(d.records[1]!.ok && d.records[1]!.message).not.toHaveProperty('extra');
  });
});
