import { z } from 'zod';
import type { DiskHealth, ProcessInfo, SampleMetrics } from '../../contract/schemas.js';
import type { Lang, Localized } from '../alerting/alert-types.js';
import { num } from '../alerting/messages.js';

/**
 * Why did this PC freeze? (issue 17 point 2.) For one `freeze` event, the likely cause from
 * what the agent measured just before it: the samples of the last `windowSeconds` before the
 * freeze (and the first one after it, whose interval covers the frozen time), the process
 * list the agent read right after it, and the disk health checks around it. Pure: a function
 * of (freeze, samples, checks, params); the API and the monthly report call it.
 *
 * Only what the figures show is said: each cause comes with its evidence; when nothing was
 * over a threshold (or nothing was measured) the answer is `unknown`, never a guess.
 * Several causes can hold at once; the first is the primary one, in this order of what
 * explains what: a failing disk (its retries make it busy and stall everything), memory
 * pressure (paging makes the disk busy), a busy disk, one process taking the CPU, the CPU.
 * A disk known only for pending sectors (no failure predicted, no error logged around the
 * freeze) goes after the causes measured just before the freeze.
 */

export const FREEZE_CAUSES = ['disk_failing', 'memory', 'disk_busy', 'cpu_process', 'cpu', 'unknown'] as const;
export type FreezeCauseKind = (typeof FREEZE_CAUSES)[number];

/** `diagnosis.freeze` in the collector config: thresholds of each cause. */
export const FreezeDiagnosisConfigSchema = z
  .object({
    /** Samples looked at before the freeze starts. */
    windowSeconds: z.number().int().min(15).max(1800).default(120),
    /** Mean busy % of the busiest disk, or its mean queue, at or above which the disk was overloaded. */
    diskBusyPct: z.number().min(1).max(100).default(90),
    diskQueue: z.number().min(0.1).max(1000).default(4),
    /** Memory pressure: PSI `some` %, pages swapped/paged in per s, hard faults per s (the memory_pressure rule's defaults). */
    psiSomePct: z.number().min(0.1).max(100).default(10),
    swapInPs: z.number().min(1).max(1_000_000).default(200),
    hardFaultsPs: z.number().min(1).max(1_000_000).default(150),
    /** Mean CPU % at or above which the CPU was saturated. */
    cpuPct: z.number().min(1).max(100).default(90),
    /** One process is "dominant" when it used at least this share (%) of the CPU the listed top processes used. */
    processSharePct: z.number().min(1).max(100).default(50),
    /** Disk health checks this long before / after the freeze count (a check reports errors since the previous one). */
    diskHealthBeforeHours: z
      .number()
      .min(0)
      .max(24 * 30)
      .default(24),
    diskHealthAfterHours: z.number().min(0).max(48).default(8),
  })
  .strict()
  .prefault({});
export type FreezeDiagnosisParams = z.output<typeof FreezeDiagnosisConfigSchema>;

/** The freeze as stored (an `events` row of type `freeze`). */
export interface FreezeEvent {
  t: number;
  start?: number | null | undefined;
  end?: number | null | undefined;
  details?: Record<string, unknown> | null | undefined;
}
/** A stored sample: its time, interval (s) and metrics. */
export interface FreezeSample {
  t: number;
  interval: number;
  metrics: SampleMetrics;
}
/** A stored `disk_health` event (ingest keeps the disks in details). */
export interface DiskCheck {
  t: number;
  details?: Record<string, unknown> | null | undefined;
}

/** Figures behind a cause; only those measured are present. */
export interface FreezeEvidence {
  samples: number;
  cpuPct?: number;
  cores?: number;
  disk?: string;
  diskBusyPct?: number;
  diskQueue?: number;
  psiSomePct?: number;
  swapInPs?: number;
  hardFaultsPs?: number;
  process?: string;
  processCpuPct?: number;
  /** The process's share of the CPU the listed top processes used, %. */
  processSharePct?: number;
  device?: string;
  predictedFailure?: boolean;
  pendingSectors?: number;
  reallocatedSectors?: number;
  errorEvents?: number;
}

export interface FreezeCause {
  kind: FreezeCauseKind;
  /** The cause and its figures, for the officer: `ổ cứng quá tải (ổ 0 C: bận 97%, hàng đợi 7,5)`. */
  text: Localized;
  evidence: FreezeEvidence;
}

export interface FreezeDiagnosis {
  /** The primary cause (the first of `causes`). */
  cause: FreezeCauseKind;
  /** Every cause that held, primary first; `[unknown]` when none did. */
  causes: FreezeCause[];
  /** Samples looked at. */
  samples: number;
}

