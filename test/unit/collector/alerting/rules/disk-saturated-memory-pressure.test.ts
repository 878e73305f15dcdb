/**
 * disk_saturated and memory_pressure (issue 17 point 2) on recorded series: the Windows
 * performance counters and the Linux PSI/vmstat readings the agent parses (test/fixtures/os),
 * turned into samples as the collector stores them; then through real ingest, SQLite and the
 * alert engine with a fake clock, in and out of working hours.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePsiMemory, parseVmstat, parseWindowsPerf, vmstatRates } from '../../../../../agent/platform/disk-pressure-parsers.js';
import { AlertService } from '../../../../../collector/alerting/alert-service.js';
import type { Notification, NotificationSink } from '../../../../../collector/alerting/alert-types.js';
import { AlertingConfigSchema } from '../../../../../collector/alerting/alerting-config.js';
import { reduceMetrics, type WindowSample } from '../../../../../collector/alerting/metric-windows.js';
import { Ingest } from '../../../../../collector/ingest/ingest.js';
import { siteDirectory, SiteSettingsSchema } from '../../../../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore } from '../../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../../common/log.js';
import { MetricsRegistry } from '../../../../../common/metrics-registry.js';
import type { SampleMetrics } from '../../../../../contract/schemas.js';
import { topicFor } from '../../../../../contract/topics.js';
import { fixtureText } from '../../../agent/fake-system-info.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';
import { NOW, rule, ruleContext } from '../../../../helpers/rule-context.js';

const perf = parseWindowsPerf(fixtureText('windows/disk-health/perf-counters.json'));
/** The recorded Windows counters (disk 0 C: 97% busy, queue 7; 412 pages in/s, 96 hard faults/s), scaled. */
function windows(busyScale: number, pagingScale: number): SampleMetrics {
  return {
    diskio: perf.disks.map((d) => ({ ...d, busyPct: Math.min(100, d.busyPct * busyScale) })),
    pressure: { ...perf.pressure, swapInPs: perf.pressure.swapInPs! * pagingScale, hardFaultsPs: perf.pressure.hardFaultsPs! * pagingScale },
  };
}
/** A series of samples every 15 s over the last `minutes`, as the alert windows reduce them. */
function series(minutes: number, metrics: (i: number) => SampleMetrics): WindowSample[] {
  const n = (minutes * 60) / 15;
  return Array.from({ length: n }, (_, i) => reduceMetrics(NOW - (n - 1 - i) * 15_000, metrics(i)));
}

describe('disk_saturated rule', () => {
  it('fires on the recorded Windows counters (disk 0 C: 97% busy), naming the disk, the queue and what it means', () => {
    const o = rule('disk_saturated')(ruleContext({ samples: { pc1: series(10, () => windows(1, 0)) } }))[0]!;
    expect(o).toMatchObject({ rule: 'disk_saturated', host: 'pc1', condition: 'firing', value: 97 });
    expect(o.summary.vi).toBe('Ổ cứng 0 C: bận 97% trung bình 5 phút, hàng đợi 7 yêu cầu (ngưỡng 90%): máy chậm, mở và lưu hồ sơ phải chờ');
    expect(o.summary.en).toBe('Disk 0 C: 97% busy over 5 min, queue 7 requests (limit 90%): the PC is slow, opening and saving files waits');
    expect(o.hint?.vi).toContain('thay SSD');
  });

  it('the mean of the busiest disk over the window, with a hysteresis band; short bursts do not fire', () => {
    const at = (scale: number) => rule('disk_saturated')(ruleContext({ samples: { pc1: series(10, () => windows(scale, 0)) } }))[0]!.condition;
    expect([at(1), at(0.8), at(0.5)]).toEqual(['firing', 'hold', 'recovered']); // 97%, 77.6%, 48.5%
    // 100% for one minute in five (Windows Update starting): mean 60%, recovered.
    const burst = series(5, (i) => windows(i >= 16 ? 1.1 : 0.5, 0));
    expect(rule('disk_saturated')(ruleContext({ samples: { pc1: burst } }))[0]!.condition).toBe('recovered');
    // Configurable threshold and window.
    expect(rule('disk_saturated', { busyPct: 98, recoveryPct: 60 })(ruleContext({ samples: { pc1: series(10, () => windows(1, 0)) } }))[0]!.condition).toBe('hold');
  });

  it('an older agent without diskio is not judged', () => {
    expect(rule('disk_saturated')(ruleContext({ samples: { pc1: series(10, () => ({ cpu: { usage: 50, load1: 1, load5: 1, load15: 1, cores: 4 } })) } }))).toEqual([]);
  });
});

