/**
 * The InfluxDB writer against a real VictoriaMetrics (line protocol on /api/v2/write, read
 * back with /api/v1/export): exact values, a 60 s SIGKILL outage, a SIGSTOP freeze, and a
 * full spool. VictoriaMetrics names a metric `<measurement>_<field>` with the tags as labels.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { InfluxWriter, type InfluxWriterOptions } from '../../collector/influx/influx-writer.js';
import { sampleLines } from '../../collector/influx/point-builder.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import type { SampleRow } from '../../collector/store/store.js';
import { VictoriaMetrics, type ExportedSeries } from '../helpers/victoria-metrics.js';
import { waitFor } from '../helpers/wait.js';

const T0 = Date.UTC(2026, 0, 1);
let dir: string;
const writers: InfluxWriter[] = [];
const vms: VictoriaMetrics[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canh-influx-vm-'));
});
afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop().catch(() => undefined);
  for (const v of vms.splice(0)) await v.destroy().catch(() => undefined);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function logSink(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

function newWriter(vm: VictoriaMetrics, name: string, over: Partial<InfluxWriterOptions> = {}, logger = pino({ level: 'silent' })): InfluxWriter {
  const w = new InfluxWriter(
    {
      url: vm.url,
      org: '',
      bucket: 'canh',
      batchLines: 5000,
      flushMs: 200,
      spoolDir: join(dir, name),
      spoolMaxBytes: 64 * 1024 * 1024,
      timeoutMs: 2000,
      maxQueueLines: 50_000,
      resendWindowMs: 30_000,
      retry: { minDelayMs: 200, maxDelayMs: 2000, factor: 2, jitterMs: 50 },
      drainOnStopMs: 2000,
      ...over,
    },
    { clock: systemClock, log: logger, metrics: new MetricsRegistry() },
  );
  writers.push(w);
  return w;
}

function sample(host: string, i: number): SampleRow {
  return {
    site: 'xa-test',
    host,
    boot: 'bootbootboot',
    seq: i,
    t: T0 + i * 15_000,
    tAgent: T0 + i * 15_000,
    sent: T0 + i * 15_000,
    received: T0 + i * 15_000,
    skewMs: 0,
    interval: 15,
    metrics: {
      cpu: { usage: (i % 100) + 0.5, load1: null, load5: null, load15: null, cores: 4 },
      mem: { total: 8_000_000_000, used: 1_000_000 + i, available: 7_000_000_000 - i, swapTotal: 0, swapUsed: 0 },
    },
  };
}

/** One cpu point per (host, i); its usage_pct encodes i. */
function cpuLine(host: string, i: number): string {
  return `cpu,host=${host},site=xa-test usage_pct=${i} ${T0 + i * 1000}`;
}

function byHost(series: ExportedSeries[], name: string): Map<string, ExportedSeries> {
  return new Map(series.filter((s) => s.metric.__name__ === name).map((s) => [s.metric.host!, s]));
}

async function cpuCount(vm: VictoriaMetrics): Promise<number> {
  const s = await vm.export('{__name__="cpu_usage_pct"}');
  return s.reduce((n, x) => n + x.values.length, 0);
}