const ok = <T>(v: T | { unavailable: string } | undefined): T | undefined =>
  v !== undefined && !(typeof v === 'object' && v !== null && 'unavailable' in v) ? (v as T) : undefined;

function mean(values: number[]): number | undefined {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : undefined;
}

/** The samples that tell about the freeze: [start − window, end], and the first after end if its interval covers the freeze. */
export function samplesAround<S extends FreezeSample>(freeze: FreezeEvent, samples: readonly S[], p: Pick<FreezeDiagnosisParams, 'windowSeconds'>): S[] {
  const start = freeze.start ?? freeze.t;
  const end = freeze.end ?? freeze.t;
  const from = start - p.windowSeconds * 1000;
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const out = sorted.filter((s) => s.t >= from && s.t <= end);
  const after = sorted.find((s) => s.t > end);
  if (after && after.t - after.interval * 1000 < end) out.push(after);
  return out;
}

/** The processes listed after the freeze (ingest keeps them in details.processes), shape-checked. */
function processesOf(details: Record<string, unknown> | null | undefined): ProcessInfo[] {
  const ps = details?.processes;
  if (!Array.isArray(ps)) return [];
  return ps.filter((x): x is ProcessInfo => !!x && typeof x === 'object' && typeof (x as ProcessInfo).name === 'string' && typeof (x as ProcessInfo).cpuPct === 'number');
}

function disksOf(details: Record<string, unknown> | null | undefined): DiskHealth[] {
  const d = details?.disks;
  if (!Array.isArray(d)) return [];
  return d.filter((x): x is DiskHealth => !!x && typeof x === 'object' && typeof (x as DiskHealth).device === 'string');
}

/**
 * Diagnose one freeze. `samples` may hold more than the window (they are filtered);
 * `checks` are the host's disk_health events (filtered to the hours around the freeze).
 */