describe('memory_pressure rule', () => {
  it('Windows: paging in and hard faults from the recorded counters (no PSI there)', () => {
    const o = rule('memory_pressure')(ruleContext({ samples: { pc1: series(10, () => windows(0.2, 1)) } }))[0]!;
    expect(o).toMatchObject({ rule: 'memory_pressure', condition: 'firing', value: 412 });
    expect(o.summary.vi).toBe(
      'Thiếu RAM trung bình 5 phút: đọc lại 412 trang/giây từ ổ cứng (ngưỡng 200); 96 lỗi trang cứng/giây (ngưỡng 150). Máy phải dùng ổ cứng thay RAM nên chậm, dễ treo',
    );
    expect(o.hint?.vi).toContain('nâng RAM');
    const at = (scale: number) => rule('memory_pressure')(ruleContext({ samples: { pc1: series(10, () => windows(0.2, scale)) } }))[0]!.condition;
    expect([at(0.4), at(0.2)]).toEqual(['hold', 'recovered']); // 165 pages/s: under 200 but over half of it; 82: under half
    // Hard faults alone (a PC reading its page file without Pages Input counted) fire too.
    const faults = series(10, () => ({ pressure: { memSomePct: null, memFullPct: null, swapInPs: null, swapOutPs: null, hardFaultsPs: 400 } }));
    expect(rule('memory_pressure')(ruleContext({ samples: { pc1: faults } }))[0]).toMatchObject({ condition: 'firing', value: 400 });
  });

  it('Linux: PSI memory some from /proc/pressure/memory, swap-in from /proc/vmstat (recorded readings)', () => {
    const idle = parsePsiMemory(fixtureText('linux/proc-pressure-memory.txt'));
    const rates = vmstatRates(parseVmstat(fixtureText('linux/proc-vmstat.1.txt')), parseVmstat(fixtureText('linux/proc-vmstat.2.txt')), 15_000);
    const quiet = series(10, () => ({ pressure: { memSomePct: idle.some, memFullPct: idle.full, ...rates } }));
    expect(rule('memory_pressure')(ruleContext({ samples: { pc1: quiet } }))[0]!.condition).toBe('recovered');
    // The same kernel under pressure: PSI lines as /proc/pressure/memory writes them.
    const busy = parsePsiMemory('some avg10=23.51 avg60=18.02 avg300=6.10 total=9912345\nfull avg10=4.02 avg60=2.00 avg300=0.50 total=1234567\n');
    const o = rule('memory_pressure')(ruleContext({ samples: { pc1: series(10, () => ({ pressure: { memSomePct: busy.some, memFullPct: busy.full, ...rates } })) } }))[0]!;
    expect(o.condition).toBe('firing');
    expect(o.summary.vi).toContain('chờ bộ nhớ 23,5% thời gian (PSI, ngưỡng 10%)');
    expect(o.summary.en).toContain('stalled on memory 23.5% of the time (PSI, limit 10%)');
  });
});

class MemorySink implements NotificationSink {
  sent: Notification[] = [];
  enqueue(n: Notification): void {
    this.sent.push(n);
  }
}

describe('disk_saturated and memory_pressure through real ingest, SQLite and the engine (fake clock)', () => {
  const ict = (iso: string) => Date.parse(`${iso}+07:00`);
  const recorded = JSON.parse(readFileSync(new URL('../../../../fixtures/contract/sample-disk-pressure.json', import.meta.url), 'utf8')) as { metrics: SampleMetrics };

  function run(start: number, minutes: number) {
    const clock = new FakeClock(start);
    const db = openDatabase(':memory:');
    const store = new SqliteStore(db, ':memory:');
    const sink = new MemorySink();
    const sites = siteDirectory({ 'xa-a': SiteSettingsSchema.parse({ name: 'UBND xã Tân Phú' }) }, SiteSettingsSchema.parse({}));
    const service = new AlertService({
      config: AlertingConfigSchema.parse({ evaluateSeconds: 15 }),
      db,
      store,
      sites,
      clock,
      log: silentLogger(),
      sink,
      metrics: new MetricsRegistry(),
    });
    const ingest = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), onStored: (m) => service.onStored(m) });
    let seq = 0;
    const send = (kind: 'samples' | 'status', body: Record<string, unknown>) => {
      const t = clock.now();
      const r = ingest.handle(topicFor('xa-a', 'pc1', kind), Buffer.from(JSON.stringify({ v: 1, site: 'xa-a', host: 'pc1', boot: 'boot0001', seq: ++seq, t, sent: t, ...body })));
      if (r.status !== 'accepted') throw new Error(JSON.stringify(r));
    };
    const firstAt: number[] = [];
    return {
      async go() {
        await service.start();
        send('status', { state: 'online', hostname: 'PC1', agentVersion: '0.1.0' });
        for (let i = 0; i < (minutes * 60) / 15; i++) {
          // The recorded CPU, memory, disk activity and pressure (its full C: and failing ping belong to other rules).
          const { cpu, mem, diskio, pressure } = recorded.metrics;
          send('samples', { interval: 15, metrics: { cpu, mem, diskio, pressure } });
          clock.advance(15_000);
          if (sink.sent.length && !firstAt.length) firstAt.push(clock.now());
        }
        await service.stop();
        return { sent: sink.sent, firstAt: firstAt[0] };
      },
    };
  }

  it('in working hours: one grouped alert after the window and pending time (~10 min), with the recorded figures', async () => {
    const start = ict('2026-11-24T08:00:00'); // Tuesday
    const { sent, firstAt } = await run(start, 15).go();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.firing.map((a) => a.rule).sort()).toEqual(['disk_saturated', 'memory_pressure']);
    expect(sent[0]!.text.vi).toContain('Ổ cứng 0 C: bận 97% trung bình 5 phút, hàng đợi 7,5 yêu cầu (ngưỡng 90%)');
    expect(sent[0]!.text.vi).toContain('đọc lại 412 trang/giây từ ổ cứng');
    // Held for forSeconds (5 min) from the first evaluation: not before 5 min, well before 15.
    expect(firstAt! - start).toBeGreaterThanOrEqual(5 * 60_000);
    expect(firstAt! - start).toBeLessThanOrEqual(7 * 60_000);
  });

  it('outside working hours (Sunday) the same series starts nothing', async () => {
    const { sent } = await run(ict('2026-11-29T09:00:00'), 15).go();
    expect(sent).toHaveLength(0);
  });
});
