// bench:api — the REST API with a province-sized embedded store: 500 hosts (50 sites of
// 10 PCs) with 30 days of 15-minute and 1-hour rollups, the last 2 days of 1-minute
// rollups and the last hour of raw samples, written straight into SQLite (fast), then a
// real collector process (dist/) serves the board's requests. Measures the latency of the
// site page's data (/api/sites/:site and the four 24-hour history calls the board's site
// page makes), plus the overview and a host page's 30-day charts, and the board's page
// weight (/ and its assets, raw and gzip).
//
// Why not 30 days of 1-minute rollups too: that is 200+ million rows to write (minutes
// of disk I/O per run on a shared machine), and no call measured here reads 1m buckets
// at all (`auto` picks 15m for 24 h and 1h for 7-30 d); a bigger table only
// deepens the B-tree by a level.
//
// Env: BENCH_SITES (50), BENCH_HOSTS_PER_SITE (10), BENCH_DAYS (30), BENCH_RUNS (5),
// BENCH_KEEP=1 keeps the data dir.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { CLI, importDist, collectorEnv, fmt, freePort, median, procCpu, quantile, runMain, startProcess, table, tempDir, waitFor } from './lib.mjs';

const SITES = Number(process.env.BENCH_SITES ?? 50);
const PER_SITE = Number(process.env.BENCH_HOSTS_PER_SITE ?? 10);
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PAGES_PER_RUN = 40;
const TARGET_P95_MS = 200;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** 1-minute buckets are filled for the last 6 hours only (see the header). */
const ONE_MIN_SPAN = 6 * HOUR;

/** Series per host: [metric, key, base value, amplitude]. */
const SERIES = [
  ['cpu', '', 35, 30],
  ['mem', '', 70, 15],
  ['disk', 'C:', 80, 2],
  ['net_rx', 'Ethernet', 400_000, 350_000],
  ['net_tx', 'Ethernet', 80_000, 60_000],
  ['ping_rtt', '192.168.1.1', 1.5, 1],
  ['ping_p95', '192.168.1.1', 4, 3],
  ['ping_loss', '192.168.1.1', 0.5, 0.5],
  ['ping_rtt', 'dichvucong.gov.vn', 35, 25],
  ['ping_p95', 'dichvucong.gov.vn', 80, 60],
  ['ping_loss', 'dichvucong.gov.vn', 2, 2],
  ['http_total', 'dvc', 600, 400],
  ['http_ok', 'dvc', 100, 0],
  ['up', '', 100, 0],
];

function sampleMetrics(t, h) {
  const w = Math.sin((t / DAY) * 2 * Math.PI + h);
  return {
    cpu: { usage: 35 + 30 * w, load1: null, load5: null, load15: null, cores: 4 },
    mem: { total: 8e9, used: 5.6e9 + 1e9 * w, available: 2.4e9 - 1e9 * w, swapTotal: 2e9, swapUsed: 1e8 },
    disks: [{ mount: 'C:', fs: 'NTFS', total: 256e9, used: 205e9, free: 51e9, usedPct: 80 }],
    net: [{ iface: 'Ethernet', rxBps: 400_000 + 350_000 * w, txBps: 80_000 + 60_000 * w, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }],
    uptime: { seconds: 30_000, bootTime: t - 30_000_000 },
    ping: [
      { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: 1.5, rttP95: 4, rttMax: 5 },
      { target: 'dichvucong.gov.vn', role: 'configured', sent: 4, lossPct: 0, rttMedian: 35 + 25 * w, rttP95: 80 + 60 * w, rttMax: 150 },
    ],
    http: [{ name: 'dvc', url: 'https://dichvucong.gov.vn/', ok: true, status: 200, dnsMs: 5, connectMs: 20, tlsMs: 40, firstByteMs: 300, totalMs: 600 + 400 * w }],
  };
}

