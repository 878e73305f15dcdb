/**
 * Every query of the PromQL dashboards (dashboards/promql/*.json) against a REAL
 * VictoriaMetrics, filled through its InfluxDB write API (/api/v2/write, as the collector
 * writes) with data generated from INFLUX_SCHEMA: 2 sites × 3 hosts, 30 minutes every
 * 15 s, for every (measurement, field) the PromQL dashboards use. Each panel query, with
 * its template variables substituted (all sites/hosts, then one site/host), must return
 * status success and at least one series with data.
 *
 * Fails (does not skip) when victoria-metrics is not installed. Has its own small
 * launcher on purpose (independent of other helpers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFLUX_SCHEMA, type MeasurementSchema } from '../../collector/influx/schema.js';
import { dashboardQueries, loadDashboards, schemaPairs, type Dashboard } from '../helpers/dashboards.js';
import { waitFor } from '../helpers/wait.js';

const VM_BIN = process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics';
const SITES = ['xa-an-binh', 'phuong-ben-nghe'];
const HOSTS = ['pc-motcua-01', 'pc-motcua-02', 'pc-ketoan-01'];
const STEP_S = 15;
const SPAN_S = 30 * 60;
/** Values of the non-identity tags of the schema (one series per combination). */
const TAG_VALUES: Record<string, string[]> = {
  mount: ['/'],
  iface: ['eth0'],
  target: ['192.0.2.1'],
  probe: ['dichvucong'],
  role: ['gateway'],
  scope: ['site'],
  cause: ['power', 'network'],
  type: ['agent_start'],
  severity: ['critical'],
};

