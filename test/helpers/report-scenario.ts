import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { SqliteHistory } from '../../collector/store/sqlite-history.js';
import { SqliteOutageStore } from '../../collector/outage/sqlite-outage-store.js';
import { FakeClock } from './fake-clock.js';
import type { ReportSources } from '../../collector/report/report-builder.js';
import { rollupSiteMinutes } from '../../collector/report/rollup-site-minutes.js';
import { SiteSettingsSchema, siteDirectory } from '../../collector/sites/site-settings.js';
import { fillSite, recordOutages, type GenMetrics, type GenSite } from './report-month-generator.js';

/**
 * November 2026 at "UBND xã Tân Phú" (site tan-phu), with every figure known in advance
 * (issue 7: "every figure in the report equals the truth"). Local time is UTC+7; `L(day,
 * 'HH:MM')` is a local November time (day 31 = 1 December). 1 November is a Sunday; the
 * 16th (Monday) is configured as a holiday, so there are 20 working days × 7.5 h.
 */
export const L = (day: number, hm: string, month = 11): number => {
  const [h, m] = hm.split(':').map(Number);
  return Date.UTC(2026, month - 1, day, h! - 7, m!);
};
const MIN = 60_000;

export const SITE = 'tan-phu';
export const SITE_NAME = 'UBND xã Tân Phú';
export const LINE_MBPS = 20;
export const HOLIDAY = '2026-11-16';

const w = (start: number, end: number) => ({ start, end });
const inW = (t: number, ws: Array<{ start: number; end: number }>) => ws.some((x) => t >= x.start && t < x.end);

/** Congestion by line usage (every PC downloads 3.6 Mbit/s: 18 of 20 Mbit/s = 90 %). */
const USAGE_WINDOWS = [
  w(L(3, '09:00'), L(3, '10:00')), // Tue: 60 working minutes
  w(L(12, '14:00'), L(12, '15:30')), // Thu: 90 working minutes
  w(L(16, '09:00'), L(16, '10:00')), // holiday: not counted
  w(L(21, '09:00'), L(21, '10:00')), // Saturday: not counted
];
/** Congestion by packet loss (10 %), line usage normal. */
const LOSS_WINDOWS = [w(L(24, '08:00'), L(24, '08:45'))]; // Tue: 45 working minutes
const PORTAL_DOWN = w(L(18, '10:00'), L(18, '10:30')); // `motcua` unreachable from every PC: 30 min
const CPU_SAT = { host: 'pc-01', windows: [w(L(4, '08:00'), L(4, '10:00')), w(L(5, '14:00'), L(5, '15:00')), w(L(7, '09:00'), L(7, '12:00'))] }; // 3 h in working hours (the 7th is a Saturday)
const MEM_SAT = { host: 'pc-03', windows: [w(L(10, '13:30'), L(10, '15:30'))] }; // 2 h

export const TRUTH = {
  workingMs: 20 * 7.5 * 3600_000,
  powerCuts: { count: 4, totalMs: (3 * 60 + 12) * MIN, longestMs: 60 * MIN, inWorkingHours: 2, workingMs: 70 * MIN },
  networkCuts: { count: 1, totalMs: 20 * MIN, longestMs: 20 * MIN, inWorkingHours: 1, workingMs: 20 * MIN },
  siteDownMs: 90 * MIN,
  siteUpPct: 99,
  portalMinutesMeasured: 9000 - 90,
  portalMinutesOk: 9000 - 90 - 30,
  portalOkPct: 99.66,
  centrePct: 98.67,
  congestedMinutes: 60 + 90 + 45,
  worstDays: ['2026-11-12', '2026-11-03', '2026-11-24'],
  hour9LatencyMs: 360,
  hour8LatencyMs: 345,
  hour14LatencyMs: 361.02,
  usageMaxPct: 90,
  usageMeanMbps: 2.76,
  freezes: { 'pc-01': 6, 'pc-02': 1 } as Record<string, number>,
  crashes: { 'pc-01': 2 } as Record<string, number>,
  cpuSaturatedHours: { 'pc-01': 3 } as Record<string, number>,
  memSaturatedHours: { 'pc-03': 2 } as Record<string, number>,
  scores: { 'pc-01': 98, 'pc-05': 80, 'pc-02': 43, 'pc-03': 17, 'pc-04': 10 } as Record<string, number>,
  proposals: ['pc-01', 'pc-05', 'pc-02'],
  previousPowerCuts: 2,
  previousPowerCutMs: 40 * MIN,
};

