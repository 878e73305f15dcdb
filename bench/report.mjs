#!/usr/bin/env node
// Benchmark of the monthly report (issue 7): time to build one month's report for one
// site with 40 PCs, and for a province of 100 sites, from the collector's own SQLite
// store (rollup tables of collector/store/sqlite-history.ts, events, inventories).
//
// The generator writes the 1-minute rollups directly with SQL (what the collector's rollup
// job would have written from 15-second samples: the report reads rollups, never raw
// samples) for the minutes the report reads: 07:30–17:00 on weekdays. Every PC reports
// cpu, mem, net_rx, ping_loss and two portals (http_total, http_ok); disks hourly; three
// power cuts, a network cut and freezes per site as agent events, and the cuts as the
// collector's outage tracker records them (collector/outage/sqlite-outage-store.ts).
//
// Env: BENCH_REPORT_SITE_PCS (40), BENCH_REPORT_PROVINCE_SITES (100),
// BENCH_REPORT_PROVINCE_PCS (10), BENCH_REPORT_RUNS (3), BENCH_REPORT_PROVINCE_RUNS (3),
// BENCH_REPORT_TARGET_S (60: province target).
import { join } from 'node:path';
import { ROOT, fmt, median, runMain, table, tempDir } from './lib.mjs';

const env = (k, d) => Number(process.env[k] ?? d);
const SITE_PCS = env('BENCH_REPORT_SITE_PCS', 40);
const PROVINCE_SITES = env('BENCH_REPORT_PROVINCE_SITES', 100);
const PROVINCE_PCS = env('BENCH_REPORT_PROVINCE_PCS', 10);
const RUNS = env('BENCH_REPORT_RUNS', 3);
const PROVINCE_RUNS = env('BENCH_REPORT_PROVINCE_RUNS', 3);
const TARGET_S = env('BENCH_REPORT_TARGET_S', 60);

const imp = (p) => import(join(ROOT, 'dist', p));
const { openDatabase, SqliteStore } = await imp('collector/store/sqlite-store.js');
const { SqliteHistory } = await imp('collector/store/sqlite-history.js');
const { systemClock } = await imp('common/clock.js');
const { buildReport } = await imp('collector/report/report-builder.js');
const { SqliteOutageStore } = await imp('collector/outage/sqlite-outage-store.js');
const { rollupSiteMinutes } = await imp('collector/report/rollup-site-minutes.js');
const { REPORT_RENDERERS } = await imp('collector/report/report-renderers.js');
const { siteDirectory, SiteSettingsSchema } = await imp('collector/sites/site-settings.js');

const MONTH = '2026-11';
const MONTH_FROM = Date.UTC(2026, 9, 31, 17); // 1 Nov 00:00 local (UTC+7)
const DAYS = 30;
const MIN = 60_000;
const GB = 1024 ** 3;
const CPUS = ['Core™ i3-2120', 'Core™ i5-4570', 'Core™ i5-10400', 'Pentium® CPU G3250', 'Core™ i5-12400'];

