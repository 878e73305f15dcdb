import type { DiskHealth, SampleMetrics } from '../../contract/schemas.js';
import type { SqliteDatabase, SqliteStore } from '../../collector/store/sqlite-store.js';
import type { SqliteOutageStore } from '../../collector/outage/sqlite-outage-store.js';
import type { OutageEffect } from '../../collector/outage/site-correlator.js';

/**
 * Fills a real SQLite store with a month of agent data whose figures are known in advance
 * (issue 7's report tests and `npm run bench:report`): samples every `intervalMs` for every
 * PC, agent `outage` / `network_cut` events for site incidents and single-PC crashes,
 * `freeze` events, and inventories. During a power cut no PC sends samples; during a
 * network cut they do (the agent buffers them) but the portals are unreachable.
 */
export interface GenInventory {
  brand: string;
  manufacturer?: string;
  cores?: number;
  memGb: number;
  diskType: 'HDD' | 'SSD' | 'NVMe';
  distro: string;
  release?: string;
}

export interface GenHost {
  host: string;
  hostname: string;
  inventory: GenInventory;
}

export interface GenMetrics {
  cpu: number;
  mem: number;
  /** Per-PC download, Mbit/s. */
  rxMbps: number;
  lossPct: number;
  rttMs: number;
  /** Portal response time, ms (ignored for failed probes). */
  httpMs: number;
  /** Portal name → reachable. */
  httpOk: Record<string, boolean>;
  diskPct: number;
  /** Busy % of the PC's one physical disk (issue 17); absent: an older agent without disk activity. */
  diskBusyPct?: number;
  /** Busy % of a second physical disk (`1 D:`), when the PC has one. */
  diskBusyPct2?: number;
  /** Pages swapped/paged in + out per second; absent: an older agent without memory pressure. */
  pagingPs?: number;
  /** Linux PSI memory `some` % (null: Windows, no PSI). */
  psiPct?: number | null;
}

export interface GenSite {
  site: string;
  hosts: GenHost[];
  from: number;
  to: number;
  /** Sampling interval (the agent's), ms: a number, or a function of the time for a denser sampling in the hours that matter. */
  intervalMs: number | ((t: number) => number);
  incidents: Array<{ cause: 'power_loss' | 'network'; start: number; end: number }>;
  hostOutages: Array<{ host: string; cause: 'crash' | 'hang_reset'; start: number; end: number }>;
  freezes: Array<{ host: string; at: number; durationMs: number }>;
  metrics(host: string, t: number, hostIndex: number): GenMetrics;
  /** `disk_health` checks (issue 17), each stored as the collector's ingest stores it. */
  diskChecks?: Array<{ host: string; at: number; disks: DiskHealth[] }>;
  /** `power_source` events: the PC ran on battery/UPS (`battery`) or came back to mains (`ac`). */
  powerSource?: Array<{ host: string; at: number; source: 'ac' | 'battery' }>;
}

const GB = 1024 ** 3;

