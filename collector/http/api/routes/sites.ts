import { z } from 'zod';
import type { HttpProbeResult, PingResult } from '../../../../contract/schemas.js';
import type { OutageReader, SiteIncident } from '../../../outage/outage-types.js';
import type { SiteDirectory } from '../../../sites/site-settings.js';
import type { HostState, Store, StoredSample } from '../../../store/store.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { Id, Lang } from '../query-schemas.js';
import { latestFigures, THRESHOLDS, worstProblem, type HostInput, type Problem } from '../site-health.js';
import { isWorkingTime } from '../../../sites/schedule/working-hours.js';
import { underSpec, type UnderSpec } from '../under-spec.js';
import { LastWebChecks } from '../last-web-checks.js';
import { accessOf, forbidSite } from '../auth/site-access.js';
import type { HostConfigState } from './hosts.js';

export interface SitesRoutesDeps {
  store: Store;
  sites: SiteDirectory;
  /** Site ids with an entry in the config (shown even before an agent reports). */
  configuredSites: readonly string[];
  /** Open incidents, once outage detection is wired (issue 3); none without it. */
  outages?: OutageReader | undefined;
  /** Hosts switched off cleanly (issue 13): "đã tắt máy", never offline. */
  stoppedHosts?: ((site: string) => ReadonlyMap<string, number>) | undefined;
  /** Each host's last web-check result, fed from ingest (issue 13 item 7); one of its own without it. */
  webChecks?: LastWebChecks | undefined;
  /** Remote configuration of a PC (issue 16): shown in the site's PC table. */
  agentConfig?: ((site: string, host: string) => HostConfigState | null) | undefined;
}

/**
 * A site's state on the board (issue 13): `off` when every PC was switched off cleanly
 * ("đã tắt máy": closing time, no alarm colours), `offline` when every running PC is out,
 * `partial` when some are, `online` otherwise, `empty` before any agent reported.
 */
export type SiteState = 'online' | 'partial' | 'offline' | 'off' | 'empty';

export function siteState(hosts: readonly HostState[], stopped: ReadonlyMap<string, number> | undefined): SiteState {
  const known = hosts.filter((h) => h.state !== 'unknown');
  if (known.length === 0) return 'empty';
  const running = known.filter((h) => !(h.state === 'offline' && stopped?.has(h.host)));
  if (running.length === 0) return 'off';
  const out = running.filter((h) => h.state === 'offline').length;
  return out === 0 ? 'online' : out === running.length ? 'offline' : 'partial';
}

export interface HostSummary {
  host: string;
  hostname: string;
  state: HostState['state'];
  /** Switched off cleanly (its agent stopped; closing time): not out (issue 13). */
  stopped: boolean;
  stateSince: number | null;
  lastSeen: number | null;
  cpu: number | null;
  memPct: number | null;
  diskPct: number | null;
  uptimeSeconds: number | null;
  agentVersion: string | null;
  underSpec: UnderSpec;
  /** The host's clock skew raised as a `clock_skew` event (ms; positive = its clock is behind), or null. */
  clockSkewMs: number | null;
  /** Its remote configuration: version published and last report (null: none). */
  config: HostConfigState | null;
}

const SitesQuery = z.object({ lang: Lang }).strict();
const SiteParams = z.object({ site: Id }).strict();

