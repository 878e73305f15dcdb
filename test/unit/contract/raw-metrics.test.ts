import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeMessage, decodeMessages } from '../../../contract/decode.js';
import { rawMetricsTexts } from '../../../contract/raw-metrics.js';
import { topicFor } from '../../../contract/topics.js';
import { prng as rng } from '../../helpers/hostile-payloads.js';

const sample = JSON.parse(readFileSync(new URL('../../fixtures/contract/sample-valid.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const TOPIC = topicFor(sample.site as string, sample.host as string, 'samples');

/** Keys as they appear in the text (already JSON-escaped): the record's own, escaped spellings of them, and look-alikes. */
const KEYS = ['metrics', 'metr\\u0069cs', '\\u006detrics', 'metrics ', 'Metrics', 'seq', 'v', 'records', 'x\\"metrics', 'a\\\\', 'm\\u00e9trics', 'q', ''];
/** String contents (JSON-escaped) that look like structure. */
const STRINGS = ['', 'metrics', '\\"metrics\\":{', '}]},{', '\\\\', '\\\\\\"', '[{\\"', 'q\\":', ' ,: ', '\\u0022', '\\u0111i\\u1ec3m', '\\n\\t'];

/** Random JSON text, with whitespace between tokens when `ws` (the scanner must then give up). */
function genValue(r: () => number, depth: number, ws: boolean): string {
  const sp = () => (ws && r() < 0.15 ? [' ', '\n', '\t', '\r'][Math.floor(r() * 4)]! : '');
  const k = r();
  if (depth > 3 || k < 0.35) {
    const s = r();
    if (s < 0.3) return String(Math.round((r() - 0.3) * 1e6) / 100);
    if (s < 0.4) return ['true', 'false', 'null', '-0', '1e3', '0.10'][Math.floor(r() * 6)]!;
    return `"${STRINGS[Math.floor(r() * STRINGS.length)]}"`;
  }
  if (k < 0.6) {
    const items = Array.from({ length: Math.floor(r() * 4) }, () => sp() + genValue(r, depth + 1, ws) + sp());
    return `[${items.join(',')}]`;
  }
  return genObject(r, depth + 1, ws, 4);
}

function genObject(r: () => number, depth: number, ws: boolean, maxKeys: number): string {
  const sp = () => (ws && r() < 0.15 ? ' ' : '');
  const n = Math.floor(r() * (maxKeys + 1));
  const entries = Array.from({ length: n }, () => `${sp()}"${KEYS[Math.floor(r() * KEYS.length)]}"${sp()}:${sp()}${genValue(r, depth, ws)}${sp()}`);
  return `{${entries.join(',')}}`;
}

/** A record: usually one `metrics` key among others, sometimes none, two or an escaped one. */
function genRecord(r: () => number, ws: boolean): string {
  const body = genObject(r, 1, ws, 3).slice(1, -1);
  const parts = body ? [body] : [];
  const m = r();
  if (m < 0.8) parts.splice(Math.floor(r() * (parts.length + 1)), 0, `"metrics":${genValue(r, 1, ws)}`);
  if (m > 0.7) parts.push(`"metrics":${genValue(r, 1, ws)}`);
  return `{${parts.join(',')}}`;
}

function genMessage(r: () => number): { text: string; batch: boolean } {
  const ws = r() < 0.2;
  if (r() < 0.3) return { text: genRecord(r, ws), batch: false };
  const elements = Array.from({ length: 1 + Math.floor(r() * 5) }, () => (r() < 0.85 ? genRecord(r, ws) : genValue(r, 2, ws)));
  const envelope = [`"v":1`, `"records":[${elements.join(',')}]`];
  const e = r();
  if (e < 0.1)
    envelope.unshift(`"v":[${genRecord(r, ws)}]`); // a duplicate key before: the last one wins
  else if (e < 0.2) envelope.push(`"records":[${genRecord(r, ws)}]`);
  else if (e < 0.25) envelope.unshift(`"recor\\u0064s":[${genRecord(r, ws)}]`);
  else if (e < 0.3) envelope.reverse();
  return { text: `{${envelope.join(',')}}`, batch: true };
}

const raw = (text: string, batch: boolean) => rawMetricsTexts(text, Buffer.from(text), batch);

describe('the metrics of a sample record as the agent wrote them (contract/raw-metrics.ts)', () => {
  it('gives a record its text only when JSON.parse of it is the parsed record’s metrics (20,000 generated messages)', () => {
    const r = rng(12);
    let given = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const { text, batch } = genMessage(r);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const records = batch ? parsed.records : [parsed];
      const texts = rawMetricsTexts(text, Buffer.from(text), batch);
      if (!Array.isArray(records)) continue;
      if (texts === undefined) {
        refused++;
        continue;
      }
      expect(texts.length, text).toBeLessThanOrEqual(records.length);
      records.forEach((rec, k) => {
        const raw = texts[k];
        if (raw === undefined) return;
        given++;
        expect(typeof rec === 'object' && rec !== null && Object.hasOwn(rec, 'metrics'), text).toBe(true);
        expect(isDeepStrictEqual(JSON.parse(raw), (rec as Record<string, unknown>).metrics), `${text}\n→ ${raw}`).toBe(true);
      });
    }
    // The generator reaches both answers often (else the property says little).
    expect(given).toBeGreaterThan(10_000);
    expect(refused).toBeGreaterThan(1_000);
  });

  it('gives every record of compact JSON with one metrics key its text, whatever the strings in it hold', () => {
    const r = rng(7);
    for (let i = 0; i < 2_000; i++) {
      const recs = Array.from({ length: 1 + Math.floor(r() * 5) }, () => ({
        v: 1,
        note: STRINGS[Math.floor(r() * STRINGS.length)]!.replace(/\\/g, ''),
        metrics: JSON.parse(genValue(r, 0, false)) as unknown,
        seq: i,
      }));
      const text = JSON.stringify({ v: 1, records: recs });
      const one = JSON.stringify(recs[0]);
      // Not ASCII: refused whole (the scan's byte offsets would not be the text's).
      const ascii = (t: string) => Buffer.byteLength(t) === t.length;
      expect(raw(text, true)).toEqual(ascii(text) ? recs.map((x) => JSON.stringify(x.metrics)) : undefined);
      expect(raw(one, false)).toEqual(ascii(one) ? [JSON.stringify(recs[0]!.metrics)] : undefined);
    }
  });

  it('refuses the ambiguous: whitespace, an escaped key, two metrics keys, two records keys', () => {
    expect(raw('{"metrics":{"a":1}}', false)).toEqual(['{"a":1}']);
    expect(raw('{"metrics": {"a":1}}', false)).toBeUndefined();
    expect(raw('{"metrics":{"a":1},"metr\\u0069cs":{"a":2}}', false)).toEqual([undefined]);
    expect(raw('{"metrics":{"a":1},"metrics":{"a":2}}', false)).toEqual([undefined]);
    expect(raw('{"v":1,"records":[{"metrics":1}],"records":[{"metrics":2}]}', true)).toBeUndefined();
    expect(raw('{"v":1,"recor\\u0064s":[{"metrics":1}]}', true)).toBeUndefined();
    // A character that is not ASCII anywhere: the byte offsets are not the text's.
    expect(raw('{"metrics":{"a":"điểm"}}', false)).toBeUndefined();
    expect(raw('{"metrics":{"a":"\\u0111i\\u1ec3m"}}', false)).toEqual(['{"a":"\\u0111i\\u1ec3m"}']);
    // Elements that are not records keep their place; records inside other values are not records.
    expect(raw('{"v":[{"metrics":0}],"records":[1,{"metrics":{"b":[2]}},"x",{"metrics":"3"}]}', true)).toEqual([undefined, '{"b":[2]}', undefined, '"3"']);
  });

  it('the decoder attaches the text to a sample it took unchanged, not to one zod copied', () => {
    const compact = JSON.stringify(sample);
    const one = decodeMessage(TOPIC, Buffer.from(compact));
    expect(one.ok && one.kind === 'samples' && one.metricsJson).toBe(JSON.stringify(sample.metrics));
    // An unknown key zod strips: the stored metrics are zod's copy, serialised by the store.
    const stripped = { ...sample, metrics: { ...(sample.metrics as object), extra: 1 } };
    const d = decodeMessages(TOPIC, Buffer.from(JSON.stringify({ v: 1, records: [sample, stripped, { ...sample, seq: 99 }] })));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.records.map((x) => (x.ok ? (x.metricsJson ?? 'none') : 'rejected'))).toEqual([JSON.stringify(sample.metrics), 'none', JSON.stringify(sample.metrics)]);
    // Not compact: no text (the store serialises), the record is still accepted.
    const spaced = decodeMessage(TOPIC, Buffer.from(JSON.stringify(sample, null, 1)));
    expect(spaced.ok && spaced.metricsJson).toBeUndefined();
  });
});
