import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { sampleLines } from '../../../../collector/influx/point-builder.js';
import { INFLUX_SCHEMA } from '../../../../collector/influx/schema.js';
import { seriesValues } from '../../../../collector/store/history-extract.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { EventMessage, SampleMessage } from '../../../../contract/schemas.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../fixtures/contract/${name}`, import.meta.url), 'utf8')) as Record<string, unknown> & { t: number };

function setup() {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const store = new SqliteStore(openDatabase(':memory:'), ':memory:');
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics });
  return { clock, metrics, store, ingest };
}

/** A message re-timed to the fake clock's now (the ingest refuses samples older than the outbox bound). */
function at(clock: FakeClock, m: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ ...m, t: clock.now(), sent: clock.now() }));
}

describe('disk activity, memory pressure and disk health on the collector (issue 17)', () => {
  it('old agents stay valid (no new fields), new samples validate, are stored and read back whole', () => {
    expect(SampleMessage.safeParse(fixture('sample-valid.json')).success).toBe(true);
    const { clock, ingest, store } = setup();
    const m = fixture('sample-disk-pressure.json');
    expect(ingest.handle(topicFor('xa-an-binh', 'pc-motcua-01', 'samples'), at(clock, m)).status).toBe('accepted');
    const stored = store.latestSample('xa-an-binh', 'pc-motcua-01');
    expect(stored?.metrics.diskio).toEqual((m.metrics as Record<string, unknown>).diskio);
    expect(stored?.metrics.pressure).toEqual({ memSomePct: null, memFullPct: null, swapInPs: 412, swapOutPs: 37, hardFaultsPs: 96 });
  });

  it('rejects an out-of-range busy % with a counted reason, and accepts diskio reported unavailable', () => {
    const { clock, ingest, metrics } = setup();
    const m = fixture('sample-disk-pressure.json');
    const topic = topicFor('xa-an-binh', 'pc-motcua-01', 'samples');
    const bad = { ...m, metrics: { ...(m.metrics as object), diskio: [{ disk: 'sda', busyPct: 150, queue: 1 }] } };
    expect(ingest.handle(topic, at(clock, bad)).status).toBe('rejected');
    expect(metrics.render()).toMatch(/canh_ingest_rejected_total\{reason="[a-z_]+"\} 1/);
    const unavailable = { ...m, seq: 50, metrics: { diskio: { unavailable: '/proc/diskstats unreadable: EACCES' } } };
    expect(ingest.handle(topic, at(clock, unavailable)).status).toBe('accepted');
  });

  it('a disk_health event keeps its per-disk health with the details; an unavailable check keeps its reason', () => {
    const { clock, ingest, store } = setup();
    const ev = fixture('event-disk-health.json');
    expect(EventMessage.safeParse(ev).success).toBe(true);
    const topic = topicFor('xa-an-binh', 'pc-motcua-01', 'events');
    expect(ingest.handle(topic, at(clock, ev)).status).toBe('accepted');
    const soft = { ...ev, seq: 45, severity: 'info', message: 'disk health unavailable', details: { unavailable: 'smartctl not installed (smartmontools)' } };
    delete (soft as Record<string, unknown>).disks;
    expect(ingest.handle(topic, at(clock, soft)).status).toBe('accepted');
    const rows = store.events('xa-an-binh', 'pc-motcua-01', { from: clock.now() - 60_000, to: clock.now() + 1, limit: 10 }).filter((r) => r.type === 'disk_health');
    expect(rows).toHaveLength(2);
    const withDisks = rows.find((r) => r.severity === 'critical');
    expect(withDisks?.details).toEqual({ source: 'windows', unattributedErrorEvents: 1, disks: ev.disks });
    expect(rows.find((r) => r.severity === 'info')?.details).toEqual({ unavailable: 'smartctl not installed (smartmontools)' });
  });

  it('rejects a disk_health event with an unknown disk state', () => {
    const { clock, ingest } = setup();
    const ev = fixture('event-disk-health.json');
    const bad = { ...ev, disks: [{ device: 'PhysicalDisk0', state: 'dying' }] };
    expect(ingest.handle(topicFor('xa-an-binh', 'pc-motcua-01', 'events'), at(clock, bad)).status).toBe('rejected');
  });

  it('history series: disk_busy and disk_queue per disk, swap_io and hard_faults; no mem_psi without PSI', () => {
    const m = SampleMessage.parse(fixture('sample-disk-pressure.json'));
    const v = seriesValues(m.metrics).filter((s) => ['disk_busy', 'disk_queue', 'mem_psi', 'swap_io', 'hard_faults'].includes(s.metric));
    expect(v).toEqual([
      { metric: 'disk_busy', key: '0 C:', value: 97 },
      { metric: 'disk_queue', key: '0 C:', value: 7.5 },
      { metric: 'disk_busy', key: '1 D:', value: 2 },
      { metric: 'disk_queue', key: '1 D:', value: 0 },
      { metric: 'swap_io', key: '', value: 449 },
      { metric: 'hard_faults', key: '', value: 96 },
    ]);
    const linux = seriesValues({ pressure: { memSomePct: 12.5, memFullPct: 3, swapInPs: null, swapOutPs: null, hardFaultsPs: 0 } });
    expect(linux.find((s) => s.metric === 'mem_psi')?.value).toBe(12.5);
  });

  it('InfluxDB export: diskio per disk and pressure, null fields omitted, per the schema', () => {
    const m = SampleMessage.parse(fixture('sample-disk-pressure.json'));
    const lines = sampleLines({ ...m, tAgent: m.t, received: m.sent, skewMs: 0 }).filter((l) => l.startsWith('diskio') || l.startsWith('pressure'));
    expect(lines).toEqual([
      'diskio,disk=0\\ C:,host=pc-motcua-01,site=xa-an-binh busy_pct=97,queue=7.5 1795500000000',
      'diskio,disk=1\\ D:,host=pc-motcua-01,site=xa-an-binh busy_pct=2,queue=0 1795500000000',
      'pressure,host=pc-motcua-01,site=xa-an-binh hard_faults_ps=96,swap_in_ps=412,swap_out_ps=37 1795500000000',
    ]);
    expect(INFLUX_SCHEMA.diskio.tags).toContain('disk');
  });
});
