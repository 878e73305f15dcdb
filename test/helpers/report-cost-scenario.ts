import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiskHealth } from '../../contract/schemas.js';
import type { ReportSources } from '../../collector/report/report-builder.js';
import { rollupSiteMinutes } from '../../collector/report/rollup-site-minutes.js';
import { SqliteOutageStore } from '../../collector/outage/sqlite-outage-store.js';
import { SiteSettingsSchema, siteDirectory } from '../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { fillSite, recordOutages, type GenMetrics, type GenSite } from './report-month-generator.js';
import { historyOf, L } from './report-scenario.js';

/**
 * November 2026 at two sites whose cost estimate (issue 17 point 3) is known in advance:
 * `an-binh` (6 PCs, three 30-minute power cuts in working hours) and `binh-minh` (1 PC).
 * Default working hours (Monday–Friday 07:30–11:30, 13:30–17:00, no holiday): 21 working
 * days, 9,450 working minutes; the cuts take 90 of them, so a PC measured all month has
 * 9,360 measured working minutes. Each PC stands for one rule:
 *
 * - pc-a: SSD, Core i5-10400 (2019), 8 GB; its disk's bad sectors grow 80 → 100 → 120
 *   (+40 in the month), 2 disk errors: failing → SSD.
 * - pc-b: SSD, Ryzen 5 5600G (2021), 4 GB; paging 500 pages/s 07:30–09:00 every working day:
 *   21 × 90 = 1,890 of 9,360 minutes = 20.19 % short of memory → RAM.
 * - pc-c: HDD, Core i3-10100 (2019), 8 GB; disk 95 % busy 13:30–14:00 every working day,
 *   its second disk 13:30–13:45 (the same minutes, counted once): 10.5 h → SSD.
 * - pc-d: HDD, Core i3-2120 (2011), 4 GB, Windows 10 (out of support); CPU 95 % 10:00–11:00
 *   every working day: 21 h → replaced (score 85) → new PC, nothing else.
 * - pc-e: HDD, Ryzen 5 5600G, 4 GB, an older agent: no disk activity, no memory pressure,
 *   no disk health → SSD and RAM "không đủ số liệu", not costed.
 * - pc-f: NVMe, Ryzen 7 7700 (2023), 16 GB, reports running on battery during a cut → no UPS.
 * - UPS at an-binh: 3 cuts in working hours ≥ 2 → one for each of pc-a…pc-e.
 * - binh-minh pc-x: SMART predicts failure of its disk → SSD.
 */
export const COST_SITE = 'an-binh';
export const COST_SITE_2 = 'binh-minh';
const MIN = 60_000;

const localMinutes = (t: number) => (((t / MIN + 7 * 60) % 1440) + 1440) % 1440;
const between = (t: number, a: string, b: string) => {
  const m = localMinutes(t);
  const hm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  return m >= hm(a) && m < hm(b);
};
const weekday = (t: number) => {
  const d = new Date(t + 7 * 3600_000).getUTCDay();
  return d >= 1 && d <= 5;
};

const win11 = { distro: 'Microsoft Windows 11 Pro', release: '10.0.22631' };
const CUT_DAYS = [3, 10, 17];

const ok = (device: string, model: string, badSectors = 0): DiskHealth => ({
  device,
  model,
  state: 'ok',
  predictedFailure: false,
  reallocatedSectors: badSectors,
  pendingSectors: 0,
  errorEvents: 0,
  powerOnHours: 20_000,
});

function metrics(host: string, t: number): GenMetrics {
  const work = weekday(t);
  const base: GenMetrics = { cpu: 20, mem: 50, rxMbps: 0.5, lossPct: 0, rttMs: 20, httpMs: 300, httpOk: { dichvucong: true }, diskPct: 60 };
  if (host === 'pc-e') return base; // an older agent: neither disk activity nor memory pressure
  return {
    ...base,
    cpu: host === 'pc-d' && work && between(t, '10:00', '11:00') ? 95 : 20,
    diskBusyPct: host === 'pc-c' && work && between(t, '13:30', '14:00') ? 95 : 10,
    // pc-c's second disk is busy in the first quarter of the same half hour: a minute counts once.
    ...(host === 'pc-c' ? { diskBusyPct2: work && between(t, '13:30', '13:45') ? 95 : 5 } : {}),
    pagingPs: host === 'pc-b' && work && between(t, '07:30', '09:00') ? 500 : 5,
    psiPct: null,
  };
}

/** Every minute from 07:00 to 17:30 local, every 15 min at night (as the main scenario). */
const intervalMs = (t: number) => (between(t, '07:00', '17:30') ? MIN : 15 * MIN);

