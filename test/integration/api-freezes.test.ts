/**
 * `GET /api/hosts/:site/:host/freezes` (issue 17 point 2) against a real collector in-process:
 * real SQLite, real HTTP, samples, freezes and disk checks through the real ingest. Each freeze
 * comes back with the cause its samples show and the figures; site scopes apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { topicFor, type MessageKind } from '../../contract/topics.js';
import { validMessage } from '../helpers/hostile-payloads.js';
import { rawRequest, type RawResponse } from '../helpers/http-request.js';

const A = 'xa-a';
const B = 'xa-b';
let dataDir: string;
let collector: Collector;
let base: string;
let admin: string;
let readA: string;
let seq = 0;
const NOW = Date.now();
const MIN = 60_000;

function feed(site: string, host: string, kind: MessageKind, t: number, over: Record<string, unknown> = {}): void {
  // Sent now (buffered, as an agent replays): a `sent` far behind the collector's clock would read as clock skew.
  const m = { ...validMessage(kind, site, host, ++seq, t, Date.now(), `boot-${host}`), ...over };
  const out = collector.ingest.handle(topicFor(site, host, kind), Buffer.from(JSON.stringify(m)));
  if (out.status !== 'accepted') throw new Error(`feed ${kind}: ${JSON.stringify(out)}`);
}

/** Samples every 15 s over [from, to] with this disk activity and paging. */
function samples(site: string, host: string, from: number, to: number, busyPct: number, swapInPs: number, cpu = 30): void {
  for (let t = from; t <= to; t += 15_000) {
    const base = validMessage('samples', site, host, 0, t, t) as { metrics: Record<string, unknown> };
    feed(site, host, 'samples', t, {
      metrics: {
        ...base.metrics,
        cpu: { usage: cpu, load1: 1, load5: 1, load15: 1, cores: 4 },
        diskio: [{ disk: '0 C:', busyPct, queue: busyPct > 90 ? 6.5 : 0.2 }],
        pressure: { memSomePct: null, memFullPct: null, swapInPs, swapOutPs: 0, hardFaultsPs: swapInPs / 4 },
      },
    });
  }
}

function freeze(site: string, host: string, start: number, durationMs: number, processes: unknown[] = []): void {
  feed(site, host, 'events', start + durationMs + 1000, {
    type: 'freeze',
    severity: 'warning',
    message: `the PC (or the agent) was unresponsive for ${durationMs / 1000} s`,
    start,
    end: start + durationMs,
    details: { durationMs, thresholdMs: 10_000, tickMs: 1000, uncertaintyMs: 1000 },
    processes,
  });
}

const call = (path: string, token: string): Promise<RawResponse> => rawRequest(`${base}${path}`, { method: 'GET', headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'canh-freezes-'));
  const announced: string[] = [];
  const config = CollectorConfigSchema.parse({
    dataDir,
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    sites: { [A]: { name: 'Xã A' }, [B]: { name: 'Xã B' } },
  });
  collector = await Collector.open(config, silentLogger(), { announce: (t) => void announced.push(t) });
  await collector.start();
  base = `http://127.0.0.1:${collector.http.port()}`;
  admin = /canh_[A-Za-z0-9_-]{43}/.exec(announced.join(''))![0];
  const r = await rawRequest(`${base}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}` },
    body: JSON.stringify({ name: 'đọc xã A', role: 'read', sites: [A] }),
  });
  readA = r.body.token as string;
  for (const site of [A, B]) feed(site, 'pc-01', 'status', NOW - 3 * 3_600_000);
  // Freeze 1 (3 h ago): the disk at 98% for the 2 minutes before.
  samples(A, 'pc-01', NOW - 3 * 3_600_000 - 5 * MIN, NOW - 3 * 3_600_000 + MIN, 98, 5);
  freeze(A, 'pc-01', NOW - 3 * 3_600_000, 40_000);
  // Freeze 2 (2 h ago): paging at 600 pages/s (and the disk busy with it).
  samples(A, 'pc-01', NOW - 2 * 3_600_000 - 5 * MIN, NOW - 2 * 3_600_000 + MIN, 95, 600);
  freeze(A, 'pc-01', NOW - 2 * 3_600_000, 25_000);
  // Freeze 3 (1 h ago): the CPU at 99%, one process taking it.
  samples(A, 'pc-01', NOW - 3_600_000 - 5 * MIN, NOW - 3_600_000 + MIN, 10, 2, 99);
  freeze(A, 'pc-01', NOW - 3_600_000, 15_000, [
    { name: 'VNPT-iOffice.exe', pid: 4412, cpuPct: 82, memBytes: 350 * 1048576 },
    { name: 'chrome.exe', pid: 880, cpuPct: 9, memBytes: 900 * 1048576 },
  ]);
  // Freeze 4 (30 min ago): all normal.
  samples(A, 'pc-01', NOW - 30 * MIN - 5 * MIN, NOW - 30 * MIN + MIN, 12, 1);
  freeze(A, 'pc-01', NOW - 30 * MIN, 12_000);
  // Site B's PC: one freeze, not to be seen by A's token.
  samples(B, 'pc-01', NOW - 20 * MIN - 3 * MIN, NOW - 20 * MIN, 99, 0);
  freeze(B, 'pc-01', NOW - 20 * MIN, 20_000);
});

