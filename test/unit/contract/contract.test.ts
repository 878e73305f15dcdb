import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { correctSkew, decodeMessage, MAX_PAYLOAD_BYTES, parseTopic, slugifyId, topicFor } from '../../../contract/index.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/contract/${name}`, import.meta.url));
const json = (name: string) => JSON.parse(fixture(name).toString('utf8')) as Record<string, unknown>;
const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

const SAMPLE_TOPIC = topicFor('xa-an-binh', 'pc-motcua-01', 'samples');

describe('topics', () => {
  it('builds and parses the versioned layout', () => {
    expect(SAMPLE_TOPIC).toBe('canh/v1/xa-an-binh/pc-motcua-01/samples');
    expect(parseTopic(SAMPLE_TOPIC)).toEqual({ site: 'xa-an-binh', host: 'pc-motcua-01', kind: 'samples' });
  });
  it.each(['canh/v2/a/b/samples', 'canh/v1/a/b/metrics', 'canh/v1/A/b/samples', 'canh/v1/a/b/c/samples', 'canh/v1/a/+/samples', 'canh/v1//b/samples'])('rejects %s', (t) =>
    expect(parseTopic(t)).toBeUndefined(),
  );
  it('slugifies Vietnamese hostnames', () => {
    expect(slugifyId('PC-Kế-Toán_01.local')).toBe('pc-ke-toan_01-local');
    expect(slugifyId('Đường')).toBe('duong');
    expect(slugifyId('***')).toBe('host');
  });
});

describe('golden messages (valid)', () => {
  it.each([
    ['sample-valid.json', 'samples'],
    ['sample-unavailable.json', 'samples'],
    ['event-valid.json', 'events'],
    ['inventory-valid.json', 'inventory'],
    ['status-valid.json', 'status'],
  ] as const)('%s decodes as %s', (file, kind) => {
    const msg = json(file);
    const res = decodeMessage(topicFor(msg.site as string, msg.host as string, kind), fixture(file));
    expect(res.ok, JSON.stringify(res)).toBe(true);
    if (res.ok) expect(res.kind).toBe(kind);
  });
  it('keeps Vietnamese text intact', () => {
    const res = decodeMessage(topicFor('xa-an-binh', 'pc-motcua-01', 'inventory'), fixture('inventory-valid.json'));
    expect(res.ok && res.kind === 'inventory' && res.message.hostname).toBe('PC-MỘT-CỬA-01');
  });
});

describe('golden messages (invalid) are rejected with a reason', () => {
  const base = json('sample-valid.json');
  const cases: Array<[string, string | Buffer, string, string?]> = [
    ['not JSON', '{"v":1,', 'bad_json'],
    ['JSON array', '[1,2]', 'bad_json'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'bad_encoding'],
    ['unknown version', JSON.stringify({ ...base, v: 2 }), 'unknown_version'],
    ['missing version', JSON.stringify({ ...base, v: undefined }), 'unknown_version'],
    ['cpu usage > 100', JSON.stringify({ ...base, metrics: { cpu: { usage: 140, load1: 0, load5: 0, load15: 0, cores: 2 } } }), 'schema'],
    ['seq negative', JSON.stringify({ ...base, seq: -1 }), 'schema'],
    ['seq as string', JSON.stringify({ ...base, seq: '42' }), 'schema'],
    ['NaN (null) usage', JSON.stringify({ ...base, metrics: { cpu: { usage: NaN, load1: 0, load5: 0, load15: 0, cores: 2 } } }), 'schema'],
    ['huge number', JSON.stringify(base).replace('"seq":42', '"seq":1e400'), 'schema'],
    ['far-future time', JSON.stringify({ ...base, t: Date.UTC(2200, 0, 1), sent: Date.UTC(2200, 0, 1) }), 'schema'],
    ['far-past time', JSON.stringify({ ...base, t: 0, sent: 0 }), 'schema'],
    ['sent before t', JSON.stringify({ ...base, sent: (base.t as number) - 3_600_000 }), 'time_inconsistent'],
    ['sample older than the outbox bound', JSON.stringify({ ...base, t: (base.sent as number) - 40 * 86_400_000 }), 'time_inconsistent'],
    ['payload host differs from topic', JSON.stringify({ ...base, host: 'pc-khac' }), 'identity_mismatch'],
    ['bad boot id', JSON.stringify({ ...base, boot: 'x' }), 'schema'],
    [
      'too many disks',
      JSON.stringify({ ...base, metrics: { disks: Array.from({ length: 65 }, (_, i) => ({ mount: `/m${i}`, total: 1, used: 0, free: 1, usedPct: 0 })) } }),
      'schema',
    ],
    ['oversized', JSON.stringify({ ...base, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) }), 'too_large'],
  ];
  it.each(cases)('%s', (_name, payload, reason) => {
    const res = decodeMessage(SAMPLE_TOPIC, typeof payload === 'string' ? enc(payload) : payload);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toBe(reason);
  });
  it('rejects a foreign topic', () => {
    const res = decodeMessage('other/topic', enc(base));
    expect(res.ok === false && res.reason).toBe('bad_topic');
  });
  it('never echoes payload content in the detail', () => {
    const res = decodeMessage(SAMPLE_TOPIC, enc({ ...base, site: '<script>alert(1)</script>' }));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.detail).not.toContain('<script>');
  });
});

describe('clock skew', () => {
  it('keeps times within tolerance', () => {
    expect(correctSkew(1000, 2000, 2500, 60_000)).toEqual({ t: 1000, skewMs: 500, corrected: false });
  });
  it('shifts a sample from an agent whose clock is 2 h behind, keeping its age', () => {
    const received = Date.UTC(2026, 10, 24, 3, 0, 0);
    const agentNow = received - 2 * 3600_000;
    const r = correctSkew(agentNow - 30_000, agentNow, received, 60_000);
    expect(r.corrected).toBe(true);
    expect(r.t).toBe(received - 30_000);
    expect(r.skewMs).toBe(2 * 3600_000);
  });
});

describe('rejection details never repeat sender-chosen text', () => {
  it('masks record keys chosen by the sender', () => {
    const t = Date.now();
    const ev = {
      v: 1,
      site: 's',
      host: 'h',
      boot: 'bootbootb',
      seq: 1,
      t,
      sent: t,
      type: 'agent_start',
      severity: 'info',
      message: 'x',
      details: { ['SECRET-' + 'k'.repeat(70)]: 1 },
    };
    const res = decodeMessage(topicFor('s', 'h', 'events'), enc(ev));
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.reason).toBe('schema');
      expect(res.detail).not.toContain('SECRET');
      expect(res.detail).toContain('details.<key>');
    }
  });
});