export const AN_BINH: GenSite = {
  site: COST_SITE,
  hosts: [
    { host: 'pc-a', hostname: 'MAY-MOT-CUA-A', inventory: { brand: 'Core™ i5-10400', memGb: 8, diskType: 'SSD', ...win11 } },
    { host: 'pc-b', hostname: 'MAY-MOT-CUA-B', inventory: { brand: 'Ryzen 5 5600G', manufacturer: 'AMD', memGb: 4, diskType: 'SSD', ...win11 } },
    { host: 'pc-c', hostname: 'MAY-KE-TOAN', inventory: { brand: 'Core™ i3-10100', memGb: 8, diskType: 'HDD', ...win11 } },
    { host: 'pc-d', hostname: 'MAY-CU', inventory: { brand: 'Core™ i3-2120', memGb: 4, diskType: 'HDD', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045' } },
    { host: 'pc-e', hostname: 'MAY-PHIEN-BAN-CU', inventory: { brand: 'Ryzen 5 5600G', manufacturer: 'AMD', memGb: 4, diskType: 'HDD', ...win11 } },
    { host: 'pc-f', hostname: 'MAY-XACH-TAY', inventory: { brand: 'Ryzen 7 7700 8-Core Processor', manufacturer: 'AMD', memGb: 16, diskType: 'NVMe', ...win11 } },
  ],
  from: L(1, '00:00'),
  to: L(31, '00:00'),
  intervalMs,
  incidents: CUT_DAYS.map((d) => ({ cause: 'power_loss' as const, start: L(d, '14:00'), end: L(d, '14:30') })),
  hostOutages: [],
  freezes: [],
  metrics,
  diskChecks: [
    { host: 'pc-a', at: L(2, '08:00'), disks: [{ ...ok('PhysicalDisk0', 'KINGSTON SA400S37240G', 80), state: 'warning' }] },
    { host: 'pc-a', at: L(15, '08:00'), disks: [{ ...ok('PhysicalDisk0', 'KINGSTON SA400S37240G', 100), state: 'warning', errorEvents: 1 }] },
    { host: 'pc-a', at: L(29, '08:00'), disks: [{ ...ok('PhysicalDisk0', 'KINGSTON SA400S37240G', 110), pendingSectors: 10, state: 'warning', errorEvents: 1 }] },
    ...['pc-b', 'pc-c', 'pc-d', 'pc-f'].flatMap((host) => [2, 29].map((d) => ({ host, at: L(d, '08:00'), disks: [ok('PhysicalDisk0', 'ST500DM002')] }))),
    // A check that could not read the disk says nothing about it.
    { host: 'pc-e', at: L(2, '08:00'), disks: [{ device: 'PhysicalDisk0', state: 'unavailable', reason: 'access denied' }] },
  ],
  powerSource: [
    { host: 'pc-f', at: L(3, '14:00') + 5_000, source: 'battery' },
    { host: 'pc-f', at: L(3, '14:30'), source: 'ac' },
  ],
};

export const BINH_MINH: GenSite = {
  site: COST_SITE_2,
  hosts: [{ host: 'pc-x', hostname: 'MAY-TIEP-DAN', inventory: { brand: 'Core™ i5-12400', memGb: 16, diskType: 'SSD', ...win11 } }],
  from: L(1, '00:00'),
  to: L(31, '00:00'),
  intervalMs,
  incidents: [],
  hostOutages: [],
  freezes: [],
  metrics,
  diskChecks: [
    { host: 'pc-x', at: L(20, '08:00'), disks: [{ device: '0', model: 'WDC WDS240G2G0A', state: 'failing', predictedFailure: true, reallocatedSectors: 0, pendingSectors: 0 }] },
  ],
};

export const COST_TRUTH = {
  workingMinutes: 21 * 450,
  measuredMinutes: 21 * 450 - 90,
  memPressurePct: { 'pc-b': 20.19 } as Record<string, number>,
  diskBusyHours: { 'pc-c': 10.5 } as Record<string, number>,
  cpuSaturatedHours: { 'pc-d': 21 } as Record<string, number>,
  anBinhVnd: 16_500_000 + 2 * 850_000 + 950_000 + 5 * 2_600_000,
  binhMinhVnd: 850_000,
  provinceVnd: 33_000_000,
};

export const COST_SITE_SETTINGS = {
  [COST_SITE]: SiteSettingsSchema.parse({ name: 'UBND xã An Bình', lineMbps: 20 }),
  [COST_SITE_2]: SiteSettingsSchema.parse({ name: 'UBND phường Bình Minh', lineMbps: 20 }),
};

export interface CostStore {
  db: SqliteDatabase;
  store: SqliteStore;
  sources: ReportSources;
  dir: string;
  file: string;
}

/**
 * A fresh SQLite store with both sites' November, rolled up as the collector does. Filling
 * and rolling up take a while, so the filled file is built once per version of the scenario
 * (a hash of this file, the generator and the schemas they fill) and copied for each test.
 */
export function costScenarioStore(dir = mkdtempSync(join(tmpdir(), 'canh-cost-'))): CostStore {
  const file = join(dir, 'canh.db');
  copyFileSync(cachedFile(), file);
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  const history = historyOf(db);
  return {
    db,
    store,
    dir,
    file,
    sources: {
      store,
      history,
      siteMinutes: rollupSiteMinutes(db, history),
      outages: new SqliteOutageStore(db),
      sites: siteDirectory(COST_SITE_SETTINGS, SiteSettingsSchema.parse({})),
    },
  };
}

function cachedFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  for (const f of ['report-cost-scenario.ts', 'report-month-generator.ts', '../../collector/store/sqlite-history.ts', '../../collector/outage/sqlite-outage-store.ts']) {
    hash.update(readFileSync(join(here, f)));
  }
  const cached = join(tmpdir(), `canh-cost-scenario-${hash.digest('hex').slice(0, 16)}.db`);
  if (existsSync(cached)) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'canh-cost-build-'));
  const file = join(dir, 'canh.db');
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  fillSite(store, db, AN_BINH);
  fillSite(store, db, BINH_MINH);
  recordOutages(new SqliteOutageStore(db), AN_BINH);
  const history = historyOf(db);
  while (!history.rollup(1_000_000, 20_000).caughtUp);
  // Checkpoint the WAL into the main file, then publish atomically (parallel test files).
  db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  renameSync(file, cached);
  rmSync(dir, { recursive: true, force: true });
  return cached;
}