/** Fill the store the collector will open: schema via the collector's own code, rows by SQL. */
async function fill(dataDir, now) {
  const { openDatabase, SqliteStore } = await importDist('sqliteStore');
  const { SqliteHistory } = await importDist('sqliteHistory');
  const { TokenStore } = await importDist('tokenStore');
  const { SqliteEventQuery } = await importDist('sqliteEventQuery');
  const file = join(dataDir, 'canh.db');
  const db = openDatabase(file);
  new SqliteStore(db, file);
  new SqliteHistory(db, { now: () => now });
  new SqliteEventQuery(db);
  const token = new TokenStore(db).create('bench', 'read', now).token;
  db.close();

  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = OFF');
  const started = Date.now();
  const hosts = [];
  for (let s = 0; s < SITES; s++)
    for (let i = 0; i < PER_SITE; i++) hosts.push({ site: `xa-${String(s).padStart(3, '0')}`, host: `pc-${String(i).padStart(2, '0')}`, h: s * PER_SITE + i });
  const tx = (fn) => raw.transaction(fn)();

  const insHost = raw.prepare(`INSERT INTO hosts (site, host, hostname, state, state_since, status_t, last_seen, boot, os_boot, agent_version, last_skew_ms, first_seen)
    VALUES (?, ?, ?, 'online', ?, ?, ?, 'benchboot01', ?, '0.1.0', 0, ?)`);
  const insInv = raw.prepare(`INSERT INTO inventory (site, host, boot, seq, t, received, data) VALUES (?, ?, 'benchboot01', 0, ?, ?, ?)`);
  tx(() => {
    for (const x of hosts) {
      insHost.run(x.site, x.host, `PC-${x.h}`, now - DAYS * DAY, now, now, now - 30_000_000, now - DAYS * DAY);
      const old = x.h % 3 === 0;
      insInv.run(
        x.site,
        x.host,
        now - DAY,
        now - DAY,
        JSON.stringify({
          hostname: `PC-${x.h}`,
          cpu: { manufacturer: 'Intel', brand: old ? 'Core i3-4160' : 'Core i5-8500', cores: 4, physicalCores: 2, speedGHz: 3.6 },
          memTotal: old ? 4e9 : 8e9,
          disks: [{ device: 'disk0', name: 'disk', type: old ? 'HDD' : 'SSD', size: 256e9 }],
          os: { platform: 'Windows', distro: 'Windows 10 Pro', release: '10.0.19045', arch: 'x64', kernel: '10.0.19045' },
          agentVersion: '0.1.0',
        }),
      );
    }
  });

  // Raw samples: the last hour at 15 s.
  const insSample = raw.prepare(`INSERT INTO samples (site, host, boot, seq, t, t_agent, sent, received, skew_ms, interval, cpu_usage, mem_used_pct, metrics)
    VALUES (?, ?, 'benchboot01', ?, ?, ?, ?, ?, 0, 15, ?, ?, ?)`);
  let samples = 0;
  tx(() => {
    for (const x of hosts) {
      let seq = 0;
      for (let t = now - HOUR; t <= now; t += 15_000) {
        const m = sampleMetrics(t, x.h);
        insSample.run(x.site, x.host, seq++, t, t, t, t, m.cpu.usage, (100 * m.mem.used) / m.mem.total, JSON.stringify(m));
        samples++;
      }
    }
  });
  // The rollups below already cover these samples: the job starts after them.
  raw.prepare(`INSERT INTO history_state (name, value) VALUES ('samples_id', (SELECT max(id) FROM samples))`).run();

  // Rollups, generated inside SQLite: a recursive time series × every series of a site, in
  // primary-key order (series, t) — appends, the fastest way into a B-tree — a site per transaction.
  const insSeries = raw.prepare(`INSERT INTO history_series (site, metric, host, key, last_t) VALUES (?, ?, ?, ?, ?)`);
  tx(() => {
    for (const x of hosts) for (const [metric, key] of SERIES) insSeries.run(x.site, metric, x.host, key, now);
  });
  raw.exec(`CREATE TEMP TABLE bench_series (metric TEXT, key TEXT, base REAL, amp REAL)`);
  const insBs = raw.prepare(`INSERT INTO bench_series VALUES (?, ?, ?, ?)`);
  for (const x of SERIES) insBs.run(...x);
  const rows = {};
  for (const [table, step, span] of [
    ['rollup_1h', HOUR, DAYS * DAY],
    ['rollup_15m', 15 * MIN, DAYS * DAY],
    ['rollup_1m', MIN, ONE_MIN_SPAN],
  ]) {
    const first = Math.floor((now - span) / step) * step;
    const n = step / 15_000;
    const wave = `sin(ts.t * 6.283185307179586 / 86400000.0 + CAST(substr(s.host, 4) AS INTEGER) + @site * @perSite)`;
    const ins = raw.prepare(`
      WITH RECURSIVE ts(t) AS (SELECT @first UNION ALL SELECT t + @step FROM ts WHERE t + @step <= @now)
      INSERT INTO ${table} (series, t, vmin, vmax, vsum, n)
      SELECT s.id, ts.t, b.base + b.amp * (${wave} - 0.1), b.base + b.amp * (${wave} + 0.1), (b.base + b.amp * ${wave}) * @n, @n
      FROM history_series s JOIN bench_series b ON b.metric = s.metric AND b.key = s.key, ts
      WHERE s.site = @siteId
      ORDER BY s.id, ts.t`);
    let count = 0;
    for (let s = 0; s < SITES; s++) {
      tx(() => {
        count += ins.run({ first, step, now, n, site: s, perSite: PER_SITE, siteId: hosts[s * PER_SITE].site }).changes;
      });
    }
    rows[table] = count;
  }
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  return { token, hosts, samples, rows, seconds: (Date.now() - started) / 1000 };
}