describe('InfluxWriter → VictoriaMetrics', () => {
  it('(a) writes the points of N samples for 3 hosts with exact counts and values', async () => {
    const vm = await VictoriaMetrics.start();
    vms.push(vm);
    const w = newWriter(vm, 'a');
    await w.start();
    const N = 400;
    const hosts = ['pc-01', 'pc-02', 'pc-03'];
    for (let i = 0; i < N; i++) for (const h of hosts) w.write(sampleLines(sample(h, i)));
    await waitFor(() => w.stats().backlogPoints === 0 && w.stats().queuePoints === 0, { timeoutMs: 20_000, what: 'all written' });
    expect(w.stats().written).toBe(N * 3 * 2);
    const match = '{__name__=~"cpu_.*|mem_.*"}';
    // Rows become searchable within about a second of the write.
    await waitFor(async () => (await vm.export(match)).reduce((n, x) => n + x.values.length, 0) === N * 3 * 8, { timeoutMs: 30_000, what: 'all samples visible' });
    const series = await vm.export(match);
    // cpu: usage_pct, cores; mem: total, used, available, used_pct, swap_total, swap_used.
    expect(new Set(series.map((s) => s.metric.__name__))).toEqual(
      new Set(['cpu_usage_pct', 'cpu_cores', 'mem_total', 'mem_used', 'mem_available', 'mem_used_pct', 'mem_swap_total', 'mem_swap_used']),
    );
    expect(series).toHaveLength(8 * 3);
    for (const s of series) {
      expect(s.values, `${s.metric.__name__}{${s.metric.host}}`).toHaveLength(N);
      expect(s.metric.site).toBe('xa-test');
    }
    for (const h of hosts) {
      const usage = byHost(series, 'cpu_usage_pct').get(h)!;
      const used = byHost(series, 'mem_used').get(h)!;
      const order = usage.timestamps.map((t, k) => [t, k] as const).sort((x, y) => x[0] - y[0]);
      for (let i = 0; i < N; i++) {
        const [t, k] = order[i]!;
        expect(t).toBe(T0 + i * 15_000);
        expect(usage.values[k]).toBe((i % 100) + 0.5);
      }
      expect([...used.values].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => 1_000_000 + i));
    }
  });

  it('(b) SIGKILL for 60 s during a steady write: every point arrives exactly once', async () => {
    const vm = await VictoriaMetrics.start();
    vms.push(vm);
    const w = newWriter(vm, 'b');
    await w.start();
    const hosts = ['pc-01', 'pc-02', 'pc-03'];
    let i = 0;
    const tick = setInterval(() => {
      for (let k = 0; k < 10; k++, i++) for (const h of hosts) w.write(cpuLine(h, i));
    }, 100);
    try {
      await new Promise((r) => setTimeout(r, 4000));
      await vm.kill9();
      await new Promise((r) => setTimeout(r, 60_000));
      expect(w.stats().retries).toBeGreaterThan(0);
      await vm.restart();
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      clearInterval(tick);
    }
    const total = i;
    await waitFor(() => w.stats().backlogPoints === 0 && w.stats().queuePoints === 0, { timeoutMs: 30_000, what: 'backlog drained' });
    await waitFor(async () => (await cpuCount(vm)) === total * 3, { timeoutMs: 30_000, what: `${total * 3} points in VictoriaMetrics` });
    const series = byHost(await vm.export('{__name__="cpu_usage_pct"}'), 'cpu_usage_pct');
    for (const h of hosts) {
      const s = series.get(h)!;
      expect(s.timestamps).toHaveLength(total);
      expect(new Set(s.timestamps).size).toBe(total);
      expect([...s.values].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, k) => k));
    }
    expect(w.stats().dropped).toMatchObject({ spool_full: 0, rejected: 0, queue_full: 0, spool_error: 0 });
    // Rows VictoriaMetrics acknowledged but lost to the SIGKILL were sent again.
    expect(w.stats().resent).toBeGreaterThan(0);
  });

  it('(c) SIGSTOP for 15 s: write() stays instant, memory stays bounded, everything arrives after SIGCONT', async () => {
    const vm = await VictoriaMetrics.start();
    vms.push(vm);
    const maxQueueLines = 5000;
    const w = newWriter(vm, 'c', { maxQueueLines, batchLines: 1000, timeoutMs: 1000 });
    await w.start();
    let i = 0;
    let slowest = 0;
    let maxQueue = 0;
    const heap0 = process.memoryUsage().heapUsed;
    let heapMax = heap0;
    const tick = setInterval(() => {
      const t = performance.now();
      for (let k = 0; k < 200; k++, i++) w.write(cpuLine('pc-01', i));
      slowest = Math.max(slowest, performance.now() - t);
      maxQueue = Math.max(maxQueue, w.stats().queuePoints);
      heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
    }, 50);
    try {
      await new Promise((r) => setTimeout(r, 2000));
      vm.pause();
      await new Promise((r) => setTimeout(r, 15_000));
      vm.resume();
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      clearInterval(tick);
    }
    const total = i;
    expect(total).toBeGreaterThan(60_000);
    // 200 lines per call: well under a few ms even while the database is frozen.
    expect(slowest).toBeLessThan(50);
    expect(maxQueue).toBeLessThanOrEqual(2 * maxQueueLines + 1000);
    expect(w.stats().spooledOnly).toBeGreaterThan(0);
    // 60k+ lines of ~60 bytes would be several MB if all were held; allow GC slack.
    expect(heapMax - heap0).toBeLessThan(64 * 1024 * 1024);
    await waitFor(() => w.stats().backlogPoints === 0 && w.stats().queuePoints === 0, { timeoutMs: 30_000, what: 'backlog drained' });
    await waitFor(async () => (await cpuCount(vm)) === total, { timeoutMs: 30_000, what: `${total} points` });
    const s = (await vm.export('{__name__="cpu_usage_pct"}'))[0]!;
    expect(new Set(s.timestamps).size).toBe(total);
  });

  it('(d) spool full while VictoriaMetrics is down: the oldest points are dropped (counted, logged), the newest arrive', async () => {
    const vm = await VictoriaMetrics.start();
    vms.push(vm);
    const { logger, lines } = logSink();
    const w = newWriter(vm, 'd', { spoolMaxBytes: 64 * 1024, batchLines: 100, flushMs: 20 }, logger);
    await w.start();
    await vm.stop();
    const total = 5000;
    for (let b = 0; b < total / 100; b++) {
      for (let k = 0; k < 100; k++) w.write(cpuLine('pc-01', b * 100 + k));
      await w.flush();
    }
    const dropped = w.stats().dropped.spool_full;
    expect(dropped).toBeGreaterThan(0);
    expect(lines.some((l) => l.msg === 'influx spool full: dropped oldest unsent points' && l.reason === 'spool_full')).toBe(true);
    await vm.restart();
    await waitFor(() => w.stats().backlogPoints === 0, { timeoutMs: 30_000, what: 'backlog drained' });
    await waitFor(async () => (await cpuCount(vm)) === total - dropped, { timeoutMs: 30_000, what: `${total - dropped} points` });
    const s = (await vm.export('{__name__="cpu_usage_pct"}'))[0]!;
    const got = [...s.values].sort((x, y) => x - y);
    // Exactly the newest `total - dropped` points, contiguous.
    expect(got).toEqual(Array.from({ length: total - dropped }, (_, k) => dropped + k));
  });
});
