import { describe, expect, it } from 'vitest';
// @ts-expect-error: a JavaScript module of the benchmarks, without types
import { sampleBody, sampleText } from '../../../bench/sim-agent.mjs';
import { decodeMessage } from '../../../contract/decode.js';

type Agent = { site: string; host: string; osBoot: number };
const body = sampleBody as (a: Agent, boot: string, seq: number, t: number, intervalS: number) => Record<string, unknown>;
const text = sampleText as (a: Agent, boot: string, seq: number, t: number, intervalS: number, sent: number) => string;

describe('bench sim-agent: the sample written as text', () => {
  it('is byte for byte JSON.stringify of the sample object (so the benchmarks load the collector with the same records)', () => {
    for (let i = 0; i < 2000; i++) {
      const a = { site: `xa-${i % 37}`, host: `pc-${i}`, osBoot: 1.7e12 + i * 7919 };
      const boot = `b${(i * 31).toString(36)}AbCdEf12`;
      const seq = (i * 13) % 100_000;
      const t = 1.76e12 + i * 15_000;
      const sent = t + (i % 1000);
      expect(text(a, boot, seq, t, 15, sent)).toBe(JSON.stringify({ ...body(a, boot, seq, t, 15), sent }));
    }
  });

  it('is a sample the collector accepts', () => {
    const a = { site: 'xa-a', host: 'pc-1', osBoot: Date.now() - 3600e3 };
    const now = Date.now();
    const d = decodeMessage('canh/v1/xa-a/pc-1/samples', Buffer.from(text(a, 'boot-0001', 7, now, 15, now)));
    expect(d.ok).toBe(true);
  });
});