async function timed(url, token) {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
  return { ms, bytes: body.byteLength, gzipBytes: gzipSync(Buffer.from(body), { level: 4 }).length, json: () => JSON.parse(Buffer.from(body).toString('utf8')) };
}

/** The board's page weight: `/` and every script, stylesheet and image it links (same origin). */
async function pageWeight(base) {
  const seen = new Map();
  const get = async (path) => {
    if (seen.has(path)) return;
    const res = await fetch(new URL(path, base), { headers: { 'accept-encoding': 'identity' } });
    const buf = Buffer.from(await res.arrayBuffer());
    seen.set(path, { status: res.status, raw: buf.length, gzip: gzipSync(buf, { level: 6 }).length, type: res.headers.get('content-type') ?? '' });
    if ((res.headers.get('content-type') ?? '').includes('html')) {
      const html = buf.toString('utf8');
      for (const m of html.matchAll(/<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']/gi)) {
        const u = new URL(m[1], new URL(path, base));
        if (u.origin === new URL(base).origin) await get(u.pathname + u.search);
      }
    }
  };
  await get('/');
  const files = [...seen].map(([path, f]) => ({ path, ...f }));
  return { files, raw: files.reduce((a, f) => a + f.raw, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
}

async function main() {
  const dataDir = tempDir('canh-bench-api-');
  const now = Date.now();
  console.log(`filling ${SITES * PER_SITE} hosts (${SITES} sites × ${PER_SITE}), ${DAYS} days of rollups …`);
  const filled = await fill(dataDir, now);
  const totalRows = Object.values(filled.rows).reduce((a, b) => a + b, 0);
  console.log(`filled in ${fmt(filled.seconds)} s: ${filled.samples} raw samples, rollup rows ${JSON.stringify(filled.rows)} (${totalRows} in all)`);

  const httpPort = await freePort();
  const mqttPort = await freePort();
  const col = startProcess('collector', process.execPath, [CLI, 'collector'], {
    env: collectorEnv({ dataDir, httpPort, mqttPort, extra: { CANH_COLLECTOR__LOG__LEVEL: 'warn', CANH_COLLECTOR__API__RATE_LIMIT_PER_MINUTE: '1000000' } }),
  });
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor('collector HTTP', async () => (await fetch(`${base}/api/health`).catch(() => null))?.ok, 60_000, 200);
  const token = filled.token;

  const sites = [...new Set(filled.hosts.map((h) => h.site))];
  const sitePage = (site, t) => [
    `/api/sites/${site}`,
    ...['ping_rtt', 'ping_loss', 'net_rx', 'net_tx'].map((m) => `/api/history?site=${site}&metric=${m}&from=${t - DAY}&to=${t}&resolution=auto`),
  ];
  const hostPage = (site, host, t) =>
    ['cpu', 'mem', 'disk', 'net_rx', 'ping_rtt'].map((m) => `/api/history?site=${site}&host=${host}&metric=${m}&from=${t - 30 * DAY}&to=${t}&resolution=auto`);

  // Check the answers once: the right resolution and every host's series.
  const check = (await timed(`${base}${sitePage(sites[0], Date.now())[1]}`, token)).json();
  if (check.resolution !== '15m' || check.series.length !== PER_SITE * 2 || check.series[0].points.length < 90) {
    throw new Error(`unexpected history answer: resolution ${check.resolution}, ${check.series.length} series, ${check.series[0]?.points.length} points`);
  }
  const site0 = (await timed(`${base}/api/sites/${sites[0]}`, token)).json();
  if (site0.hosts.length !== PER_SITE) throw new Error(`site page lists ${site0.hosts.length} hosts`);
  // Warm-up (page cache, statement cache).
  for (const s of sites.slice(0, 5)) for (const p of sitePage(s, Date.now())) await timed(`${base}${p}`, token);

  const loadBefore = loadavg()[0];
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const req = [];
    const pages = [];
    const siteReq = [];
    const histReq = [];
    const overview = [];
    const host30 = [];
    let bytes = 0;
    let gzBytes = 0;
    for (let i = 0; i < PAGES_PER_RUN; i++) {
      const site = sites[(r * PAGES_PER_RUN + i * 7) % sites.length];
      const t = Date.now();
      // The board loads a site page's data in parallel.
      const t0 = performance.now();
      const res = await Promise.all(sitePage(site, t).map((p) => timed(`${base}${p}`, token)));
      pages.push(performance.now() - t0);
      res.forEach((x, j) => {
        req.push(x.ms);
        (j === 0 ? siteReq : histReq).push(x.ms);
        bytes += x.bytes;
        gzBytes += x.gzipBytes;
      });
      if (i % 4 === 0) {
        overview.push((await timed(`${base}/api/sites`, token)).ms);
        const hp = await Promise.all(hostPage(site, `pc-0${i % PER_SITE}`, t).map((p) => timed(`${base}${p}`, token)));
        host30.push(...hp.map((x) => x.ms));
      }
    }
    runs.push({
      p95: quantile(req, 0.95),
      p50: quantile(req, 0.5),
      page95: quantile(pages, 0.95),
      site95: quantile(siteReq, 0.95),
      hist95: quantile(histReq, 0.95),
      overview95: quantile(overview, 0.95),
      host95: quantile(host30, 0.95),
      kbPerPage: bytes / PAGES_PER_RUN / 1024,
      gzKbPerPage: gzBytes / PAGES_PER_RUN / 1024,
    });
    console.log(`run ${r + 1}/${RUNS}: site-page request p95 ${fmt(runs.at(-1).p95)} ms, p50 ${fmt(runs.at(-1).p50)} ms, whole page data p95 ${fmt(runs.at(-1).page95)} ms`);
  }
  const med = (k) => median(runs.map((x) => x[k]));
  // The collector's CPU per site page load: a figure the machine's other load does not inflate.
  const CPU_PAGES = 100;
  const cpu0 = procCpu(col.pid).self;
  for (let i = 0; i < CPU_PAGES; i++) {
    const t = Date.now();
    await Promise.all(sitePage(sites[(i * 13) % sites.length], t).map((p) => timed(`${base}${p}`, token)));
  }
  const cpuPerPage = (procCpu(col.pid).self - cpu0) / CPU_PAGES;
  const weight = await pageWeight(base);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const storeBytes = Number(/^canh_store_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);

  console.log('');
  console.log(
    table([
      ['figure (median of runs)', 'value'],
      ['site page: per-request p95 (ms) — /api/sites/:site + 4 × /api/history 24 h', fmt(med('p95'))],
      ['site page: per-request p50 (ms)', fmt(med('p50'))],
      ['site page: all 5 requests in parallel, p95 (ms)', fmt(med('page95'))],
      ['  /api/sites/:site p95 (ms)', fmt(med('site95'))],
      ['  /api/history 24 h site-wide p95 (ms)', fmt(med('hist95'))],
      ['overview /api/sites (500 hosts) p95 (ms)', fmt(med('overview95'))],
      ['host page /api/history 30 d p95 (ms)', fmt(med('host95'))],
      ['collector CPU per site page load, 5 requests (ms)', fmt(cpuPerPage)],
      ['site page data per load (KiB JSON; gzipped on the wire)', `${fmt(med('kbPerPage'))} (${fmt(med('gzKbPerPage'))})`],
      ['store size (MB)', fmt(storeBytes / 1e6, 0)],
      ['machine load average before / after (cores: 2, shared)', `${fmt(loadBefore)} / ${fmt(loadavg()[0])}`],
    ]),
  );
  console.log('');
  console.log(table([['board file', 'status', 'raw bytes', 'gzip bytes'], ...weight.files.map((f) => [f.path, f.status, f.raw, f.gzip]), ['total', '', weight.raw, weight.gzip]]));
  console.log(`board page weight: ${fmt(weight.raw / 1024)} KiB raw, ${fmt(weight.gzip / 1024)} KiB gzip (${weight.files.length} files)`);
  await col.stop();

  const p95 = med('p95');
  const pass = p95 <= TARGET_P95_MS;
  console.log('');
  console.log(
    `HEADLINE API p95 ${fmt(p95)} ms for the site page's data (${SITES * PER_SITE} hosts, ${DAYS} d of rollups; median of ${RUNS} runs), board ${fmt(weight.gzip / 1024)} KiB gzip (target p95 <= ${TARGET_P95_MS} ms): ${pass ? 'PASS' : 'FAIL'}`,
  );
  return pass ? 0 : 1;
}

runMain(main);