export const HOSTS: GenSite['hosts'] = [
  { host: 'pc-01', hostname: 'MAY-MOT-CUA-01', inventory: { brand: 'Core™ i3-2120', memGb: 4, diskType: 'HDD', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045' } },
  { host: 'pc-02', hostname: 'MAY-MOT-CUA-02', inventory: { brand: 'Core™ i5-4570', memGb: 8, diskType: 'SSD', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045' } },
  { host: 'pc-03', hostname: 'MAY-KE-TOAN', inventory: { brand: 'Core™ i5-10400', memGb: 8, diskType: 'SSD', distro: 'Microsoft Windows 11 Pro', release: '10.0.22631' } },
  {
    host: 'pc-04',
    hostname: 'MAY-CHU-TICH',
    inventory: { brand: 'Ryzen 5 7600 6-Core Processor', manufacturer: 'AMD', memGb: 16, diskType: 'NVMe', distro: 'Microsoft Windows 11 Pro', release: '10.0.22631' },
  },
  {
    host: 'pc-05',
    hostname: 'MAY-VAN-THU',
    inventory: { brand: 'Pentium® CPU G3250', memGb: 2, diskType: 'HDD', distro: 'Microsoft Windows 7 Professional', release: '6.1.7601' },
  },
];

function metrics(host: string, t: number): GenMetrics {
  const usage = inW(t, USAGE_WINDOWS);
  const loss = inW(t, LOSS_WINDOWS);
  return {
    cpu: host === CPU_SAT.host && inW(t, CPU_SAT.windows) ? 95 : 20,
    mem: host === MEM_SAT.host && inW(t, MEM_SAT.windows) ? 95 : 50,
    rxMbps: usage ? 3.6 : 0.5,
    lossPct: loss ? 10 : 0,
    rttMs: 20,
    httpMs: usage || loss ? 1500 : 300,
    httpOk: { dichvucong: true, motcua: !inW(t, [PORTAL_DOWN]) },
    diskPct: host === 'pc-04' ? 95 : 60,
  };
}

export const NOVEMBER: GenSite = {
  site: SITE,
  hosts: HOSTS,
  from: L(1, '00:00'),
  to: L(31, '00:00'),
  // Every minute from 07:00 to 17:30 local (working time and its edges), every 15 min at night.
  intervalMs: (t) => {
    const local = (((t / MIN + 7 * 60) % 1440) + 1440) % 1440;
    return local >= 7 * 60 && local < 17 * 60 + 30 ? MIN : 15 * MIN;
  },
  incidents: [
    { cause: 'power_loss', start: L(2, '10:00'), end: L(2, '10:40') }, // Mon, 40 min in working hours
    { cause: 'power_loss', start: L(9, '12:00'), end: L(9, '13:00') }, // Mon lunch break: not in working hours
    { cause: 'power_loss', start: L(19, '16:30'), end: L(19, '17:30') }, // Thu, 30 of 60 min in working hours
    { cause: 'network', start: L(25, '14:00'), end: L(25, '14:20') }, // Wed, 20 min
    { cause: 'power_loss', start: L(30, '23:28'), end: L(31, '00:28') }, // across midnight of the last day: 32 min in November
  ],
  hostOutages: [
    { host: 'pc-01', cause: 'crash', start: L(6, '10:00'), end: L(6, '10:05') },
    { host: 'pc-01', cause: 'hang_reset', start: L(13, '15:00'), end: L(13, '15:10') },
  ],
  freezes: [
    ...[3, 4, 5, 10, 11, 12].map((d) => ({ host: 'pc-01', at: L(d, '10:15'), durationMs: 90_000 })),
    // 23:30 UTC on 31 October = 06:30 on 1 November locally: November's.
    { host: 'pc-02', at: Date.UTC(2026, 9, 31, 23, 30), durationMs: 60_000 },
    // 17:30 UTC on 30 November = 00:30 on 1 December locally: not November's.
    { host: 'pc-02', at: Date.UTC(2026, 10, 30, 17, 30), durationMs: 60_000 },
  ],
  metrics,
};

/** October: sparser samples, two power cuts (30 + 10 min), for the month-on-month change. */
export const OCTOBER: GenSite = {
  site: SITE,
  hosts: HOSTS,
  from: L(1, '00:00', 10),
  to: L(1, '00:00', 11),
  intervalMs: 30 * MIN,
  incidents: [
    { cause: 'power_loss', start: L(15, '09:00', 10), end: L(15, '09:30', 10) },
    { cause: 'power_loss', start: L(20, '14:00', 10), end: L(20, '14:10', 10) },
  ],
  hostOutages: [],
  freezes: [],
  metrics: (host, t) => ({ ...metrics(host, t), cpu: 20, mem: 50 }),
};

export const SITE_SETTINGS = {
  [SITE]: SiteSettingsSchema.parse({ name: SITE_NAME, lineMbps: LINE_MBPS, workingHours: { holidays: [HOLIDAY] } }),
};

export interface FilledStore {
  file: string;
  db: SqliteDatabase;
  store: SqliteStore;
  sources: ReportSources;
}

/**
 * A fresh SQLite file with October and November of the scenario. Filling and rolling up
 * take a while, so the filled file is built once per version of the scenario (named by a
 * hash of this file, the generator and the schemas they fill) and copied for each test file.
 */
export function scenarioStore(dir = mkdtempSync(join(tmpdir(), 'canh-report-'))): FilledStore {
  const file = join(dir, 'canh.db');
  copyFileSync(cachedScenarioFile(), file);
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  return { file, db, store, sources: sourcesOf(db, store) };
}

function cachedScenarioFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  // The scenario, its generator, and the schemas of the tables it fills.
  for (const f of ['report-scenario.ts', 'report-month-generator.ts', '../../collector/store/sqlite-history.ts', '../../collector/outage/sqlite-outage-store.ts']) {
    hash.update(readFileSync(join(here, f)));
  }
  const cached = join(tmpdir(), `canh-report-scenario-${hash.digest('hex').slice(0, 16)}.db`);
  if (existsSync(cached)) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'canh-report-build-'));
  const built = buildScenario(dir);
  // Checkpoint the WAL into the main file, then publish atomically (parallel test files).
  built.db.pragma('wal_checkpoint(TRUNCATE)');
  built.store.close();
  renameSync(built.file, cached);
  rmSync(dir, { recursive: true, force: true });
  return cached;
}

function buildScenario(dir: string): FilledStore {
  const file = join(dir, 'canh.db');
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  fillSite(store, db, OCTOBER);
  fillSite(store, db, NOVEMBER);
  // The outages the collector's tracker would have recorded, in its real outage store.
  const outages = new SqliteOutageStore(db);
  recordOutages(outages, OCTOBER);
  recordOutages(outages, NOVEMBER);
  const history = historyOf(db);
  // The collector's rollup job folds the samples into 1m/15m/1h buckets; run it to the end.
  while (!history.rollup(1_000_000, 20_000).caughtUp);
  return { file, db, store, sources: sourcesOf(db, store, history) };
}

/** The collector's history over the rollups, with a clock at the scenario's "now" (2 Dec 2026) so nothing is past retention. */
export function historyOf(db: SqliteDatabase): SqliteHistory {
  return new SqliteHistory(db, new FakeClock(Date.UTC(2026, 11, 2)));
}

export function sourcesOf(db: SqliteDatabase, store: SqliteStore, history: SqliteHistory = historyOf(db)): ReportSources {
  return {
    store,
    history,
    siteMinutes: rollupSiteMinutes(db, history),
    outages: new SqliteOutageStore(db),
    sites: siteDirectory(SITE_SETTINGS, SiteSettingsSchema.parse({})),
  };
}
