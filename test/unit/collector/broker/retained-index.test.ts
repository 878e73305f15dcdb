import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { indexedMemoryPersistence, isTopicFilterWildcard } from '../../../../collector/broker/retained-index.js';

type P = ReturnType<typeof indexedMemoryPersistence>;
const stock = createRequire(import.meta.url)('aedes-persistence') as () => P;

async function topics(stream: Readable): Promise<string[]> {
  const out: string[] = [];
  for await (const p of stream) out.push(`${(p as { topic: string }).topic}=${(p as { payload: Buffer }).payload.toString()}`);
  return out.sort();
}

/** As aedes stores a retained PUBLISH (the promise form: the callback form waits for the broker's setup). */
async function store(p: P, topic: string, payload: string): Promise<void> {
  await p.storeRetained({ topic, payload: Buffer.from(payload) });
}

describe('indexedMemoryPersistence (retained messages by topic)', () => {
  it('tells filters with wildcards', () => {
    expect(isTopicFilterWildcard('canh/v1/xa-1/pc-1/ack')).toBe(false);
    expect(isTopicFilterWildcard('canh/v1/+/pc-1/ack')).toBe(true);
    expect(isTopicFilterWildcard('canh/#')).toBe(true);
  });

  it('answers every SUBSCRIBE as the stock persistence does: exact filters, wildcards, replaced and cleared retained messages', async () => {
    const a = indexedMemoryPersistence();
    const b = stock();
    const writes: Array<[string, string]> = [];
    for (let s = 0; s < 5; s++)
      for (let h = 0; h < 20; h++) writes.push([`canh/v1/xa-${s}/pc-${h}/status`, `online-${s}-${h}`], [`canh/v1/xa-${s}/pc-${h}/config`, `cfg-${s}-${h}`]);
    writes.push(['canh/v1/xa-1/pc-3/status', 'offline-1-3']); // a will replaces the birth
    writes.push(['canh/v1/xa-2/pc-4/config', '']); // an empty retained payload clears it
    writes.push(['$SYS/x/status', 'sys']);
    for (const [t, v] of writes) {
      await store(a, t, v);
      await store(b, t, v);
    }
    const cases: string[][] = [
      ['canh/v1/xa-1/pc-3/status'],
      ['canh/v1/xa-1/pc-3/status', 'canh/v1/xa-1/pc-3/config', 'canh/v1/xa-1/pc-3/ack'],
      ['canh/v1/xa-2/pc-4/config'],
      ['canh/v1/xa-9/pc-1/status'],
      ['canh/v1/xa-0/pc-0/status', 'canh/v1/xa-0/pc-0/status'],
      ['canh/v1/+/pc-3/status'],
      ['canh/v1/xa-1/#', 'canh/v1/xa-2/pc-0/config'],
      ['#'],
      ['$SYS/x/status'],
    ];
    for (const filters of cases) {
      const got = await topics(a.createRetainedStreamCombi(filters));
      const want = [...new Set(await topics(b.createRetainedStreamCombi(filters)))].sort();
      expect(got, filters.join(' ')).toEqual(want);
      expect(await topics(a.createRetainedStream(filters[0]!)), filters[0]).toEqual(await topics(b.createRetainedStream(filters[0]!)));
    }
    expect(await topics(a.createRetainedStreamCombi(['canh/v1/xa-1/pc-3/status']))).toEqual(['canh/v1/xa-1/pc-3/status=offline-1-3']);
    expect(await topics(a.createRetainedStreamCombi(['canh/v1/xa-2/pc-4/config']))).toEqual([]);
  });
});