interface RunningVM {
  url: string;
  proc: ChildProcess;
  dir: string;
  output(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const a = srv.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

async function startVictoriaMetrics(): Promise<RunningVM> {
  if (!existsSync(VM_BIN)) throw new Error('install victoria-metrics: apt-get install -y victoria-metrics');
  const dir = await mkdtemp(join(tmpdir(), 'canh-vm-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let out = '';
    const proc = spawn(
      VM_BIN,
      [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${join(dir, 'data')}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=WARN',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      try {
        const r = await fetch(`${url}/health`);
        if (r.ok && (await r.text()).trim() === 'OK') return { url, proc, dir, output: () => out };
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    if (attempt >= 3 || !/address already in use/i.test(out)) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`victoria-metrics did not become healthy on port ${port}:\n${out.slice(-2000)}`);
    }
  }
}

async function stopVictoriaMetrics(vm: RunningVM | undefined): Promise<void> {
  if (!vm) return;
  if (vm.proc.exitCode === null) {
    const exited = new Promise<void>((r) => vm.proc.once('exit', () => r()));
    vm.proc.kill('SIGTERM');
    const t = setTimeout(() => vm.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
  await rm(vm.dir, { recursive: true, force: true });
}

/** A plausible value for a field, by name and type (line-protocol syntax). */
function fieldValue(measurement: string, field: string, type: 'float' | 'integer' | 'boolean', i: number): string {
  if (type === 'boolean') return 'true';
  if (measurement === 'host_status') return '1i';
  if (field === 'count') return '1i';
  if (field === 'ok' || field === 'on_battery') return i % 10 === 0 ? '0i' : '1i';
  if (field === 'status') return '200i';
  const wave = (lo: number, hi: number) => lo + ((hi - lo) * (1 + Math.sin(i / 7))) / 2;
  let v: number;
  if (field.endsWith('_pct')) v = wave(5, 95);
  else if (field.endsWith('_ms')) v = wave(1, 80);
  else if (field.endsWith('_bps')) v = wave(1e5, 1.2e7);
  else if (field === 'duration_s') v = 60 + (i % 10) * 30;
  else if (field === 'seconds') v = 3600 + i * STEP_S;
  else if (field === 'hosts') v = 3;
  else v = wave(1, 1000);
  return type === 'integer' ? `${Math.round(v)}i` : v.toFixed(3);
}

/** Line protocol for every (measurement, field) in `pairs`, 2 sites × 3 hosts, every 15 s. */
function generateLines(pairs: Array<{ measurement: string; field: string }>, startMs: number): string[] {
  const byMeasurement = new Map<string, string[]>();
  for (const p of pairs) byMeasurement.set(p.measurement, [...(byMeasurement.get(p.measurement) ?? []), p.field]);
  const lines = new Set<string>();
  for (let i = 0; i * STEP_S <= SPAN_S; i++) {
    const ts = startMs + i * STEP_S * 1000;
    for (const site of SITES)
      for (const host of HOSTS)
        for (const [m, fields] of byMeasurement) {
          const schema = (INFLUX_SCHEMA as Record<string, MeasurementSchema>)[m]!;
          let tagSets: string[][] = [[]];
          for (const t of schema.tags) {
            const values = t === 'site' ? [site] : t === 'host' ? [host] : (TAG_VALUES[t] ?? ['x']);
            tagSets = tagSets.flatMap((ts) => values.map((v) => [...ts, `${t}=${v}`]));
          }
          const fv = fields.map((f) => `${f}=${fieldValue(m, f, schema.fields[f]!, i)}`);
          for (const tags of tagSets) lines.add(`${m},${tags.join(',')} ${fv.join(',')} ${ts}`); // a Set: host-less measurements once per site
        }
  }
  return [...lines];
}

/** Grafana's template variables, as a test would pick them. */
function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = vars[name];
    if (v === undefined) throw new Error(`no test value for variable ${whole} in: ${expr}`);
    return v;
  });
}

const BUILTINS = { __rate_interval: '1m', __interval: '15s', __range: `${SPAN_S}s`, line_mbps: '100' };
const VARIANTS: Array<{ name: string; vars: Record<string, string> }> = [
  { name: 'all sites', vars: { ...BUILTINS, site: '.*', host: '.*', cause: '.*' } },
  { name: 'one site', vars: { ...BUILTINS, site: SITES[1]!, host: HOSTS[0]!, cause: 'power' } },
];

const promFiles = loadDashboards().filter((f) => f.file.startsWith('promql/'));

describe('PromQL dashboards against VictoriaMetrics', { timeout: 60_000 }, () => {
  let vm: RunningVM | undefined;
  const endS = Math.floor(Date.now() / 1000 / STEP_S) * STEP_S - 60;
  const startS = endS - SPAN_S;
  const allPairs = new Map<string, { measurement: string; field: string }>();
  for (const f of promFiles) for (const p of schemaPairs(f.dashboard)) allPairs.set(`${p.measurement}_${p.field}`, p);

  beforeAll(async () => {
    expect(promFiles.map((f) => f.file).sort()).toEqual(['promql/diem.json', 'promql/su-co.json']);
    vm = await startVictoriaMetrics();
    const lines = generateLines([...allPairs.values()], startS * 1000);
    const res = await fetch(`${vm.url}/api/v2/write?org=canh&bucket=canh&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(res.status, await res.text()).toBe(204);
    // Wait until every written series is searchable.
    const match = `{__name__=~"${[...allPairs.keys()].join('|')}"}`;
    const vmUrl = vm.url;
    let seen = 0;
    const wantSeries = [...allPairs.values()].reduce((n, p) => {
      const tags = (INFLUX_SCHEMA as Record<string, MeasurementSchema>)[p.measurement]!.tags as readonly string[];
      const combos = tags.reduce((c, t) => c * (t === 'site' ? SITES.length : t === 'host' ? HOSTS.length : (TAG_VALUES[t]?.length ?? 1)), 1);
      return n + combos;
    }, 0);
    await waitFor(
      async () => {
        const r = (await (await fetch(`${vmUrl}/api/v1/series?${new URLSearchParams({ 'match[]': match, start: String(startS - 60), end: String(endS + 60) })}`)).json()) as {
          data: unknown[];
        };
        seen = r.data.length;
        return seen >= wantSeries;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `${wantSeries} series searchable in VictoriaMetrics` },
    );
    expect(seen, 'series visible in VictoriaMetrics').toBe(wantSeries);
  });

  afterAll(async () => {
    await stopVictoriaMetrics(vm);
  });

  it('names InfluxDB-written series <measurement>_<field> with the schema tags as labels', async () => {
    const r = (await (await fetch(`${vm!.url}/api/v1/series?${new URLSearchParams({ 'match[]': '{__name__=~"ping_.*|incident_.*"}', start: String(startS - 60) })}`)).json()) as {
      data: Array<Record<string, string>>;
    };
    expect(r.data.length).toBeGreaterThan(0);
    for (const s of r.data) {
      const { __name__: name, ...labels } = s;
      const m = Object.keys(INFLUX_SCHEMA).find((x) => name!.startsWith(`${x}_`))!;
      // VictoriaMetrics 1.79 adds no `db` label for /api/v2/write?bucket=… (it does for /write?db=…);
      // the dashboards never filter on it, so either way works.
      const allowed = new Set<string>([...(INFLUX_SCHEMA as Record<string, MeasurementSchema>)[m]!.tags, 'db']);
      for (const l of Object.keys(labels)) expect(allowed, `${name} label ${l}`).toContain(l);
    }
  });

  for (const { file, dashboard } of promFiles) {
    describe(file, () => {
      const queries = dashboardQueries(dashboard as Dashboard);
      const panelQueries = queries.filter((q) => q.where.startsWith('panel'));
      const varQueries = queries.filter((q) => q.where.startsWith('variable'));

      it.each(VARIANTS)('every panel query returns data ($name)', async ({ vars }) => {
        expect(panelQueries.length).toBeGreaterThan(0);
        const failures: string[] = [];
        await Promise.all(
          panelQueries.map(async (q) => {
            const expr = substitute(q.text, vars);
            const params = new URLSearchParams({ query: expr, start: String(startS), end: String(endS), step: `${STEP_S}s` });
            const res = await fetch(`${vm!.url}/api/v1/query_range`, { method: 'POST', body: params });
            const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ values: Array<[number, string]> }> } };
            if (body.status !== 'success') return failures.push(`${q.where}: ${body.error ?? res.status}\n  ${expr}`);
            const withData = (body.data?.result ?? []).filter((s) => s.values.some(([, v]) => v !== 'NaN'));
            if (withData.length === 0) failures.push(`${q.where}: no series with data\n  ${expr}`);
          }),
        );
        expect(failures).toEqual([]);
      });

      it('every variable query returns values', async () => {
        const failures: string[] = [];
        for (const q of varQueries) {
          const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q.text.trim());
          if (!m) {
            failures.push(`${q.where}: not label_values(metric{…}, label): ${q.text}`);
            continue;
          }
          const selector = substitute(m[1]!, VARIANTS[0]!.vars);
          const params = new URLSearchParams({ 'match[]': selector, start: String(startS), end: String(endS) });
          const body = (await (await fetch(`${vm!.url}/api/v1/label/${m[2]}/values?${params}`)).json()) as { status: string; data?: string[] };
          if (body.status !== 'success' || !body.data?.length) failures.push(`${q.where}: no values for ${m[2]} of ${selector}`);
        }
        expect(failures).toEqual([]);
      });
    });
  }
});
