import type { SampleMetrics } from '../../../contract/schemas.js';
import { isWorkingTime, type WorkingHours } from '../../sites/schedule/working-hours.js';
import type { HostState, StoredSample } from '../../store/store.js';

/**
 * A site's health at a glance (overview tile, site page), a pure function of the hosts'
 * state and latest samples (no history): what the officer should look at first.
 * Thresholds are documented in docs/api.md.
 */
export type Level = 'ok' | 'warning' | 'critical';
export interface Problem {
  level: Level;
  text: string;
  host: string | null;
}

export const THRESHOLDS = {
  diskWarningPct: 90,
  diskCriticalPct: 95,
  cpuSaturatedPct: 95,
  memSaturatedPct: 95,
  lossWarningPct: 20,
  /** A latest sample older than this is not "latest figures" any more (10 default intervals). */
  staleMs: 150_000,
} as const;

export interface LatestFigures {
  cpu: number | null;
  memPct: number | null;
  /** Fullest disk. */
  diskPct: number | null;
  diskMount: string | null;
  uptimeSeconds: number | null;
}

function available<T>(v: T | { unavailable: string } | undefined): T | undefined {
  return v !== undefined && !(typeof v === 'object' && v !== null && 'unavailable' in v) ? (v as T) : undefined;
}

export function latestFigures(m: SampleMetrics | undefined): LatestFigures {
  const cpu = available(m?.cpu);
  const mem = available(m?.mem);
  const disks = available(m?.disks) ?? [];
  const fullest = disks.reduce<(typeof disks)[number] | undefined>((a, d) => (!a || d.usedPct > a.usedPct ? d : a), undefined);
  const up = available(m?.uptime);
  return {
    cpu: cpu ? cpu.usage : null,
    memPct: mem && mem.total > 0 ? (100 * mem.used) / mem.total : null,
    diskPct: fullest ? fullest.usedPct : null,
    diskMount: fullest ? fullest.mount : null,
    uptimeSeconds: up ? up.seconds : null,
  };
}

const RANK: Record<Level, number> = { ok: 0, warning: 1, critical: 2 };

export interface HostInput {
  state: HostState;
  latest: StoredSample | undefined;
  /** Switched off cleanly (closing time, planned shutdown): never a problem (issue 13). */
  stopped?: boolean | undefined;
}

const name = (h: HostState) => h.hostname || h.host;
const pct = (v: number) => `${Math.round(v)}%`;

/**
 * The worst problem of a site now. Offline hosts count during working hours only (PCs
 * switched off in the evening are not a problem); a site whose every host is offline in
 * working hours is critical, as is a disk at 95% or a gateway unreachable from a host.
 */
export function worstProblem(hosts: HostInput[], wh: WorkingHours, now: number, lang: 'vi' | 'en' = 'vi'): Problem {
  const vi = lang === 'vi';
  const problems: Array<Problem & { weight: number }> = [];
  const add = (level: Level, text: string, host: string | null, weight = 0) => problems.push({ level, text, host, weight });
  const running = hosts.filter((h) => !h.stopped);
  const offline = running.filter((h) => h.state.state === 'offline');
  if (offline.length > 0 && isWorkingTime(wh, now)) {
    const all = offline.length === running.length;
    const level: Level = all || offline.length * 2 >= running.length ? 'critical' : 'warning';
    const one = offline.length === 1 ? offline[0]!.state : undefined;
    add(
      level,
      one
        ? vi
          ? `${name(one)} mất kết nối`
          : `${name(one)} is offline`
        : vi
          ? `${offline.length}/${running.length} máy mất kết nối`
          : `${offline.length}/${running.length} hosts offline`,
      one ? one.host : null,
      offline.length,
    );
  }
  for (const h of hosts) {
    if (h.state.state !== 'online' || !h.latest || now - h.latest.t > THRESHOLDS.staleMs) continue;
    const f = latestFigures(h.latest.metrics);
    const n = name(h.state);
    if (f.diskPct !== null && f.diskPct >= THRESHOLDS.diskWarningPct) {
      add(
        f.diskPct >= THRESHOLDS.diskCriticalPct ? 'critical' : 'warning',
        vi ? `Ổ đĩa ${f.diskMount} của ${n} đầy ${pct(f.diskPct)}` : `Disk ${f.diskMount} of ${n} is ${pct(f.diskPct)} full`,
        h.state.host,
        f.diskPct,
      );
    }
    if (f.cpu !== null && f.cpu >= THRESHOLDS.cpuSaturatedPct)
      add('warning', vi ? `CPU của ${n} quá tải ${pct(f.cpu)}` : `CPU of ${n} saturated at ${pct(f.cpu)}`, h.state.host, f.cpu);
    if (f.memPct !== null && f.memPct >= THRESHOLDS.memSaturatedPct)
      add('warning', vi ? `Bộ nhớ của ${n} gần hết ${pct(f.memPct)}` : `Memory of ${n} nearly full at ${pct(f.memPct)}`, h.state.host, f.memPct);
    for (const p of available(h.latest.metrics.ping) ?? []) {
      if (p.lossPct >= 100) {
        add(
          p.role === 'gateway' ? 'critical' : 'warning',
          vi ? `${n} không tới được ${p.target}` : `${n} cannot reach ${p.target}`,
          h.state.host,
          100 + (p.role === 'gateway' ? 1 : 0),
        );
      } else if (p.lossPct >= THRESHOLDS.lossWarningPct) {
        add('warning', vi ? `Mất gói ${pct(p.lossPct)} tới ${p.target} (${n})` : `${pct(p.lossPct)} packet loss to ${p.target} (${n})`, h.state.host, p.lossPct);
      }
    }
  }
  if (problems.length === 0) {
    if (hosts.length > 0 && running.length === 0) return { level: 'ok', text: vi ? 'Đã tắt máy' : 'Switched off', host: null };
    return { level: 'ok', text: vi ? 'Bình thường' : 'All good', host: null };
  }
  problems.sort((a, b) => RANK[b.level] - RANK[a.level] || b.weight - a.weight);
  const { weight: _w, ...worst } = problems[0]!;
  return worst;
}