export function diagnoseFreeze(freeze: FreezeEvent, samples: readonly FreezeSample[], checks: readonly DiskCheck[], p: FreezeDiagnosisParams): FreezeDiagnosis {
  const near = samplesAround(freeze, samples, p);
  const start = freeze.start ?? freeze.t;
  const end = freeze.end ?? freeze.t;
  const causes: FreezeCause[] = [];
  const n = near.length;

  // Figures over the window, each from the samples that have it.
  const cpus: number[] = [];
  let cores: number | undefined;
  const busy = new Map<string, { busy: number[]; queue: number[] }>();
  const some: number[] = [];
  const swapIn: number[] = [];
  const faults: number[] = [];
  for (const s of near) {
    const cpu = ok(s.metrics.cpu);
    if (cpu) {
      cpus.push(cpu.usage);
      cores = cpu.cores || cores;
    }
    for (const d of ok(s.metrics.diskio) ?? []) {
      const b = busy.get(d.disk) ?? { busy: [], queue: [] };
      b.busy.push(d.busyPct);
      b.queue.push(d.queue);
      busy.set(d.disk, b);
    }
    const pr = ok(s.metrics.pressure);
    if (pr) {
      if (pr.memSomePct !== null) some.push(pr.memSomePct);
      if (pr.swapInPs !== null) swapIn.push(pr.swapInPs);
      if (pr.hardFaultsPs !== null) faults.push(pr.hardFaultsPs);
    }
  }
  const cpuMean = mean(cpus);
  // The busiest disk over the window.
  let disk: { name: string; busy: number; queue: number } | undefined;
  for (const [name, b] of busy) {
    const m = { name, busy: mean(b.busy)!, queue: mean(b.queue)! };
    if (!disk || m.busy > disk.busy || (m.busy === disk.busy && m.queue > disk.queue)) disk = m;
  }
  const someMean = mean(some);
  const swapMean = mean(swapIn);
  const faultMean = mean(faults);

  // 1. A failing disk: checks around the freeze that show it.
  const from = start - p.diskHealthBeforeHours * 3_600_000;
  const to = end + p.diskHealthAfterHours * 3_600_000;
  const failing = new Map<string, FreezeEvidence>();
  for (const c of checks) {
    if (c.t < from || c.t > to) continue;
    for (const d of disksOf(c.details)) {
      const predicted = d.predictedFailure === true || d.state === 'failing';
      const pending = d.pendingSectors ?? 0;
      // Errors logged "since the previous check": those of a check after the freeze may be its.
      const errors = d.errorEvents ?? 0;
      if (!predicted && pending === 0 && errors === 0) continue;
      const e = failing.get(d.device) ?? { samples: n, device: d.model ? `${d.model} (${d.device})` : d.device };
      if (predicted) e.predictedFailure = true;
      if (pending > 0) e.pendingSectors = Math.max(e.pendingSectors ?? 0, pending);
      if (d.reallocatedSectors) e.reallocatedSectors = Math.max(e.reallocatedSectors ?? 0, d.reallocatedSectors);
      if (errors > 0) e.errorEvents = (e.errorEvents ?? 0) + errors;
      failing.set(d.device, e);
    }
  }
  for (const e of failing.values()) {
    causes.push({
      kind: 'disk_failing',
      evidence: e,
      text: localized((lang) => {
        const parts: string[] = [];
        if (lang === 'vi') {
          if (e.predictedFailure) parts.push('SMART dự báo sắp hỏng');
          if (e.pendingSectors) parts.push(`${num(e.pendingSectors, lang, 0)} sector chờ xử lý`);
          if (e.reallocatedSectors) parts.push(`${num(e.reallocatedSectors, lang, 0)} sector đã thay thế`);
          if (e.errorEvents) parts.push(`${num(e.errorEvents, lang, 0)} lỗi đọc/ghi trong nhật ký`);
          return `ổ cứng lỗi (${e.device}: ${parts.join(', ')})`;
        }
        if (e.predictedFailure) parts.push('SMART predicts failure');
        if (e.pendingSectors) parts.push(`${num(e.pendingSectors, lang, 0)} pending sectors`);
        if (e.reallocatedSectors) parts.push(`${num(e.reallocatedSectors, lang, 0)} reallocated sectors`);
        if (e.errorEvents) parts.push(`${num(e.errorEvents, lang, 0)} I/O errors logged`);
        return `failing disk (${e.device}: ${parts.join(', ')})`;
      }),
    });
  }

  // 2. Memory pressure.
  const memHigh = (someMean ?? 0) >= p.psiSomePct || (swapMean ?? 0) >= p.swapInPs || (faultMean ?? 0) >= p.hardFaultsPs;
  if (memHigh) {
    const e: FreezeEvidence = { samples: n, ...fig('psiSomePct', someMean), ...fig('swapInPs', swapMean), ...fig('hardFaultsPs', faultMean) };
    causes.push({
      kind: 'memory',
      evidence: e,
      text: localized((lang) => {
        const parts: string[] = [];
        if (e.swapInPs !== undefined)
          parts.push(lang === 'vi' ? `đọc lại ${num(e.swapInPs, lang, 0)} trang/giây từ ổ cứng` : `${num(e.swapInPs, lang, 0)} pages/s read back from disk`);
        if (e.hardFaultsPs !== undefined) parts.push(lang === 'vi' ? `${num(e.hardFaultsPs, lang, 0)} lỗi trang cứng/giây` : `${num(e.hardFaultsPs, lang, 0)} hard faults/s`);
        if (e.psiSomePct !== undefined)
          parts.push(lang === 'vi' ? `chờ bộ nhớ ${num(e.psiSomePct, lang)}% thời gian` : `stalled on memory ${num(e.psiSomePct, lang)}% of the time`);
        return lang === 'vi' ? `thiếu bộ nhớ (RAM) (${parts.join(', ')})` : `out of memory (RAM) (${parts.join(', ')})`;
      }),
    });
  }

  // 3. A busy disk.
  if (disk && (disk.busy >= p.diskBusyPct || disk.queue >= p.diskQueue)) {
    const e: FreezeEvidence = { samples: n, disk: disk.name, diskBusyPct: round1(disk.busy), diskQueue: round1(disk.queue) };
    causes.push({
      kind: 'disk_busy',
      evidence: e,
      text: localized((lang) =>
        lang === 'vi'
          ? `ổ cứng quá tải (ổ ${disk.name} bận ${num(disk.busy, lang, 0)}%, hàng đợi ${num(disk.queue, lang)})`
          : `disk overloaded (disk ${disk.name} ${num(disk.busy, lang, 0)}% busy, queue ${num(disk.queue, lang)})`,
      ),
    });
  }

  // 4./5. The CPU, and whether one process took it.
  if (cpuMean !== undefined && cpuMean >= p.cpuPct) {
    const listed = processesOf(freeze.details).sort((a, b) => b.cpuPct - a.cpuPct);
    const top = listed[0];
    // Its share of the CPU the listed processes used. Relative on purpose: the agent's
    // cpuPct is per core on Linux (100 = one core) and of the whole machine on Windows
    // (systeminformation), and a share of the listed ones means the same on both.
    const total = listed.reduce((sum, x) => sum + x.cpuPct, 0);
    const share = top && total > 0 ? (100 * top.cpuPct) / total : undefined;
    if (top && share !== undefined && share >= p.processSharePct) {
      const e: FreezeEvidence = { samples: n, cpuPct: round1(cpuMean), ...(cores ? { cores } : {}), process: top.name, processCpuPct: top.cpuPct, processSharePct: round1(share) };
      causes.push({
        kind: 'cpu_process',
        evidence: e,
        text: localized((lang) =>
          lang === 'vi'
            ? `tiến trình ${top.name} chiếm CPU (CPU cả máy ${num(cpuMean, lang, 0)}%, ${top.name} chiếm ${num(e.processSharePct!, lang, 0)}% trong số đó)`
            : `process ${top.name} took the CPU (CPU ${num(cpuMean, lang, 0)}% busy, ${num(e.processSharePct!, lang, 0)}% of it ${top.name})`,
        ),
      });
    } else {
      causes.push({
        kind: 'cpu',
        evidence: { samples: n, cpuPct: round1(cpuMean), ...(cores ? { cores } : {}) },
        text: localized((lang) =>
          lang === 'vi'
            ? `CPU quá tải (CPU ${num(cpuMean, lang, 0)}%, không tiến trình nào chiếm phần lớn)`
            : `CPU saturated (CPU ${num(cpuMean, lang, 0)}%, no single process dominant)`,
        ),
      });
    }
  }

  // Pending sectors alone (no failure predicted, no error logged around the freeze) are a
  // weaker link to this freeze than a figure measured just before it: listed after those.
  const weak = (c: FreezeCause) => c.kind === 'disk_failing' && !c.evidence.predictedFailure && !c.evidence.errorEvents;
  if (causes.some((c) => !weak(c)) && causes.some(weak)) causes.push(...causes.splice(0, causes.length).sort((a, b) => Number(weak(a)) - Number(weak(b))));

  if (!causes.length) {
    // What was seen, so "unknown" is checkable: the figures were normal, or there were none.
    const e: FreezeEvidence = {
      samples: n,
      ...fig('cpuPct', cpuMean),
      ...(disk ? { disk: disk.name, diskBusyPct: round1(disk.busy) } : {}),
      ...fig('swapInPs', swapMean),
      ...fig('psiSomePct', someMean),
    };
    causes.push({
      kind: 'unknown',
      evidence: e,
      text: localized((lang) => {
        if (!n) return lang === 'vi' ? 'chưa xác định nguyên nhân (không có số liệu ngay trước lúc treo)' : 'cause unknown (no figures just before the freeze)';
        const parts: string[] = [];
        if (e.cpuPct !== undefined) parts.push(`CPU ${num(e.cpuPct, lang, 0)}%`);
        if (e.diskBusyPct !== undefined) parts.push(lang === 'vi' ? `ổ bận ${num(e.diskBusyPct, lang, 0)}%` : `disk ${num(e.diskBusyPct, lang, 0)}% busy`);
        if (e.swapInPs !== undefined) parts.push(lang === 'vi' ? `${num(e.swapInPs, lang, 0)} trang/giây` : `${num(e.swapInPs, lang, 0)} pages/s`);
        const seen = parts.length ? parts.join(', ') : lang === 'vi' ? 'số liệu không đủ' : 'too few figures';
        return lang === 'vi' ? `chưa xác định nguyên nhân (trước lúc treo: ${seen}, đều bình thường)` : `cause unknown (before the freeze: ${seen}, all normal)`;
      }),
    });
  }
  return { cause: causes[0]!.kind, causes, samples: n };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
function fig<K extends keyof FreezeEvidence>(key: K, v: number | undefined): Partial<FreezeEvidence> {
  return v === undefined ? {} : { [key]: round1(v) };
}
function localized(f: (lang: Lang) => string): Localized {
  return { vi: f('vi'), en: f('en') };
}

/** Short label of each cause, for tables and counts (report, board). */
export const FREEZE_CAUSE_LABEL: Record<FreezeCauseKind, Localized> = {
  disk_failing: { vi: 'ổ cứng lỗi', en: 'failing disk' },
  memory: { vi: 'thiếu bộ nhớ (RAM)', en: 'out of memory (RAM)' },
  disk_busy: { vi: 'ổ cứng quá tải', en: 'disk overloaded' },
  cpu_process: { vi: 'một tiến trình chiếm CPU', en: 'one process took the CPU' },
  cpu: { vi: 'CPU quá tải', en: 'CPU saturated' },
  unknown: { vi: 'chưa xác định nguyên nhân', en: 'cause unknown' },
};
