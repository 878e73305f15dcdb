/**
 * Issue 13 item 7: the board's "Kiểm tra dịch vụ web" came and went with each sample, as
 * the agent probes once a minute and samples every 15 s. The last result of each host,
 * fed from ingest, stands in for samples without one.
 */
import { describe, expect, it } from 'vitest';
import type { HttpProbeResult } from '../../../../../contract/schemas.js';
import { LastWebChecks, WEB_CHECK_KEEP_MS } from '../../../../../collector/http/api/last-web-checks.js';
import type { StoredSample } from '../../../../../collector/store/store.js';

const probe = (ok: boolean, error?: string): HttpProbeResult =>
  ({ name: 'dichvucong', url: 'https://dichvucong.gov.vn/', ok, status: ok ? 200 : null, totalMs: 12, ...(error ? { error } : {}) }) as HttpProbeResult;

function sample(host: string, t: number, http?: HttpProbeResult[]): StoredSample {
  return {
    site: 'xa-a',
    host,
    boot: 'b',
    seq: t,
    t,
    received: t,
    tAgent: t,
    sent: t,
    skewMs: 0,
    interval: 15,
    metrics: { cpu: { usage: 5 }, ...(http ? { http } : {}) },
  } as unknown as StoredSample;
}

describe('LastWebChecks', () => {
  it('fills a sample without web checks with the last result ingest stored for that host', () => {
    const w = new LastWebChecks();
    w.onStored({ kind: 'samples', row: sample('pc-01', 1_000, [probe(false, 'ENOTFOUND')]) });
    const filled = w.fill('xa-a', 'pc-01', sample('pc-01', 16_000), 16_000);
    expect(filled?.metrics.http).toEqual([probe(false, 'ENOTFOUND')]);
    expect(filled?.t).toBe(16_000);
    expect(filled?.metrics.cpu).toEqual({ usage: 5 });
  });

  it("keeps hosts apart, and a sample's own result wins", () => {
    const w = new LastWebChecks();
    w.onStored({ kind: 'samples', row: sample('pc-01', 1_000, [probe(false, 'ENOTFOUND')]) });
    expect(w.fill('xa-a', 'pc-02', sample('pc-02', 2_000), 2_000)?.metrics.http).toBeUndefined();
    expect(w.fill('xa-a', 'pc-01', sample('pc-01', 3_000, [probe(true)]), 3_000)?.metrics.http).toEqual([probe(true)]);
    expect(w.fill('xa-a', 'pc-01', sample('pc-01', 4_000), 4_000)?.metrics.http).toEqual([probe(true)]);
  });

  it('does not let an older replayed sample replace a newer result', () => {
    const w = new LastWebChecks();
    w.onStored({ kind: 'samples', row: sample('pc-01', 10_000, [probe(true)]) });
    w.onStored({ kind: 'samples', row: sample('pc-01', 5_000, [probe(false, 'ETIMEDOUT')]) });
    expect(w.fill('xa-a', 'pc-01', sample('pc-01', 11_000), 11_000)?.metrics.http).toEqual([probe(true)]);
  });

  it('drops a result older than the keep time', () => {
    const w = new LastWebChecks();
    w.onStored({ kind: 'samples', row: sample('pc-01', 1_000, [probe(true)]) });
    const late = 1_000 + WEB_CHECK_KEEP_MS + 1;
    expect(w.fill('xa-a', 'pc-01', sample('pc-01', late), late)?.metrics.http).toBeUndefined();
    expect(w.size).toBe(0);
  });

  it('ignores events and status messages, and remembers at most maxHosts hosts (oldest first out)', () => {
    const w = new LastWebChecks(2);
    w.onStored({ kind: 'events', row: { site: 'xa-a', host: 'pc-01' } } as never);
    expect(w.size).toBe(0);
    for (const [i, h] of ['pc-01', 'pc-02', 'pc-03'].entries()) w.onStored({ kind: 'samples', row: sample(h, 1_000 + i, [probe(true)]) });
    expect(w.size).toBe(2);
    expect(w.fill('xa-a', 'pc-01', sample('pc-01', 5_000), 5_000)?.metrics.http).toBeUndefined();
    expect(w.fill('xa-a', 'pc-03', sample('pc-03', 5_000), 5_000)?.metrics.http).toEqual([probe(true)]);
  });
});