function sampleMetrics(m: GenMetrics): SampleMetrics {
  const memTotal = 8 * GB;
  const diskTotal = 256 * GB;
  const diskUsed = Math.round((m.diskPct / 100) * diskTotal);
  return {
    cpu: { usage: m.cpu, load1: null, load5: null, load15: null, cores: 4 },
    mem: { total: memTotal, used: Math.round((m.mem / 100) * memTotal), available: memTotal - Math.round((m.mem / 100) * memTotal), swapTotal: 0, swapUsed: 0 },
    disks: [{ mount: 'C:', fs: 'NTFS', total: diskTotal, used: diskUsed, free: diskTotal - diskUsed, usedPct: m.diskPct }],
    net: [{ iface: 'Ethernet', rxBps: (m.rxMbps * 1e6) / 8, txBps: 20_000, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }],
    ping: [
      {
        target: '8.8.8.8',
        role: 'configured',
        sent: 10,
        lossPct: m.lossPct,
        rttMedian: m.lossPct >= 100 ? null : m.rttMs,
        rttP95: m.lossPct >= 100 ? null : m.rttMs * 1.5,
        rttMax: m.lossPct >= 100 ? null : m.rttMs * 2,
      },
    ],
    http: Object.entries(m.httpOk)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, ok]) => ({
        name,
        url: `https://${name}.gov.vn/`,
        ok,
        status: ok ? 200 : null,
        dnsMs: ok ? 5 : null,
        connectMs: ok ? 20 : null,
        tlsMs: ok ? 40 : null,
        firstByteMs: ok ? m.httpMs / 2 : null,
        totalMs: ok ? m.httpMs : null,
        ...(ok ? {} : { error: 'ETIMEDOUT' }),
      })),
    ...(m.diskBusyPct === undefined
      ? {}
      : {
          diskio: [
            { disk: '0 C:', busyPct: m.diskBusyPct, queue: m.diskBusyPct >= 90 ? 4 : 0.2 },
            ...(m.diskBusyPct2 === undefined ? [] : [{ disk: '1 D:', busyPct: m.diskBusyPct2, queue: 0.2 }]),
          ],
        }),
    ...(m.pagingPs === undefined
      ? {}
      : { pressure: { memSomePct: m.psiPct ?? null, memFullPct: m.psiPct ?? null, swapInPs: m.pagingPs / 2, swapOutPs: m.pagingPs / 2, hardFaultsPs: m.pagingPs / 2 } }),
  };
}

const within = (t: number, w: { start: number; end: number }) => t >= w.start && t < w.end;

/** Fill `store` (one transaction per call) with the site's month. Returns samples written. */
export function fillSite(store: SqliteStore, db: SqliteDatabase, g: GenSite): number {
  let written = 0;
  // One agent boot per generated period: (boot, seq) is the store's dedup key.
  const BOOT = `gen-${g.from}`;
  db.transaction(() => {
    const seq = new Map<string, number>();
    const next = (host: string) => {
      const s = seq.get(host) ?? 0;
      seq.set(host, s + 1);
      return s;
    };
    g.hosts.forEach((h, i) => {
      // Samples.
      let invDone = false;
      const step = typeof g.intervalMs === 'number' ? () => g.intervalMs as number : g.intervalMs;
      for (let t = g.from + i * 1000; t < g.to; t += step(t)) {
        const incident = g.incidents.find((x) => within(t, x));
        if (incident?.cause === 'power_loss') continue;
        if (g.hostOutages.some((o) => o.host === h.host && within(t, o))) continue;
        let m = g.metrics(h.host, t, i);
        if (incident?.cause === 'network') {
          m = { ...m, rxMbps: 0, lossPct: 100, httpOk: Object.fromEntries(Object.keys(m.httpOk).map((k) => [k, false])) };
        }
        const s = next(h.host);
        store.insertSample({ site: g.site, host: h.host, boot: BOOT, seq: s, t, tAgent: t, sent: t, received: t, skewMs: 0, interval: step(t) / 1000, metrics: sampleMetrics(m) });
        written++;
        if (!invDone) {
          const inv = h.inventory;
          store.upsertInventory({
            site: g.site,
            host: h.host,
            boot: BOOT,
            seq: next(h.host),
            t,
            received: t,
            hostname: h.hostname,
            data: {
              hostname: h.hostname,
              cpu: { manufacturer: inv.manufacturer ?? 'Intel', brand: inv.brand, cores: inv.cores ?? 4, physicalCores: inv.cores ?? 4, speedGHz: 3 },
              memTotal: inv.memGb * GB,
              disks: [{ device: 'disk0', name: 'disk0', type: inv.diskType, size: 256 * GB }],
              os: { platform: inv.distro.includes('Windows') ? 'win32' : 'linux', distro: inv.distro, release: inv.release ?? '', arch: 'x64', kernel: '' },
              agentVersion: '0.1.0',
            },
          });
          invDone = true;
        }
      }
      // Site incidents as each PC reports them: starts a few seconds apart, the first PC exact.
      for (const x of g.incidents) {
        const start = x.start + i * 5000;
        const end = x.end - i * 5000;
        store.insertEvent({
          site: g.site,
          host: h.host,
          boot: BOOT,
          seq: next(h.host),
          t: x.end + 30_000,
          received: x.end + 30_000,
          type: x.cause === 'power_loss' ? 'outage' : 'network_cut',
          severity: 'warning',
          message: x.cause,
          start,
          end,
          details: x.cause === 'power_loss' ? { cause: 'power_loss', uncertaintyMs: 15_000 } : { scope: 'wan' },
        });
      }
      for (const o of g.hostOutages.filter((o) => o.host === h.host)) {
        store.insertEvent({
          site: g.site,
          host: h.host,
          boot: BOOT,
          seq: next(h.host),
          t: o.end + 30_000,
          received: o.end + 30_000,
          type: 'outage',
          severity: 'warning',
          message: o.cause,
          start: o.start,
          end: o.end,
          details: { cause: o.cause, uncertaintyMs: 15_000 },
        });
      }
      for (const c of (g.diskChecks ?? []).filter((c) => c.host === h.host)) {
        store.insertEvent({
          site: g.site,
          host: h.host,
          boot: BOOT,
          seq: next(h.host),
          t: c.at,
          received: c.at,
          type: 'disk_health',
          severity: c.disks.some((d) => d.state !== 'ok') ? 'warning' : 'info',
          message: 'disk_health',
          details: { disks: c.disks },
        });
      }
      for (const p of (g.powerSource ?? []).filter((p) => p.host === h.host)) {
        store.insertEvent({
          site: g.site,
          host: h.host,
          boot: BOOT,
          seq: next(h.host),
          t: p.at,
          received: p.at,
          type: 'power_source',
          severity: p.source === 'battery' ? 'warning' : 'info',
          message: p.source,
          details: { source: p.source },
        });
      }
      for (const f of g.freezes.filter((f) => f.host === h.host)) {
        store.insertEvent({
          site: g.site,
          host: h.host,
          boot: BOOT,
          seq: next(h.host),
          t: f.at + f.durationMs,
          received: f.at + f.durationMs,
          type: 'freeze',
          severity: 'warning',
          message: 'freeze',
          start: f.at,
          end: f.at + f.durationMs,
        });
      }
    });
  })();
  return written;
}

