import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AckBuilder, decodeAck, decodeMessages, MAX_BATCH_RECORDS, MAX_PAYLOAD_BYTES, topicFor, type DecodedMessages } from '../../../contract/index.js';
import { recordWeight } from '../../../collector/ingest/group-commit.js';

const sample = JSON.parse(readFileSync(new URL('../../fixtures/contract/sample-valid.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const event = JSON.parse(readFileSync(new URL('../../fixtures/contract/event-valid.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const SAMPLES = topicFor(sample.site as string, sample.host as string, 'samples');
const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));
const rec = (seq: number, over: Record<string, unknown> = {}) => ({ ...sample, seq, ...over });
const batch = (records: unknown[]) => enc({ v: 1, records });

function ok(d: ReturnType<typeof decodeMessages>): DecodedMessages {
  if (!d.ok) throw new Error(`rejected: ${d.reason} ${d.detail}`);
  return d;
}

describe('batch messages (several records per message)', () => {
  it('decodes every record of a batch, each with its own boot and seq', () => {
    const d = ok(decodeMessages(SAMPLES, batch([rec(1), rec(2), rec(3)])));
    expect(d.batch).toBe(true);
    expect(d.records.map((r) => (r.ok ? r.message.seq : -1))).toEqual([1, 2, 3]);
  });

  it('still decodes a single-record message as one record', () => {
    const d = ok(decodeMessages(SAMPLES, enc(rec(7))));
    expect(d.batch).toBe(false);
    expect(d.records).toHaveLength(1);
    expect(d.records[0]!.ok).toBe(true);
  });

  it('refuses a bad record alone, with its key when readable, and keeps the others', () => {
    const d = ok(decodeMessages(SAMPLES, batch([rec(1), rec(2, { interval: -5 }), 'nope', rec(4, { host: 'other-pc' }), rec(5, { sent: (sample.t as number) - 120_000 })])));
    expect(d.records.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'schema', 'bad_json', 'identity_mismatch', 'time_inconsistent']);
    const bad = d.records[1]!;
    expect(!bad.ok && bad.key).toEqual({ boot: sample.boot, seq: 2 });
  });

  it('refuses a malformed batch envelope whole, as bad_batch', () => {
    const reason = (p: Buffer, topic = SAMPLES) => {
      const d = decodeMessages(topic, p);
      return d.ok ? 'ok' : d.reason;
    };
    expect(reason(enc({ v: 1, records: 'x' }))).toBe('bad_batch');
    expect(reason(enc({ v: 1, records: [] }))).toBe('bad_batch');
    expect(reason(enc({ v: 1, records: [rec(1)], extra: 1 }))).toBe('bad_batch');
    expect(reason(enc({ v: 1, records: Array.from({ length: MAX_BATCH_RECORDS + 1 }, () => ({})) }))).toBe('bad_batch');
    expect(reason(enc({ v: 1, records: [rec(1)] }), topicFor(sample.site as string, sample.host as string, 'inventory'))).toBe('bad_batch');
    expect(reason(enc({ v: 1, records: [rec(1)] }), topicFor(sample.site as string, sample.host as string, 'status'))).toBe('bad_batch');
    expect(reason(enc({ v: 2, records: [rec(1)] }))).toBe('unknown_version');
    expect(reason(Buffer.from(`{"v":1,"records":[${'1,'.repeat(MAX_PAYLOAD_BYTES / 2)}1]}`))).toBe('too_large');
  });

  it('takes events in batches on the events topic, and a sample record there is refused alone', () => {
    const topic = topicFor(event.site as string, event.host as string, 'events');
    const d = ok(decodeMessages(topic, batch([{ ...event, seq: 1 }, { ...event, seq: 2 }, rec(3)])));
    expect(d.records.map((r) => r.ok)).toEqual([true, true, false]);
  });

  it('counts the records of a payload before decoding (queue bound), at least one', () => {
    expect(recordWeight(batch([rec(1), rec(2), rec(3)]))).toBe(3);
    expect(recordWeight(enc(rec(1)))).toBe(1);
    expect(recordWeight(enc({ nothing: 'here' }))).toBe(1);
    // A quote inside a string is escaped: no hidden key.
    expect(recordWeight(enc(rec(1, { note: '"seq":1 "seq":2' })))).toBe(1);
  });

  it('counts what a search of the whole key "seq": counts, however many q bytes are not keys', () => {
    const KEY = Buffer.from('"seq":');
    const plain = (b: Buffer) => {
      let n = 0;
      for (let i = b.indexOf(KEY); i !== -1 && n <= MAX_BATCH_RECORDS; i = b.indexOf(KEY, i + KEY.length)) n++;
      return Math.max(1, n);
    };
    const cases = [
      'q"seq":1',
      '"seq":1q',
      'q":"seq":2',
      `{"a":"${'q'.repeat(300)}","seq":1,"b":"${'q":'.repeat(300)}","seq":2}`,
      // The misses run out just before the keys (255, 256, 257 q first): the key search takes over.
      `{"a":"${'q'.repeat(256)}","seq":1,"seq":2}`,
      `{"a":"${'q'.repeat(255)}","seq":1,"seq":2}`,
      `{"a":"${'q'.repeat(257)}","seq":1,"seq":2}`,
      `{"records":[${'{"seq":1},'.repeat(MAX_BATCH_RECORDS + 5)}{"seq":2}]}`,
      `{"a":"${'q'.repeat(1000)}","records":[${'{"seq":1},'.repeat(MAX_BATCH_RECORDS + 5)}{"seq":2}]}`,
      `{"a":"\\"seq\\":1"}`,
    ];
    for (const c of cases) expect(recordWeight(Buffer.from(c)), c.slice(0, 40)).toBe(plain(Buffer.from(c)));
    expect(recordWeight(Buffer.from(cases[3]!))).toBe(2);
    expect(recordWeight(Buffer.from(cases[8]!))).toBe(MAX_BATCH_RECORDS + 1);
    // Not only Buffers: a Uint8Array view into a larger buffer counts its own bytes.
    const big = Buffer.from(`xx"seq":1"seq":2"seq":3`);
    expect(recordWeight(new Uint8Array(big.buffer, big.byteOffset + 2, 16))).toBe(2);
  });

  it('acks announce the bound (capped by the contract); an ack with a malformed announcement still acks', () => {
    const b = new AckBuilder();
    b.add('boot-aaaaaaaa', 1);
    expect(b.build(64).batch).toBe(64);
    expect(b.build(10_000).batch).toBe(MAX_BATCH_RECORDS);
    expect(b.build(1).batch).toBeUndefined();
    expect(b.build().batch).toBeUndefined();
    const weird = decodeAck(enc({ v: 1, acks: [{ boot: 'boot-aaaaaaaa', ranges: [[1, 1]] }], batch: 'many' }));
    expect(weird?.acks).toHaveLength(1);
    expect(weird?.batch).toBeUndefined();
  });
});