function available<T>(v: T | { unavailable: string } | undefined): T | undefined {
  return v !== undefined && !(typeof v === 'object' && v !== null && 'unavailable' in v) ? (v as T) : undefined;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (v: number | null, digits = 1): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/**
 * The site's network now, from its hosts' latest samples: per ping target the median of
 * the hosts' median RTT, the highest host p95 and the mean loss; per HTTP probe the most
 * recent result; throughput summed over hosts (loopback interfaces left out).
 */
export function siteNetwork(latest: StoredSample[]) {
  const targets = new Map<string, { role: PingResult['role']; rtt: number[]; p95: number[]; loss: number[] }>();
  const http = new Map<string, { t: number; r: HttpProbeResult }>();
  let rxBps = 0;
  let txBps = 0;
  for (const s of latest) {
    for (const p of available(s.metrics.ping) ?? []) {
      let t = targets.get(p.target);
      if (!t) targets.set(p.target, (t = { role: p.role, rtt: [], p95: [], loss: [] }));
      if (p.role === 'gateway') t.role = 'gateway';
      if (p.rttMedian !== null) t.rtt.push(p.rttMedian);
      if (p.rttP95 !== null) t.p95.push(p.rttP95);
      t.loss.push(p.lossPct);
    }
    for (const h of available(s.metrics.http) ?? []) {
      const prev = http.get(h.name);
      if (!prev || s.t > prev.t) http.set(h.name, { t: s.t, r: h });
    }
    for (const n of available(s.metrics.net) ?? []) {
      if (/^(lo\d*|loopback.*)$/i.test(n.iface)) continue;
      rxBps += n.rxBps;
      txBps += n.txBps;
    }
  }
  return {
    targets: [...targets].map(([target, t]) => ({
      target,
      role: t.role,
      rttMedian: round(median(t.rtt), 2),
      rttP95: round(t.p95.length ? Math.max(...t.p95) : null, 2),
      lossPct: round(t.loss.reduce((a, b) => a + b, 0) / t.loss.length, 1),
      hosts: t.loss.length,
    })),
    http: [...http].map(([name, { r }]) => ({ name, url: r.url, ok: r.ok, totalMs: r.totalMs, status: r.status, error: r.error ?? null, reason: r.ok ? null : probeFailure(r) })),
    rxBps: Math.round(rxBps),
    txBps: Math.round(txBps),
  };
}

const STATE_TEXT: Record<'vi' | 'en', Record<SiteState, string>> = {
  vi: { online: 'Đang hoạt động', partial: 'Một số máy mất kết nối', offline: 'Mất kết nối', off: 'Đã tắt máy', empty: 'Chưa có dữ liệu' },
  en: { online: 'Running', partial: 'Some PCs offline', offline: 'Offline', off: 'Switched off', empty: 'No data yet' },
};
export const siteStateText = (s: SiteState, lang: 'vi' | 'en') => STATE_TEXT[lang][s];
export type ProbeFailure = 'dns' | 'timeout' | 'tls' | 'http' | 'refused' | 'network' | 'other';
const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
/** Why a web check failed, from the probe's error code (agent/platform/http-timing.ts), for the board to say it. */
export function probeFailure(r: Pick<HttpProbeResult, 'status' | 'error'>): ProbeFailure {
  const e = r.error ?? '';
  if (/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|ENODATA|ESERVFAIL)/.test(e)) return 'dns';
  if (/TIMEDOUT|TIMEOUT/i.test(e)) return 'timeout';
  if (TLS_ERROR.test(e)) return 'tls';
  if (/^HTTP\b/.test(e) || (r.status !== null && r.status >= 400)) return 'http';
  if (e === 'ECONNREFUSED') return 'refused';
  if (/^E(CONNRESET|HOSTUNREACH|NETUNREACH|PIPE)/.test(e)) return 'network';
  return 'other';
}

/**
 * Issue 13 item 7: the overall state names what is wrong beside {@link worstProblem}'s
 * findings. A failing web check (the portal) is a warning that outranks every other
 * warning: a commune that cannot reach the TTHC portal cannot serve citizens online,
 * while a busy CPU or a 90 % disk can wait (a critical problem still comes first). PCs
 * offline outside working hours are no problem, but not "Bình thường" either.
 */
function overallState(worst: Problem, hosts: HostInput[], http: ReturnType<typeof siteNetwork>['http'], workingNow: boolean, lang: 'vi' | 'en'): Problem {
  const vi = lang === 'vi';
  const failing = http.filter((p) => !p.ok);
  if (worst.level !== 'critical' && failing.length) {
    const p = failing[0]!;
    const why = PROBE_TEXT[p.reason ?? 'other'][lang] + (p.reason === 'http' && p.status ? ` ${p.status}` : '');
    return { level: 'warning', text: vi ? `Không vào được cổng ${p.name}: ${why}` : `Portal ${p.name} unreachable: ${why}`, host: null };
  }
  const offline = hosts.filter((h) => h.state.state === 'offline' && !h.stopped);
  if (worst.level === 'ok' && offline.length && !workingNow) {
    const n = offline.length === 1 ? offline[0]!.state.hostname || offline[0]!.state.host : `${offline.length}/${hosts.length}`;
    return { level: 'ok', text: vi ? `${n} mất kết nối (ngoài giờ làm việc)` : `${n} offline (outside working hours)`, host: offline.length === 1 ? offline[0]!.state.host : null };
  }
  return worst;
}
const PROBE_TEXT: Record<ProbeFailure, { vi: string; en: string }> = {
  dns: { vi: 'không phân giải được tên miền (DNS)', en: 'name not resolved (DNS)' },
  timeout: { vi: 'quá thời gian chờ', en: 'timed out' },
  tls: { vi: 'lỗi chứng chỉ/kết nối bảo mật (TLS)', en: 'TLS / certificate error' },
  http: { vi: 'máy chủ trả lỗi HTTP', en: 'server answered with HTTP error' },
  refused: { vi: 'máy chủ từ chối kết nối', en: 'connection refused' },
  network: { vi: 'lỗi mạng', en: 'network error' },
  other: { vi: 'lỗi', en: 'error' },
};

