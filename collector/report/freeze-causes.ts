import type { SampleMetrics } from '../../contract/schemas.js';
import {
  diagnoseFreeze,
  FREEZE_CAUSE_LABEL,
  FREEZE_CAUSES,
  FreezeDiagnosisConfigSchema,
  type FreezeCauseKind,
  type FreezeDiagnosisParams,
  type FreezeSample,
} from '../diagnosis/freeze-cause.js';
import type { HistoryMetric, HistoryReader } from '../store/history.js';
import type { EventRow, HostState, Store } from '../store/store.js';
import type { Block } from './report-document.js';
import { fmtNum } from './report-format.js';
import type { Lang, SiteReport } from './report-model.js';

/**
 * "Vì sao máy treo" in the monthly report (issue 17 point 3, the per-PC part): each PC's
 * freezes of the month and their likely causes (collector/diagnosis/freeze-cause.ts),
 * counted per cause. Its own section of the report, kept in this file: the data
 * ({@link freezeCauses}), the blocks of the HTML/Markdown document ({@link freezeCauseBlocks})
 * and the CSV rows ({@link freezeCauseCsvRows}).
 *
 * Raw samples are kept 14 days (`history.retentionDays.raw`); a freeze older than that is
 * diagnosed from the 1-minute history (bucket means; paging there is pages in + out), and
 * counted in `fromMinutes` so the reader knows.
 */

export interface PcFreezeCauses {
  host: string;
  hostname: string;
  freezes: number;
  /** Freezes per primary cause, every cause present (0 when none), in FREEZE_CAUSES order. */
  causes: Record<FreezeCauseKind, number>;
  /** Programs named by `cpu_process` causes, with how many freezes each. */
  processes: Array<{ name: string; count: number }>;
  /** Freezes diagnosed from 1-minute history because their raw samples were past retention. */
  fromMinutes: number;
}

export interface FreezeCausesInput {
  site: string;
  hosts: HostState[];
  from: number;
  to: number;
  /** The site's events of the month (and around it): freezes and disk_health checks are read. */
  events: EventRow[];
  store: Partial<Pick<Store, 'samples'>>;
  history: HistoryReader;
  params?: FreezeDiagnosisParams | undefined;
}

/** Bounds: a PC that froze more than this in a month is diagnosed on the first ones (counted all). */
const MAX_DIAGNOSED_PER_PC = 500;
const SAMPLES_PER_FREEZE = 200;
const MINUTE_METRICS: HistoryMetric[] = ['cpu', 'disk_busy', 'disk_queue', 'mem_psi', 'swap_io', 'hard_faults'];

export function freezeCauses(inp: FreezeCausesInput): PcFreezeCauses[] {
  const p = inp.params ?? FreezeDiagnosisConfigSchema.parse({});
  const out: PcFreezeCauses[] = [];
  for (const h of inp.hosts) {
    const mine = inp.events.filter((e) => e.host === h.host);
    const freezes = mine.filter((e) => e.type === 'freeze' && (e.start ?? e.t) >= inp.from && (e.start ?? e.t) < inp.to).sort((a, b) => (a.start ?? a.t) - (b.start ?? b.t));
    if (!freezes.length) continue;
    const checks = mine.filter((e) => e.type === 'disk_health');
    const causes = Object.fromEntries(FREEZE_CAUSES.map((c) => [c, 0])) as Record<FreezeCauseKind, number>;
    const processes = new Map<string, number>();
    let fromMinutes = 0;
    for (const f of freezes.slice(0, MAX_DIAGNOSED_PER_PC)) {
      const start = f.start ?? f.t;
      const end = f.end ?? f.t;
      const range = { from: start - p.windowSeconds * 1000, to: end + 10 * 60_000, limit: SAMPLES_PER_FREEZE };
      let samples: FreezeSample[] = inp.store.samples?.(inp.site, h.host, range) ?? [];
      if (!samples.length) {
        samples = minuteSamples(inp.history, inp.site, h.host, range.from - 60_000, end + 60_000);
        if (samples.length) fromMinutes++;
      }
      const d = diagnoseFreeze(f, samples, checks, p);
      causes[d.cause]++;
      const proc = d.causes[0]!.evidence.process;
      if (d.cause === 'cpu_process' && proc) processes.set(proc, (processes.get(proc) ?? 0) + 1);
    }
    // Beyond the bound: counted, not diagnosed (unknown, never a guess).
    causes.unknown += Math.max(0, freezes.length - MAX_DIAGNOSED_PER_PC);
    out.push({
      host: h.host,
      hostname: h.hostname || h.host,
      freezes: freezes.length,
      causes,
      processes: [...processes].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
      fromMinutes,
    });
  }
  return out.sort((a, b) => b.freezes - a.freezes || a.host.localeCompare(b.host));
}

/**
 * 1-minute buckets as samples: a bucket [t, t + 1 min) read as a sample at its end covering
 * the minute (as an agent's sample covers its interval), figures the bucket means.
 */
