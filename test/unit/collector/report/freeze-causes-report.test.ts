/**
 * "Vì sao máy treo" in the monthly report (issue 17): a generated November at a commune
 * whose freezes have known causes (disk overloaded, paging, one program on the CPU, a disk
 * with pending sectors, nothing abnormal), in a real SQLite store rolled up by the real job;
 * one freeze's raw samples past retention (diagnosed from the 1-minute history), one freeze
 * in December. The counts per PC and cause equal the truth in the model, Markdown, HTML and CSV.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSmartctlJson } from '../../../../agent/disk-health/smartctl.js';
import { parseWindowsPerf } from '../../../../agent/platform/disk-pressure-parsers.js';
import { SqliteOutageStore } from '../../../../collector/outage/sqlite-outage-store.js';
import { freezeCauseBlocks } from '../../../../collector/report/freeze-causes.js';
import { buildReport } from '../../../../collector/report/report-builder.js';
import type { SiteReport } from '../../../../collector/report/report-model.js';
import { REPORT_RENDERERS } from '../../../../collector/report/report-renderers.js';
import { rollupSiteMinutes } from '../../../../collector/report/rollup-site-minutes.js';
import { siteDirectory, SiteSettingsSchema } from '../../../../collector/sites/site-settings.js';
import { SqliteHistory } from '../../../../collector/store/sqlite-history.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import type { ProcessInfo, SampleMetrics } from '../../../../contract/schemas.js';
import { parseCsv } from '../../../helpers/csv-parse.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { fillSite, type GenSite } from '../../../helpers/report-month-generator.js';
import { fixtureText } from '../../agent/fake-system-info.js';

const SITE = 'xa-hoa-binh';
/** Local (UTC+7) November time; day 31 = 1 December. */
const L = (day: number, hm: string) => {
  const [h, m] = hm.split(':').map(Number);
  return Date.UTC(2026, 10, day, h! - 7, m!);
};
const perf = parseWindowsPerf(fixtureText('windows/disk-health/perf-counters.json')); // 0 C: 97% busy, queue 7; 412 pages in/s, 96 hard faults/s
const quiet = { memSomePct: null, memFullPct: null, swapInPs: 2, swapOutPs: 0, hardFaultsPs: 8 };
const cpu = (usage: number) => ({ usage, load1: null, load5: null, load15: null, cores: 4 });
const SCENES = {
  disk: { cpu: cpu(30), diskio: perf.disks, pressure: quiet },
  paging: { cpu: cpu(45), diskio: perf.disks, pressure: perf.pressure },
  cpu: { cpu: cpu(98), diskio: [{ disk: '0 C:', busyPct: 10, queue: 0.2 }], pressure: quiet },
  normal: { cpu: cpu(25), diskio: [{ disk: '0 C:', busyPct: 8, queue: 0.1 }], pressure: quiet },
} satisfies Record<string, SampleMetrics>;
type Scene = keyof typeof SCENES;
const ACROBAT: ProcessInfo[] = [
  { name: 'AcroRd32.exe', pid: 4412, cpuPct: 88, memBytes: 300 * 1048576 },
  { name: 'explorer.exe', pid: 2210, cpuPct: 4, memBytes: 90 * 1048576 },
];

/** The freezes and their causes (the truth). Freeze times at :07 stay off the generator's 15-minute sample grid. */
const FREEZES: Array<{ host: string; at: number; scene: Scene; processes?: ProcessInfo[] }> = [
  { host: 'pc-01', at: L(2, '09:07'), scene: 'disk' }, // raw samples deleted below: judged on minute history
  ...[3, 5, 10, 17].map((d) => ({ host: 'pc-01', at: L(d, '10:07'), scene: 'disk' as const })),
  ...[12, 19].map((d) => ({ host: 'pc-01', at: L(d, '14:07'), scene: 'paging' as const })),
  ...[4, 20].map((d) => ({ host: 'pc-02', at: L(d, '09:37'), scene: 'cpu' as const, processes: ACROBAT })),
  { host: 'pc-02', at: L(6, '15:07'), scene: 'normal' },
  { host: 'pc-02', at: L(24, '08:37'), scene: 'normal' }, // a disk check 3 h before finds pending sectors
  { host: 'pc-01', at: L(31, '09:07'), scene: 'disk' }, // 1 December: not November's
];
const TRUTH = {
  'pc-01': { freezes: 7, disk_busy: 5, memory: 2, fromMinutes: 1 },
  'pc-02': { freezes: 4, cpu_process: 2, unknown: 1, disk_failing: 1, fromMinutes: 0 },
};

