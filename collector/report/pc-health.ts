import type { HostOutage } from '../outage/outage-types.js';
import type { HistoryReader } from '../store/history.js';
import type { EventRow, HostState, InventoryRow } from '../store/store.js';
import type { SiteMinuteSource } from './site-minutes.js';
import { diskEvidence } from './disk-evidence.js';
import { hardwareOf } from './hardware-profile.js';
import type { CostRules } from './price-list.js';
import { scorePc } from './replacement-score.js';
import type { PcHealth, ReportMethod } from './report-model.js';

/**
 * What each PC of a site did in the month (freezes, crashes, minutes of CPU and memory
 * saturation in working hours, disks nearly full) and what it is (hardware), scored for
 * the replacement / upgrade list.
 */
export interface PcHealthInput {
  site: string;
  hosts: HostState[];
  from: number;
  to: number;
  /** Working minute starts of the month. */
  workingMinutes: ReadonlySet<number>;
  /** Working intervals of the month. */
  working: ReadonlyArray<readonly [number, number]>;
  events: EventRow[];
  hostOutages: HostOutage[];
  inventory(host: string): InventoryRow | undefined;
  history: HistoryReader;
  minutes: SiteMinuteSource;
  method: ReportMethod;
  /** Thresholds of memory shortage (paging, PSI). */
  costRules: CostRules;
  year: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function pcHealth(inp: PcHealthInput): PcHealth[] {
  const cpu = inp.minutes.saturation(inp.site, 'cpu', inp.working, inp.method.saturationPct);
  const mem = inp.minutes.saturation(inp.site, 'mem', inp.working, inp.method.saturationPct);
  // Last reading of each disk in the month (1-hour buckets: the last bucket's average).
  const disks = new Map<string, Array<{ mount: string; usedPct: number }>>();
  for (const s of inp.history.series({ site: inp.site, metric: 'disk', from: inp.from, to: inp.to, resolution: '1h' })) {
    const last = s.points[s.points.length - 1];
    if (!last || last.avg < inp.method.diskFullPct) continue;
    const list = disks.get(s.host) ?? [];
    list.push({ mount: s.key, usedPct: round2(last.avg) });
    disks.set(s.host, list);
  }
  const freezes = new Map<string, number>();
  for (const e of inp.events) {
    const at = e.start ?? e.t;
    if (e.type === 'freeze' && at >= inp.from && at < inp.to) freezes.set(e.host, (freezes.get(e.host) ?? 0) + 1);
  }
  const crashes = new Map<string, number>();
  for (const o of inp.hostOutages) {
    if ((o.cause === 'crash' || o.cause === 'hang_reset') && o.start >= inp.from && o.start < inp.to) crashes.set(o.host, (crashes.get(o.host) ?? 0) + 1);
  }
  // Issue 17: disk health checks, busy disks, memory shortage, UPS/battery.
  const diskHealth = diskEvidence(inp.events, inp.from, inp.to);
  const busy = inp.minutes.saturation(inp.site, 'disk_busy', inp.working, inp.method.saturationPct);
  const paging = inp.minutes.saturation(inp.site, 'swap_io', inp.working, inp.costRules.pagingPerSec);
  const psi = inp.minutes.saturation(inp.site, 'mem_psi', inp.working, inp.costRules.psiPct);
  const memPressurePct = (host: string): number | null => {
    // The larger of the two shares (each over the minutes it was measured): a lower bound of the minutes short of memory.
    const shares = [paging.get(host), psi.get(host)].filter((c) => c !== undefined && c.seen > 0).map((c) => (100 * c!.sat) / c!.seen);
    return shares.length ? round2(Math.max(...shares)) : null;
  };
  const backup = new Set<string>();
  for (const e of inp.events) if (e.type === 'power_source' && e.t >= inp.from && e.t < inp.to) backup.add(e.host);
  const working = inp.workingMinutes.size;
  return inp.hosts.map((h) => {
    const inv = inp.inventory(h.host);
    const evidence = {
      freezes: freezes.get(h.host) ?? 0,
      crashes: crashes.get(h.host) ?? 0,
      cpuSaturatedHours: round2((cpu.get(h.host)?.sat ?? 0) / 60),
      memSaturatedHours: round2((mem.get(h.host)?.sat ?? 0) / 60),
      disksNearlyFull: (disks.get(h.host) ?? []).sort((a, b) => a.mount.localeCompare(b.mount)),
      diskHealth: diskHealth.get(h.host) ?? null,
      diskBusyHours: busy.has(h.host) ? round2(busy.get(h.host)!.sat / 60) : null,
      memPressurePct: memPressurePct(h.host),
      powerBackup: backup.has(h.host),
      hardware: hardwareOf(inv?.data, inp.year, inp.to),
    };
    const seen = cpu.get(h.host)?.seen ?? 0;
    return {
      host: h.host,
      hostname: h.hostname || inv?.hostname || h.host,
      coveragePct: working > 0 ? round2((100 * seen) / working) : null,
      ...evidence,
      ...scorePc(evidence, inp.method),
    };
  });
}