function minuteSamples(history: HistoryReader, site: string, host: string, from: number, to: number): FreezeSample[] {
  const byT = new Map<number, { cpu?: number; disks: Map<string, { busy?: number; queue?: number }>; psi?: number; swap?: number; faults?: number }>();
  const at = (t: number) => {
    let x = byT.get(t);
    if (!x) byT.set(t, (x = { disks: new Map() }));
    return x;
  };
  for (const metric of MINUTE_METRICS) {
    for (const s of history.series({ site, host, metric, from, to, resolution: '1m' })) {
      if (s.resolution !== '1m') continue;
      for (const pt of s.points) {
        const x = at(pt.t + 60_000);
        if (metric === 'cpu') x.cpu = pt.avg;
        else if (metric === 'disk_busy' || metric === 'disk_queue') {
          const d = x.disks.get(s.key) ?? {};
          if (metric === 'disk_busy') d.busy = pt.avg;
          else d.queue = pt.avg;
          x.disks.set(s.key, d);
        } else if (metric === 'mem_psi') x.psi = pt.avg;
        else if (metric === 'swap_io') x.swap = pt.avg;
        else x.faults = pt.avg;
      }
    }
  }
  return [...byT]
    .sort(([a], [b]) => a - b)
    .map(([t, x]) => {
      const metrics: SampleMetrics = {};
      if (x.cpu !== undefined) metrics.cpu = { usage: x.cpu, load1: null, load5: null, load15: null, cores: 0 };
      const disks = [...x.disks].filter(([, d]) => d.busy !== undefined).map(([disk, d]) => ({ disk, busyPct: d.busy!, queue: d.queue ?? 0 }));
      if (disks.length) metrics.diskio = disks;
      if (x.psi !== undefined || x.swap !== undefined || x.faults !== undefined)
        metrics.pressure = { memSomePct: x.psi ?? null, memFullPct: null, swapInPs: x.swap ?? null, swapOutPs: null, hardFaultsPs: x.faults ?? null };
      return { t, interval: 60, metrics };
    });
}

const TEXT = {
  vi: {
    title: 'Vì sao máy treo',
    none: 'Không máy nào bị treo trong tháng.',
    head: ['Máy', 'Số lần treo', 'Nguyên nhân có thể (số lần)', 'Chương trình chiếm CPU'],
    intro:
      'Mỗi lần treo được đối chiếu với số liệu 2 phút ngay trước đó (ổ cứng bận, phân trang/thiếu RAM, CPU, chương trình) và kết quả kiểm tra ổ cứng quanh lúc treo; không đủ bằng chứng thì ghi “chưa xác định nguyên nhân”.',
    fromMinutes: (n: number) => `${n} lần xét theo số liệu từng phút (số liệu chi tiết đã hết hạn lưu)`,
  },
  en: {
    title: 'Why the PCs freeze',
    none: 'No PC froze this month.',
    head: ['PC', 'Freezes', 'Likely causes (count)', 'Programs taking the CPU'],
    intro:
      'Each freeze is checked against the figures of the 2 minutes just before it (disk busy, paging/memory, CPU, programs) and the disk health checks around it; without enough evidence it is “cause unknown”.',
    fromMinutes: (n: number) => `${n} judged on per-minute figures (the detailed ones are past retention)`,
  },
} as const;

const pcName = (p: PcFreezeCauses) => (p.hostname === p.host ? p.host : `${p.hostname} (${p.host})`);

/** The section as document blocks (HTML and Markdown render them). */
export function freezeCauseBlocks(r: Pick<SiteReport, 'freezeCauses'>, lang: Lang): Block[] {
  const T = TEXT[lang];
  const list = r.freezeCauses ?? [];
  const b: Block[] = [{ kind: 'para', text: `${T.title}:` }];
  if (!list.length) return [...b, { kind: 'para', text: T.none }];
  b.push({ kind: 'para', text: T.intro });
  b.push({
    kind: 'table',
    head: [...T.head],
    numeric: [false, true, false, false],
    rows: list.map((p) => {
      const causes = FREEZE_CAUSES.filter((c) => p.causes[c] > 0)
        .sort((a, c) => p.causes[c] - p.causes[a])
        .map((c) => `${FREEZE_CAUSE_LABEL[c][lang]}: ${fmtNum(p.causes[c], 0, lang)}`);
      if (p.fromMinutes > 0) causes.push(`(${T.fromMinutes(p.fromMinutes)})`);
      return [pcName(p), fmtNum(p.freezes, 0, lang), causes.join('; '), p.processes.map((x) => `${x.name} (${x.count})`).join('; ') || '–'];
    }),
  });
  return b;
}

/** The section as CSV rows: `freeze_cause, site, host, <cause>|freezes|…, count`. */
export function freezeCauseCsvRows(r: Pick<SiteReport, 'freezeCauses'>, row: (item: string, metric: string, value: number | string) => void): void {
  for (const p of r.freezeCauses ?? []) {
    row(p.host, 'freezes', p.freezes);
    for (const c of FREEZE_CAUSES) row(p.host, c, p.causes[c]);
    row(p.host, 'from_minute_history', p.fromMinutes);
    for (const x of p.processes) row(p.host, `cpu_process:${x.name}`, x.count);
  }
}