const GEN: GenSite = {
  site: SITE,
  hosts: ['pc-01', 'pc-02', 'pc-03'].map((host, i) => ({
    host,
    hostname: `MAY-0${i + 1}`,
    inventory: { brand: 'Core™ i3-2120', memGb: 4, diskType: 'HDD', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045' },
  })),
  from: L(1, '00:00'),
  to: L(31, '12:00'),
  intervalMs: 15 * 60_000,
  incidents: [],
  hostOutages: [],
  freezes: [],
  metrics: () => ({ cpu: 20, mem: 50, rxMbps: 0.5, lossPct: 0, rttMs: 20, httpMs: 300, httpOk: { dichvucong: true }, diskPct: 60 }),
};

let dir: string;
let db: SqliteDatabase;
let report: SiteReport;
let bundle: ReturnType<typeof buildReport>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'canh-freeze-report-'));
  const file = join(dir, 'canh.db');
  db = openDatabase(file);
  const store = new SqliteStore(db, file);
  fillSite(store, db, GEN);
  // What the agents sent around each freeze: 15-s samples for 3 minutes and one after, the freeze with its process list.
  let seq = 0;
  const key = (host: string, t: number) => ({ site: SITE, host, boot: 'evidence-boot', seq: ++seq, t, received: t });
  db.transaction(() => {
    for (const f of FREEZES) {
      const end = f.at + 30_000;
      for (let t = f.at - 180_000; t <= f.at; t += 15_000) store.insertSample({ ...key(f.host, t), tAgent: t, sent: t, skewMs: 0, interval: 15, metrics: SCENES[f.scene] });
      store.insertSample({ ...key(f.host, end + 5_000), tAgent: end + 5_000, sent: end + 5_000, skewMs: 0, interval: 15, metrics: SCENES[f.scene] });
      store.insertEvent({
        ...key(f.host, end),
        type: 'freeze',
        severity: 'warning',
        message: 'the PC (or the agent) was unresponsive for 30 s',
        start: f.at,
        end,
        details: { durationMs: 30_000, thresholdMs: 10_000, ...(f.processes ? { processes: f.processes } : {}) },
      });
    }
    // pc-02's disk check 3 h before its 24 November freeze: the recorded HDD with 8 pending sectors.
    const hdd = parseSmartctlJson(fixtureText('linux/smartctl/ata-hdd-reallocated.json'), '/dev/sda');
    store.insertEvent({ ...key('pc-02', L(24, '05:37')), type: 'disk_health', severity: 'warning', message: 'disk health', details: { source: 'smartctl', disks: [hdd] } });
  })();
  const history = new SqliteHistory(db, new FakeClock(Date.UTC(2026, 11, 2)));
  while (!history.rollup(1_000_000, 20_000).caughtUp);
  // Raw samples of 2 November are past retention (14 days) at report time: only the rollups keep them.
  db.prepare('DELETE FROM samples WHERE t < ?').run(L(3, '00:00'));
  bundle = buildReport(
    { site: SITE, month: '2026-11', lang: 'vi' },
    {
      store,
      history,
      siteMinutes: rollupSiteMinutes(db, history),
      outages: new SqliteOutageStore(db),
      sites: siteDirectory({ [SITE]: SiteSettingsSchema.parse({ name: 'UBND xã Hòa Bình' }) }, SiteSettingsSchema.parse({})),
    },
  );
  report = bundle.sites[0]!;
});

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('monthly report: why the PCs freeze', () => {
  it('counts each PC’s November freezes per likely cause, as the truth says', () => {
    const got = Object.fromEntries(
      (report.freezeCauses ?? []).map((p) => [
        p.host,
        { freezes: p.freezes, ...Object.fromEntries(Object.entries(p.causes).filter(([, n]) => n > 0)), fromMinutes: p.fromMinutes },
      ]),
    );
    expect(got).toEqual(TRUTH);
    expect(report.freezeCauses!.find((p) => p.host === 'pc-02')!.processes).toEqual([{ name: 'AcroRd32.exe', count: 2 }]);
    // The PC table's freeze counts agree with the section.
    expect(report.hosts.map((h) => [h.host, h.freezes])).toEqual([
      ['pc-01', 7],
      ['pc-02', 4],
      ['pc-03', 0],
    ]);
  });

  it('Markdown and HTML: the section with one row per PC that froze, in Vietnamese', () => {
    const md = REPORT_RENDERERS.md.render(bundle);
    expect(md).toContain('Vì sao máy treo:');
    expect(md).toContain('| Máy | Số lần treo | Nguyên nhân có thể (số lần) | Chương trình chiếm CPU |');
    expect(md).toContain('| MAY-01 (pc-01) | 7 | ổ cứng quá tải: 5; thiếu bộ nhớ (RAM): 2; (1 lần xét theo số liệu từng phút (số liệu chi tiết đã hết hạn lưu)) | – |');
    expect(md).toContain('| MAY-02 (pc-02) | 4 | một tiến trình chiếm CPU: 2; ổ cứng lỗi: 1; chưa xác định nguyên nhân: 1 | AcroRd32.exe (2) |');
    expect(md).not.toContain('MAY-03 (pc-03) | 0');
    const html = REPORT_RENDERERS.html.render(bundle);
    expect(html).toContain('Vì sao máy treo:');
    expect(html).toContain('ổ cứng quá tải: 5; thiếu bộ nhớ (RAM): 2');
    const en = REPORT_RENDERERS.md.render({ ...bundle, lang: 'en' });
    expect(en).toContain('| MAY-02 (pc-02) | 4 | one process took the CPU: 2; failing disk: 1; cause unknown: 1 | AcroRd32.exe (2) |');
    // A month without freezes says so.
    expect(freezeCauseBlocks({ freezeCauses: [] }, 'vi')).toEqual([
      { kind: 'para', text: 'Vì sao máy treo:' },
      { kind: 'para', text: 'Không máy nào bị treo trong tháng.' },
    ]);
  });

  it('CSV: one row per PC and cause, parsing back to the truth', () => {
    const rows = parseCsv(REPORT_RENDERERS.csv.render(bundle).replace(/^\uFEFF/, ''), ';').filter((r) => r[0] === 'freeze_cause');
    const value = (host: string, metric: string) => rows.find((r) => r[2] === host && r[3] === metric)?.[4];
    expect(value('pc-01', 'freezes')).toBe('7');
    expect(value('pc-01', 'disk_busy')).toBe('5');
    expect(value('pc-01', 'memory')).toBe('2');
    expect(value('pc-01', 'unknown')).toBe('0');
    expect(value('pc-01', 'from_minute_history')).toBe('1');
    expect(value('pc-02', 'cpu_process')).toBe('2');
    expect(value('pc-02', 'disk_failing')).toBe('1');
    expect(value('pc-02', 'cpu_process:AcroRd32.exe')).toBe('2');
    expect(rows.some((r) => r[2] === 'pc-03')).toBe(false);
  });
});
