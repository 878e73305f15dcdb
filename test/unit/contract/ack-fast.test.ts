import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mutations } from '../../helpers/mutations.js';
import { AckMessage, decodeAck, isPlainAck, MAX_ACK_BOOTS, MAX_ACK_RANGES } from '../../../contract/ack.js';

const BOOT = 'boot-aaaaaaaa';

/** Acks as a collector sends them (AckBuilder.build), and at the schema's edges. */
const VALID: Array<[string, Record<string, unknown>]> = [
  ['one record', { v: 1, acks: [{ boot: BOOT, ranges: [[42, 42]] }] }],
  ['with batch', { v: 1, acks: [{ boot: BOOT, ranges: [[0, 9]] }], batch: 32 }],
  [
    'two boots, several ranges',
    {
      v: 1,
      acks: [
        {
          boot: BOOT,
          ranges: [
            [1, 3],
            [5, 5],
            [9, 12],
          ],
        },
        { boot: 'Zz_-0123456789', ranges: [[0, 0]] },
      ],
      batch: 1000,
    },
  ],
  ['rejected', { v: 1, acks: [], rejected: [{ boot: BOOT, seq: 7, reason: 'bad metrics.cpu.usage' }] }],
  ['no acks', { v: 1, acks: [] }],
  [
    'edge values',
    {
      v: 1,
      acks: [{ boot: 'b'.repeat(64), ranges: [[0, Number.MAX_SAFE_INTEGER]] }],
      rejected: [{ boot: 'b'.repeat(8), seq: Number.MAX_SAFE_INTEGER, reason: 'r'.repeat(64) }],
      batch: 1_000_000,
    },
  ],
  ['batch 1', { v: 1, acks: [{ boot: BOOT, ranges: [[2, 2]] }], batch: 1 }],
];

/** Wrong and hostile values put in place of each field in turn. */
const HOSTILE: unknown[] = [
  NaN,
  Infinity,
  -1,
  -0,
  0.5,
  2 ** 53,
  1_000_001,
  65,
  '1',
  '',
  'short',
  'b'.repeat(65),
  'bad boot!',
  'Đường-boot',
  null,
  true,
  {},
  [],
  [1],
  [1, 2, 3],
  [3, 1],
  JSON.parse('{"__proto__":{"polluted":1}}') as unknown,
];

describe('isPlainAck: the fast check of an ack agrees with zod', () => {
  it.each(VALID)('accepts %s, which zod returns unchanged', (_name, ack) => {
    const z = AckMessage.safeParse(ack);
    expect(z.success).toBe(true);
    expect(z.data).toStrictEqual(ack);
    expect(isPlainAck(ack)).toBe(true);
  });

  it('never accepts what zod refuses or changes (every field of every valid ack replaced, removed, or given a sibling)', () => {
    let cases = 0;
    let fastAccepted = 0;
    let zodAccepted = 0;
    const wrong: string[] = [];
    for (const [, base] of VALID) {
      for (const [name, ack] of mutations(base, {
        hostile: HOSTILE,
        extraKeys: ['extra', 'constructor', 'toString', 'hasOwnProperty', 'batch', 'rejected'],
        extraItem: true,
        tooLong: Math.max(MAX_ACK_RANGES, MAX_ACK_BOOTS, 256) + 1,
      })) {
        cases++;
        const z = AckMessage.safeParse(ack);
        if (z.success && isDeepStrictEqual(z.data, ack)) zodAccepted++;
        if (!isPlainAck(ack)) continue;
        fastAccepted++;
        // Accepted by the fast check: zod must accept it and give back the same object.
        if (!z.success) wrong.push(`${name}: zod refuses (${z.error.issues[0]?.message})`);
        else if (!isDeepStrictEqual(z.data, ack)) wrong.push(`${name}: zod changes it`);
      }
    }
    expect(wrong).toEqual([]);
    expect(cases).toBeGreaterThan(500);
    // The fast check takes every variant zod takes unchanged (none goes the slow way needlessly).
    expect(fastAccepted).toBe(zodAccepted);
    expect(fastAccepted).toBeGreaterThan(20);
  });
});

describe('decodeAck with the fast path gives what zod gave', () => {
  const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

  it('a valid ack: the same message as zod’s output', () => {
    for (const [, ack] of VALID) expect(decodeAck(enc(ack))).toStrictEqual(AckMessage.parse(ack));
  });

  it('an unknown key is still stripped and a malformed batch still reads as absent (slow path)', () => {
    const extra = decodeAck(enc({ v: 1, acks: [{ boot: BOOT, ranges: [[1, 1]], note: 'x' }], extra: true }));
    expect(extra).toStrictEqual({ v: 1, acks: [{ boot: BOOT, ranges: [[1, 1]] }] });
    const weird = decodeAck(enc({ v: 1, acks: [{ boot: BOOT, ranges: [[1, 1]] }], batch: 0 }));
    expect(weird?.acks).toHaveLength(1);
    expect(weird?.batch).toBeUndefined();
  });

  it('an invalid ack is still refused', () => {
    expect(decodeAck(enc({ v: 1, acks: [{ boot: BOOT, ranges: [[3, 1]] }] }))).toBeUndefined();
    expect(decodeAck(enc({ v: 2, acks: [] }))).toBeUndefined();
    expect(decodeAck(enc({ acks: [] }))).toBeUndefined();
    expect(decodeAck(enc('not json'))).toBeUndefined();
  });
});