function fillSite({ db, store, outageStore }, site, pcs) {
  const hosts = Array.from({ length: pcs }, (_, i) => `pc-${String(i + 1).padStart(2, '0')}`);
  db.transaction(() => {
    hosts.forEach((host, i) => {
      const boot = `bench-${host}-0001`;
      store.insertSample({
        site,
        host,
        boot,
        seq: 0,
        t: MONTH_FROM + 3_600_000,
        tAgent: MONTH_FROM + 3_600_000,
        sent: MONTH_FROM + 3_600_000,
        received: MONTH_FROM + 3_600_000,
        skewMs: 0,
        interval: 15,
        metrics: {},
      });
      store.upsertInventory({
        site,
        host,
        boot,
        seq: 1,
        t: MONTH_FROM + 3_600_000,
        received: MONTH_FROM + 3_600_000,
        hostname: host.toUpperCase(),
        data: {
          hostname: host.toUpperCase(),
          cpu: { manufacturer: 'Intel', brand: CPUS[i % CPUS.length], cores: 4, physicalCores: 4, speedGHz: 3 },
          memTotal: (i % 3 === 0 ? 4 : 8) * GB,
          disks: [{ device: 'd0', name: 'd0', type: i % 2 ? 'SSD' : 'HDD', size: 256 * GB }],
          os: { platform: 'win32', distro: 'Microsoft Windows 10 Pro', release: '10.0.19045', arch: 'x64', kernel: '' },
          agentVersion: '0.1.0',
        },
      });
      let seq = 2;
      for (const [d, h, len] of [
        [3, 9, 40],
        [12, 14, 60],
        [24, 16, 30],
      ]) {
        const start = MONTH_FROM + d * 86_400_000 + h * 3_600_000 + i * 2000;
        store.insertEvent({
          site,
          host,
          boot,
          seq: seq++,
          t: start + len * MIN + 60_000,
          received: start + len * MIN + 60_000,
          type: 'outage',
          severity: 'warning',
          message: 'power',
          start,
          end: start + len * MIN,
          details: { cause: 'power_loss' },
        });
      }
      const ns = MONTH_FROM + 18 * 86_400_000 + 10 * 3_600_000;
      store.insertEvent({
        site,
        host,
        boot,
        seq: seq++,
        t: ns + 20 * MIN,
        received: ns + 20 * MIN,
        type: 'network_cut',
        severity: 'warning',
        message: 'net',
        start: ns,
        end: ns + 20 * MIN,
      });
      for (let k = 0; k < i % 4; k++) {
        const at = MONTH_FROM + (4 + k * 5) * 86_400_000 + 3 * 3_600_000;
        store.insertEvent({
          site,
          host,
          boot,
          seq: seq++,
          t: at + 90_000,
          received: at + 90_000,
          type: 'freeze',
          severity: 'warning',
          message: 'freeze',
          start: at,
          end: at + 90_000,
        });
      }
    });
    // The outages the collector's tracker records for those cuts, in its real outage store
    // (through the tracker's own write method): one site incident per cut, every PC in it.
    const ids = outageStore.load().ids;
    const effects = [];
    const cut = (cause, start, len) => {
      const incidentId = ids.nextIncidentId++;
      hosts.forEach((host, i) => {
        const s = start + i * 2000;
        effects.push({
          kind: 'hostOutage',
          change: 'closed',
          outage: { id: ids.nextOutageId++, site, host, cause, start: s, end: s + len * MIN, uncertaintyMs: 15_000, incidentId, evidence: { bench: true } },
        });
      });
      effects.push({
        kind: 'incident',
        change: 'resolved',
        incident: {
          id: incidentId,
          site,
          state: 'resolved',
          cause: cause === 'power_loss' ? 'power_cut' : 'network_cut',
          start,
          end: start + (hosts.length - 1) * 2000 + len * MIN,
          hosts,
          hostsOut: [],
          hostsOnlineBefore: hosts.length,
          uncertaintyMs: 15_000,
          evidence: { bench: true },
        },
      });
    };
    for (const [d, h, len] of [
      [3, 9, 40],
      [12, 14, 60],
      [24, 16, 30],
    ])
      cut('power_loss', MONTH_FROM + d * 86_400_000 + h * 3_600_000, len);
    cut('network', MONTH_FROM + 18 * 86_400_000 + 10 * 3_600_000, 20);
    outageStore.apply(effects, undefined, ids);
    // Rollups: one row per PC, series and working minute (weekdays 07:30–17:00 local).
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS bench_hosts (host TEXT PRIMARY KEY, i INTEGER)`);
    db.exec(`DELETE FROM bench_hosts`);
    const ins = db.prepare(`INSERT INTO bench_hosts VALUES (?, ?)`);
    hosts.forEach((h, i) => ins.run(h, i));
    const series = [
      ['cpu', '', `CASE WHEN h.i = 0 AND abs(random() % 100) < 20 THEN 96 ELSE 10 + abs(random() % 60) END`],
      ['mem', '', `40 + abs(random() % 50)`],
      ['net_rx', 'Ethernet', `CASE WHEN (m.m / 30) % 7 = 3 THEN 400000 ELSE 40000 + abs(random() % 20000) END`],
      ['ping_loss', '8.8.8.8', `CASE WHEN abs(random() % 100) < 2 THEN 8 ELSE 0 END`],
      ['http_total', 'dichvucong', `250 + abs(random() % 400)`],
      ['http_total', 'motcua', `300 + abs(random() % 500)`],
      ['http_ok', 'dichvucong', `CASE WHEN abs(random() % 1000) < 3 THEN 0 ELSE 100 END`],
      ['http_ok', 'motcua', `100`],
    ];
    // Series first (the rollups are keyed by their id), then one rollup row per series and minute.
    const addSeries = db.prepare(
      `INSERT OR IGNORE INTO history_series (site, metric, host, key, last_t) SELECT @site, @metric, host, @key, ${MONTH_FROM + DAYS * 86_400_000} FROM bench_hosts`,
    );
    const seriesOf = `JOIN history_series s ON s.site = @site AND s.metric = @metric AND s.host = h.host AND s.key = @key`;
    for (const [metric, key, value] of series) {
      addSeries.run({ site, metric, key });
      db.prepare(
        `WITH RECURSIVE d(day) AS (SELECT 0 UNION ALL SELECT day + 1 FROM d WHERE day < ${DAYS - 1}),
              m(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM m WHERE m < 569)
         INSERT INTO rollup_1m (series, t, vmin, vmax, vsum, n)
         SELECT series, t, v, v, v * 4, 4 FROM (
           SELECT s.id AS series, ${MONTH_FROM} + d.day * 86400000 + (450 + m.m) * 60000 AS t, ${value} AS v
           FROM bench_hosts h ${seriesOf} CROSS JOIN d CROSS JOIN m WHERE (d.day + 6) % 7 < 5)`,
      ).run({ site, metric, key });
    }
    addSeries.run({ site, metric: 'disk', key: 'C:' });
    db.prepare(
      `WITH RECURSIVE hr(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM hr WHERE k < ${DAYS * 24 - 1})
       INSERT INTO rollup_1h (series, t, vmin, vmax, vsum, n)
       SELECT series, ${MONTH_FROM} + hr.k * 3600000, v, v, v * 240, 240
       FROM (SELECT s.id AS series, CASE WHEN h.i % 10 = 0 THEN 94 ELSE 60 END AS v FROM bench_hosts h ${seriesOf}) CROSS JOIN hr`,
    ).run({ site, metric: 'disk', key: 'C:' });
  })();
  return hosts.length;
}

function openBenchStore(dir) {
  const file = join(dir, 'canh.db');
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  const history = new SqliteHistory(db, { ...systemClock, now: () => Date.UTC(2026, 11, 2) });
  return { db, store, history, outageStore: new SqliteOutageStore(db) };
}

function sourcesFor({ db, store, history, outageStore }, sites) {
  return {
    store,
    history,
    siteMinutes: process.env.BENCH_REPORT_HISTORY_PORT ? undefined : rollupSiteMinutes(db, history),
    outages: outageStore,
    sites: siteDirectory(Object.fromEntries(sites.map((s) => [s, SiteSettingsSchema.parse({ lineMbps: 20 })])), SiteSettingsSchema.parse({})),
  };
}

function timeRuns(runs, fn) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { times, last };
}

async function main() {
  const rows = [['case', 'sites', 'PCs', 'rollup rows', 'fill s', 'runs', 'median s', 'min s', 'max s']];

  // One site, 40 PCs.
  const one = openBenchStore(tempDir('canh-bench-report-site-'));
  let t0 = performance.now();
  fillSite(one, 'xa-tan-phu', SITE_PCS);
  const fillOne = (performance.now() - t0) / 1000;
  const rowsOne = one.db.prepare('SELECT count(*) AS n FROM rollup_1m').get().n;
  const src1 = sourcesFor(one, ['xa-tan-phu']);
  const site = timeRuns(RUNS, () => REPORT_RENDERERS.html.render(buildReport({ site: 'xa-tan-phu', month: MONTH }, src1)));
  rows.push(['one site', 1, SITE_PCS, rowsOne, fmt(fillOne), RUNS, fmt(median(site.times), 2), fmt(Math.min(...site.times), 2), fmt(Math.max(...site.times), 2)]);
  process.stdout.write(`one site: ${site.times.map((x) => fmt(x, 2)).join(', ')} s (HTML ${site.last.length} bytes)\n`);
  // The outages come from the outage store: 3 power cuts (40 + 60 + 30 min), 1 network cut.
  const cuts = buildReport({ site: 'xa-tan-phu', month: MONTH }, src1).sites[0];
  process.stdout.write(
    `one site outages: ${cuts.powerCuts.count} power cuts (${fmt(cuts.powerCuts.totalMs / MIN)} min), ${cuts.networkCuts.count} network cut(s) (${fmt(cuts.networkCuts.totalMs / MIN)} min); expected 3 (130+ min), 1 (20+ min)\n`,
  );
  if (cuts.powerCuts.count !== 3 || cuts.networkCuts.count !== 1) throw new Error('bench:report: the report does not count the outages the generator recorded');
  one.store.close();

  // A province: 100 sites.
  const prov = openBenchStore(tempDir('canh-bench-report-province-'));
  const names = Array.from({ length: PROVINCE_SITES }, (_, i) => `xa-${String(i + 1).padStart(3, '0')}`);
  t0 = performance.now();
  for (const s of names) fillSite(prov, s, PROVINCE_PCS);
  const fillProv = (performance.now() - t0) / 1000;
  const rowsProv = prov.db.prepare('SELECT count(*) AS n FROM rollup_1m').get().n;
  process.stdout.write(`province filled: ${rowsProv} rollup rows in ${fmt(fillProv)} s\n`);
  const srcP = sourcesFor(prov, names);
  const province = timeRuns(PROVINCE_RUNS, () => REPORT_RENDERERS.html.render(buildReport({ site: 'all', month: MONTH }, srcP)));
  rows.push([
    'province (site=all)',
    PROVINCE_SITES,
    PROVINCE_SITES * PROVINCE_PCS,
    rowsProv,
    fmt(fillProv),
    PROVINCE_RUNS,
    fmt(median(province.times), 2),
    fmt(Math.min(...province.times), 2),
    fmt(Math.max(...province.times), 2),
  ]);
  prov.store.close();

  process.stdout.write(`\n${table(rows)}\n\n`);
  const p = median(province.times);
  process.stdout.write(
    `bench:report: one site (${SITE_PCS} PCs) ${fmt(median(site.times), 2)} s; province (${PROVINCE_SITES} sites, ${PROVINCE_SITES * PROVINCE_PCS} PCs) ${fmt(p, 1)} s median (target ≤ ${TARGET_S} s: ${p <= TARGET_S ? 'met' : 'NOT met'})\n`,
  );
  return 0;
}

runMain(main);