afterAll(async () => {
  await collector?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /api/hosts/:site/:host/freezes', () => {
  it('newest first, each with the cause its samples show and the figures, in Vietnamese by default', async () => {
    const r = await call(`/api/hosts/${A}/pc-01/freezes`, readA);
    expect(r.status).toBe(200);
    const f = r.body.freezes as Array<{
      start: number;
      durationMs: number;
      cause: string;
      text: string;
      causes: Array<{ kind: string; evidence: Record<string, unknown> }>;
      processes: unknown[];
    }>;
    expect(f.map((x) => x.cause)).toEqual(['unknown', 'cpu_process', 'memory', 'disk_busy']);
    expect(f.map((x) => x.start)).toEqual([NOW - 30 * MIN, NOW - 3_600_000, NOW - 2 * 3_600_000, NOW - 3 * 3_600_000]);
    expect(f[3]!.text).toBe('ổ cứng quá tải (ổ 0 C: bận 98%, hàng đợi 6,5)');
    expect(f[3]!.durationMs).toBe(40_000);
    expect(f[2]!.causes.map((c) => c.kind)).toEqual(['memory', 'disk_busy']);
    expect(f[2]!.causes[0]!.evidence).toMatchObject({ swapInPs: 600, hardFaultsPs: 150 });
    expect(f[1]!.text).toBe('tiến trình VNPT-iOffice.exe chiếm CPU (CPU cả máy 99%, VNPT-iOffice.exe chiếm 90% trong số đó)');
    expect(f[1]!.processes).toHaveLength(2);
    expect(f[0]!.text).toMatch(/^chưa xác định nguyên nhân \(trước lúc treo: CPU 30%, ổ bận 12%/);
    const en = await call(`/api/hosts/${A}/pc-01/freezes?lang=en&limit=1`, readA);
    expect(en.body.freezes).toHaveLength(1);
    expect(en.body.freezes[0].text).toMatch(/^cause unknown/);
  });

  it('a range without freezes is empty; bad input is a 400 with reasons; an unknown PC a 404', async () => {
    const none = await call(`/api/hosts/${A}/pc-01/freezes?from=${NOW - 10 * MIN}&to=${NOW}`, readA);
    expect(none.body.freezes).toEqual([]);
    const bad = await call(`/api/hosts/${A}/pc-01/freezes?limit=1000&x=1`, readA);
    expect(bad.status).toBe(400);
    expect((bad.body.reasons as string[]).join('\n')).toMatch(/limit/);
    expect((await call(`/api/hosts/${A}/pc-99/freezes`, readA)).status).toBe(404);
  });

  it('site scopes: A’s token gets 403 for B’s PC; the province token sees it', async () => {
    expect((await call(`/api/hosts/${B}/pc-01/freezes`, readA)).status).toBe(403);
    const b = await call(`/api/hosts/${B}/pc-01/freezes`, admin);
    expect(b.status).toBe(200);
    expect(b.body.freezes.map((f: { cause: string }) => f.cause)).toEqual(['disk_busy']);
  });
});