/**
 * The month's known outages as the collector's outage tracker records them, written into
 * the real outage store (collector/outage/sqlite-outage-store.ts) through the same write
 * method the tracker uses (`apply`): one resolved site incident per generated incident
 * (every PC, from the first PC's start to the last PC's end: the first PC exact, the others
 * a few seconds apart, as {@link fillSite}'s agent events say), each PC's outage attached
 * to it, and each single-PC crash or hang as a host outage of its own. Ids continue the
 * store's counters, so several periods can be recorded into one store.
 */
export function recordOutages(outages: SqliteOutageStore, g: GenSite): void {
  const ids = outages.load().ids;
  const effects: OutageEffect[] = [];
  for (const x of g.incidents) {
    const incidentId = ids.nextIncidentId++;
    const hosts = g.hosts.map((h) => h.host);
    const uncertaintyMs = x.cause === 'power_loss' ? 15_000 : 0;
    g.hosts.forEach((h, i) => {
      effects.push({
        kind: 'hostOutage',
        change: 'closed',
        outage: {
          id: ids.nextOutageId++,
          site: g.site,
          host: h.host,
          cause: x.cause,
          start: x.start + i * 5000,
          end: x.end - i * 5000,
          uncertaintyMs,
          incidentId,
          evidence: { generated: true },
        },
      });
    });
    effects.push({
      kind: 'incident',
      change: 'resolved',
      incident: {
        id: incidentId,
        site: g.site,
        state: 'resolved',
        cause: x.cause === 'power_loss' ? 'power_cut' : 'network_cut',
        start: x.start,
        end: x.end,
        hosts,
        hostsOut: [],
        hostsOnlineBefore: hosts.length,
        uncertaintyMs,
        evidence: { generated: true },
      },
    });
  }
  for (const o of g.hostOutages) {
    effects.push({
      kind: 'hostOutage',
      change: 'closed',
      outage: {
        id: ids.nextOutageId++,
        site: g.site,
        host: o.host,
        cause: o.cause,
        start: o.start,
        end: o.end,
        uncertaintyMs: 15_000,
        incidentId: null,
        evidence: { generated: true },
      },
    });
  }
  outages.apply(effects, undefined, ids);
}