/** `GET /api/sites` (overview tiles) and `GET /api/sites/:site` (site page). */
export function sitesRoutes(deps: SitesRoutesDeps): ApiModule {
  const { store, sites } = deps;
  const openIncident = (site: string): SiteIncident | null => deps.outages?.openIncidents(site)[0] ?? null;
  const stoppedOf = (site: string) => deps.stoppedHosts?.(site);
  const webChecks = deps.webChecks ?? new LastWebChecks();
  const inputs = (hosts: HostState[], now: number, stopped = hosts[0] ? stoppedOf(hosts[0].site) : undefined): HostInput[] =>
    hosts.map((h) => ({
      state: h,
      latest: webChecks.fill(h.site, h.host, store.latestSample(h.site, h.host), now),
      stopped: h.state === 'offline' && !!stopped?.has(h.host),
    }));
  const fresh = (rows: HostInput[], now: number) => rows.filter((r) => r.state.state === 'online' && r.latest && now - r.latest.t <= THRESHOLDS.staleMs).map((r) => r.latest!);

  return {
    name: 'sites',
    mount(router, ctx) {
      router.get('/sites', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(SitesQuery, req.query, res);
        if (!q) return;
        const now = ctx.clock.now();
        const access = accessOf(res);
        const bySite = new Map<string, HostState[]>();
        for (const id of deps.configuredSites) if (access.allows(id)) bySite.set(id, []);
        for (const h of store.listHosts()) {
          if (!access.allows(h.site)) continue;
          let list = bySite.get(h.site);
          if (!list) bySite.set(h.site, (list = []));
          list.push(h);
        }
        const out = [...bySite].map(([site, hosts]) => {
          const rows = inputs(hosts, now);
          const wh = sites.workingHours(site);
          const workingNow = isWorkingTime(wh, now);
          return {
            site,
            name: sites.get(site).name,
            state: siteState(hosts, stoppedOf(site)),
            stateText: siteStateText(siteState(hosts, stoppedOf(site)), q.lang),
            hostsTotal: hosts.length,
            hostsOnline: hosts.filter((h) => h.state === 'online').length,
            openIncident: openIncident(site),
            worst: overallState(worstProblem(rows, wh, now, q.lang), rows, siteNetwork(fresh(rows, now)).http, workingNow, q.lang),
            workingNow,
            lastSeen: hosts.reduce<number | null>((a, h) => (h.lastSeen !== null && (a === null || h.lastSeen > a) ? h.lastSeen : a), null),
          };
        });
        out.sort((a, b) => a.site.localeCompare(b.site));
        res.json({ sites: out });
      });

      router.get('/sites/:site', ctx.requireRole('read'), (req, res) => {
        const p = ctx.parse(SiteParams, req.params, res);
        const q = p && ctx.parse(SitesQuery, req.query, res);
        if (!p || !q) return;
        if (!accessOf(res).allows(p.site)) return forbidSite(res, p.site);
        const hosts = store.listHosts(p.site);
        if (hosts.length === 0 && !deps.configuredSites.includes(p.site)) return sendError(res, 'not_found', `no site "${p.site}"`);
        const now = ctx.clock.now();
        const settings = sites.get(p.site);
        const stopped = stoppedOf(p.site);
        const rows = inputs(hosts, now, stopped);
        const network = siteNetwork(fresh(rows, now));
        const workingNow = isWorkingTime(settings.workingHours, now);
        const summaries: HostSummary[] = rows.map(({ state: h, latest }) => {
          const f = latestFigures(latest?.metrics);
          return {
            host: h.host,
            hostname: h.hostname,
            state: h.state,
            stopped: h.state === 'offline' && !!stopped?.has(h.host),
            stateSince: h.stateSince,
            lastSeen: h.lastSeen,
            cpu: round(f.cpu),
            memPct: round(f.memPct),
            diskPct: round(f.diskPct),
            uptimeSeconds: f.uptimeSeconds === null ? null : Math.round(f.uptimeSeconds),
            agentVersion: h.agentVersion,
            underSpec: underSpec(store.inventory(h.site, h.host)?.data, q.lang),
            clockSkewMs: h.clockSkewMs,
            config: deps.agentConfig?.(h.site, h.host) ?? null,
          };
        });
        res.json({
          site: p.site,
          name: settings.name,
          state: siteState(hosts, stopped),
          stateText: siteStateText(siteState(hosts, stopped), q.lang),
          workingHours: settings.workingHours,
          lineMbps: settings.lineMbps ?? null,
          lineUpMbps: settings.lineUpMbps ?? null,
          hosts: summaries,
          network,
          worst: overallState(worstProblem(rows, settings.workingHours, now, q.lang), rows, network.http, workingNow, q.lang),
          workingNow,
          openIncident: openIncident(p.site),
        });
      });
    },
  };
}
