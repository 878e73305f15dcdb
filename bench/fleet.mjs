// Shared by bench/ingest.mjs and bench/province.mjs: generator processes of simulated
// agents (bench/ingest-gen.mjs), the collector's latency histogram from /metrics, and the
// loss/duplicate check of the agents' ledger against the SQLite file.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { ROOT, startProcess } from './lib.mjs';

/** Start the generator processes (agents split between them); resolves when all are connected. */
export async function startGenerators({ url, agents, dir, label, procs, gen, protocolVersion = 5, wrap }) {
  const per = Math.ceil(agents.length / procs);
  const gens = [];
  for (let i = 0; i < procs; i++) {
    const mine = agents.slice(i * per, (i + 1) * per);
    if (!mine.length) continue;
    const cfg = { url, protocolVersion, ...gen, ...(gen.rate ? { rate: (gen.rate * mine.length) / agents.length } : {}), agents: mine };
    // `wrap` (e.g. withFileLimit) turns [cmd, args] into the command actually spawned.
    // BENCH_GEN_NODE_FLAGS: node flags for the generators (e.g. `--cpu-prof --cpu-prof-dir=…`).
    const genFlags = (process.env.BENCH_GEN_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const [cmd, args] = (wrap ?? ((c, a) => [c, a]))(process.execPath, [...genFlags, join(ROOT, 'bench/ingest-gen.mjs')]);
    const h = startProcess(`gen-${label}-${i}`, cmd, args, {
      env: { ...process.env, BENCH_GEN_CONFIG: JSON.stringify(cfg) },
      logFile: join(dir, `gen-${label}-${i}.log`),
      rawStdout: true,
      stdin: true,
    });
    const g = { h, last: {}, info: {}, series: [] };
    g.ready = new Promise((res, rej) => {
      g.done = new Promise((resDone) => {
        createInterface({ input: h.child.stdout }).on('line', (line) => {
          let m;
          try {
            m = JSON.parse(line);
          } catch {
            return;
          }
          if (m.type === 'ready') res();
          else if (m.type === 'info') g.info = m;
          else if (m.type === 'progress') {
            g.last = m;
            g.series.push({ at: m.at, acked: m.acked, offered: m.offered });
          } else if (m.type === 'done') {
            g.last = m;
            resDone(m);
          }
        });
        h.exited.then((e) => {
          rej(new Error(`generator ${label}-${i} exited before ready (${JSON.stringify(e)}):\n${h.out()}`));
          resDone(undefined);
        });
      });
    });
    gens.push(g);
  }
  await Promise.all(gens.map((g) => g.ready));
  return gens;
}

/** Sum of one counter over the generators' latest lines. */
export const sumLast = (gens, k) => gens.reduce((a, g) => a + (g.last?.[k] ?? 0), 0);

/** Buckets of a Prometheus histogram from /metrics text: [[le, cumulative count]…]. */
export function histogramBuckets(text, name) {
  const out = [];
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) out.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  return out.sort((a, b) => a[0] - b[0]);
}
/** Quantile (upper bucket bound, s) of the difference of two bucket snapshots. */
export function histogramQuantile(before, after, q) {
  const b = new Map(before);
  const d = after.map(([le, n]) => [le, n - (b.get(le) ?? 0)]);
  const total = d.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  for (const [le, n] of d) if (n >= q * total) return le;
  return Infinity;
}

/**
 * Check the ledger (per site/host/boot, records offered = seqs 0..n-1) against the SQLite
 * file: missing records and duplicates, samples and events together (one seq counter).
 */
export function checkLedger(dbFile, ledger) {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT site, host, boot, count(*) AS n, count(DISTINCT seq) AS d, max(seq) AS mx FROM
        (SELECT site, host, boot, seq FROM samples UNION ALL SELECT site, host, boot, seq FROM events) GROUP BY site, host, boot`,
      )
      .all();
    const stored = new Map(rows.map((r) => [`${r.site}/${r.host}/${r.boot}`, r]));
    let offered = 0;
    let found = 0;
    let dups = 0;
    let missing = 0;
    let beyond = 0;
    for (const [site, host, boot, n] of ledger) {
      offered += n;
      const r = stored.get(`${site}/${host}/${boot}`);
      if (!r) {
        missing += n;
        continue;
      }
      found += r.d;
      dups += r.n - r.d;
      if (r.mx >= n) beyond++;
      missing += Math.max(0, n - r.d);
    }
    return { offered, stored: found, lost: missing, duplicates: dups, unexpected: beyond };
  } finally {
    db.close();
  }
}
