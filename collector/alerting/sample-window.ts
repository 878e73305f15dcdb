import type { WindowSample } from './metric-windows.js';

/**
 * A host's recent samples as the alert rules read them: aggregates and callbacks, no
 * per-sample objects (issue 12: at province scale, 10,000 hosts × a 10-minute window of
 * objects was ~340 MB of the collector's heap and most of its GC).
 */
export interface SampleWindow {
  /** Samples in the window. */
  readonly length: number;
  /** Mean of the field over the samples that have it, or null. */
  mean(field: NumericField): number | null;
  /** Every ping figure of every sample, oldest first. `rttP95` null when nothing answered. */
  forEachPing(fn: (target: string, role: 'gateway' | 'configured', lossPct: number, rttP95: number | null) => void): void;
  /** Every HTTP probe result of every sample, oldest first. */
  forEachHttp(fn: (name: string, ok: boolean, totalMs: number | null, error: string | undefined) => void): void;
}

/**
 * Figures the rules average. `diskBusy`/`diskQueue`: of the busiest physical disk of each
 * sample; `memSome`, `swapInPs`, `hardFaultsPs`: memory pressure (issue 17).
 */
export type NumericField = 'cpu' | 'memPct' | 'rxBps' | 'txBps' | 'diskBusy' | 'diskQueue' | 'memSome' | 'swapInPs' | 'hardFaultsPs';

export const EMPTY_WINDOW: SampleWindow = {
  length: 0,
  mean: () => null,
  forEachPing: () => undefined,
  forEachHttp: () => undefined,
};

/** The same view over plain objects (rule tests; the reference the columnar store is checked against). */
export function arrayWindow(samples: readonly WindowSample[]): SampleWindow {
  return {
    length: samples.length,
    mean(field) {
      let sum = 0;
      let n = 0;
      for (const s of samples) {
        const v = s[field];
        if (v !== null && v !== undefined) {
          sum += v;
          n++;
        }
      }
      return n ? sum / n : null;
    },
    forEachPing(fn) {
      for (const s of samples) for (const p of s.ping) fn(p.target, p.role, p.lossPct, p.rttP95);
    },
    forEachHttp(fn) {
      for (const s of samples) for (const h of s.http) fn(h.name, h.ok, h.totalMs, h.error);
    },
  };
}

/** Ping targets and HTTP probes tracked per host (an agent has a handful); more are counted and ignored. */
export const MAX_SERIES_PER_HOST = 16;

/** A ping target's two Float32 columns: loss at `col` (NaN: no figure in this sample), p95 at `col + 1` (NaN: null). */
interface PingColumn {
  target: string;
  role: 'gateway' | 'configured';
  col: number;
}
/**
 * An HTTP probe's two Float32 columns: state at `col` (0: no result, 1: ok, 2: failed
 * without an error text, 3 + k: failed with `errors[k]`), total ms at `col + 1` (NaN: null).
 */
interface HttpColumn {
  name: string;
  col: number;
  /** Distinct error texts of the failures held (interned); rebuilt from the rows when it grows past `errorLimit`. */
  errors: string[];
  errorLimit: number;
}
/** Errors a probe's column holds before its table is rebuilt from the rows still held. */
const ERROR_TABLE_MIN = 16;

/** Interned strings (targets, probe names, error texts repeat across samples and hosts). Bounded. */
const INTERN_MAX = 10_000;
const interned = new Map<string, string>();
function intern(s: string): string {
  const x = interned.get(s);
  if (x !== undefined) return x;
  if (interned.size >= INTERN_MAX) interned.clear();
  interned.set(s, s);
  return s;
}

/** Float64 column (exact, the order of the samples): time. */
const T = 0;
const F64_COLUMNS = 1;
/**
 * Float32 columns every host has; each ping target and HTTP probe adds two after them.
 * Float32 keeps 7 significant digits: bytes/s to ~10 B/s at 100 MB/s, which the rules'
 * means and percentages of a link never show (issue 12: 8 bytes a sample less than Float64).
 */
const CPU = 0;
const MEM = 1;
const DISK_BUSY = 2;
const DISK_QUEUE = 3;
const MEM_SOME = 4;
const SWAP_IN = 5;
const HARD_FAULTS = 6;
const RX = 7;
const TX = 8;
const BASE_F32_COLUMNS = 9;
const MIN_CAPACITY = 16;

/**
 * One host's samples, column by column, sorted by time (a replayed sample goes to its
 * place). All columns live in **one** ArrayBuffer (a Float64 region for time, then a
 * Float32 region): a typed array costs ~250 bytes of V8 and malloc overhead besides its
 * data, which with a dozen columns per host was as much again as the data (issue 12, heap
 * snapshot at 10,000 hosts). 68 bytes a sample with two ping targets and a probe. Capacity
 * grows by half (not doubling: a 10-minute window at 15 s is 44 samples, held in 48 slots
 * rather than 64) up to `maxSamples`; beyond it the oldest goes (counted by the caller).
 */
export class HostSeries {
  private cap: number;
  private start = 0;
  private end = 0;
  /** Float64 column c, sample i: `f64[c * cap + i]`. */
  private f64!: Float64Array;
  /** Float32 column c, sample i: `f32[c * cap + i]`. */
  private f32!: Float32Array;
  private f32Columns = BASE_F32_COLUMNS;
  private readonly pings: PingColumn[] = [];
  private readonly https: HttpColumn[] = [];
  /** Figures ignored because the host had more than MAX_SERIES_PER_HOST targets or probes. */
  ignoredSeries = 0;

  constructor(
    private readonly maxSamples: number,
    initial = MIN_CAPACITY,
  ) {
    this.cap = Math.max(2, Math.min(initial, maxSamples));
    this.allocate(this.cap, this.f32Columns);
  }

  get size(): number {
    return this.end - this.start;
  }
  /** Slots allocated (tests, memory accounting). */
  get capacity(): number {
    return this.cap;
  }
  /** Bytes of sample data held (the one buffer). */
  get bytes(): number {
    return this.f64.byteLength + this.f32.byteLength;
  }
  /** Time of the newest sample, NaN when empty. */
  get newest(): number {
    return this.end > this.start ? this.f64[T * this.cap + this.end - 1]! : NaN;
  }

  /** Index (absolute) of the first sample at or after `t`. */
  private lowerBound(t: number): number {
    const ts = this.f64;
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Time of the sample just before / at-or-after `t` (for thinning), NaN when none. */
  neighbours(t: number): [number, number] {
    const i = this.upperBound(t);
    return [i > this.start ? this.f64[i - 1]! : NaN, i < this.end ? this.f64[i]! : NaN];
  }

  private upperBound(t: number): number {
    const ts = this.f64;
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Add a sample in time order. Returns true when the oldest had to go (the bound). */
  insert(s: WindowSample): boolean {
    // Full at the bound and older than everything held: it is the oldest, so it is what goes.
    if (this.end - this.start >= this.maxSamples && s.t < this.f64[this.start]!) return true;
    let dropped = false;
    if (this.end === this.cap) dropped = this.makeRoom();
    // Columns first: a new target or probe may re-allocate the buffer.
    const pingCols = s.ping.map((p) => this.pingColumn(p.target, p.role));
    const httpCols = s.http.map((h) => this.httpColumn(h.name));
    const i = this.upperBound(s.t);
    if (i < this.end) this.shiftRight(i);
    this.end++;
    const cap = this.cap;
    const f64 = this.f64;
    const f32 = this.f32;
    f64[T * cap + i] = s.t;
    f32[CPU * cap + i] = s.cpu ?? NaN;
    f32[MEM * cap + i] = s.memPct ?? NaN;
    f32[DISK_BUSY * cap + i] = s.diskBusy ?? NaN;
    f32[DISK_QUEUE * cap + i] = s.diskQueue ?? NaN;
    f32[MEM_SOME * cap + i] = s.memSome ?? NaN;
    f32[SWAP_IN * cap + i] = s.swapInPs ?? NaN;
    f32[HARD_FAULTS * cap + i] = s.hardFaultsPs ?? NaN;
    f32[RX * cap + i] = s.rxBps ?? NaN;
    f32[TX * cap + i] = s.txBps ?? NaN;
    for (const c of this.pings) f32[c.col * cap + i] = NaN;
    for (const c of this.https) f32[c.col * cap + i] = 0;
    for (let k = 0; k < s.ping.length; k++) {
      const c = pingCols[k];
      if (!c) continue;
      const p = s.ping[k]!;
      f32[c.col * cap + i] = p.lossPct;
      f32[(c.col + 1) * cap + i] = p.rttP95 ?? NaN;
    }
    for (let k = 0; k < s.http.length; k++) {
      const c = httpCols[k];
      if (!c) continue;
      const h = s.http[k]!;
      f32[c.col * cap + i] = h.ok ? 1 : h.error === undefined ? 2 : 3 + this.errorCode(c, h.error, i);
      f32[(c.col + 1) * cap + i] = h.totalMs ?? NaN;
    }
    return dropped;
  }

  /** Drop samples older than `t`. */
  pruneBefore(t: number): void {
    this.start = this.lowerBound(t);
    if (this.start === this.end) this.start = this.end = 0;
    // Give memory back after a burst (a replay): halve while a quarter full.
    if (this.cap > MIN_CAPACITY && this.size * 4 < this.cap) {
      this.compact();
      this.allocate(Math.max(MIN_CAPACITY, this.cap >> 1), this.f32Columns);
    }
  }

  /** The samples at or after `from` as a SampleWindow (read it before the next insert or prune). */
  view(from: number): SampleWindow {
    const lo = this.lowerBound(from);
    return lo >= this.end ? EMPTY_WINDOW : new SeriesView(this, lo, this.end);
  }

  /** Times of the samples (tests). */
  times(): number[] {
    return Array.from(this.f64.subarray(this.start, this.end));
  }

  meanIn(field: NumericField, from: number, to: number): number | null {
    const [col, base] = this.column(field);
    let sum = 0;
    let n = 0;
    for (let i = base + from; i < base + to; i++) {
      const v = col[i]!;
      if (v === v) {
        sum += v;
        n++;
      }
    }
    return n ? sum / n : null;
  }

  /** The column of a field and where it starts in it. */
  private column(field: NumericField): [Float32Array, number] {
    const cap = this.cap;
    switch (field) {
      case 'cpu':
        return [this.f32, CPU * cap];
      case 'memPct':
        return [this.f32, MEM * cap];
      case 'rxBps':
        return [this.f32, RX * cap];
      case 'txBps':
        return [this.f32, TX * cap];
      case 'diskBusy':
        return [this.f32, DISK_BUSY * cap];
      case 'diskQueue':
        return [this.f32, DISK_QUEUE * cap];
      case 'memSome':
        return [this.f32, MEM_SOME * cap];
      case 'swapInPs':
        return [this.f32, SWAP_IN * cap];
      case 'hardFaultsPs':
        return [this.f32, HARD_FAULTS * cap];
    }
  }

  forEachPingIn(from: number, to: number, fn: (target: string, role: 'gateway' | 'configured', lossPct: number, rttP95: number | null) => void): void {
    const cap = this.cap;
    const f32 = this.f32;
    for (let i = from; i < to; i++) {
      for (const c of this.pings) {
        const loss = f32[c.col * cap + i]!;
        if (loss !== loss) continue;
        const p95 = f32[(c.col + 1) * cap + i]!;
        fn(c.target, c.role, loss, p95 === p95 ? p95 : null);
      }
    }
  }

  forEachHttpIn(from: number, to: number, fn: (name: string, ok: boolean, totalMs: number | null, error: string | undefined) => void): void {
    const cap = this.cap;
    const f32 = this.f32;
    for (let i = from; i < to; i++) {
      for (const c of this.https) {
        const st = f32[c.col * cap + i]!;
        if (!st) continue;
        const total = f32[(c.col + 1) * cap + i]!;
        fn(c.name, st === 1, total === total ? total : null, st >= 3 ? c.errors[st - 3] : undefined);
      }
    }
  }

  /** Make `end < cap`: compact when the front is free, else grow, else drop the oldest. */
  private makeRoom(): boolean {
    if (this.start > 0) {
      this.compact();
      return false;
    }
    if (this.cap < this.maxSamples) {
      this.allocate(Math.min(this.maxSamples, this.cap + Math.max(MIN_CAPACITY, this.cap >> 1)), this.f32Columns);
      return false;
    }
    this.start = 1;
    this.compact();
    return true;
  }

  /** Move the samples to the front of every column. */
  private compact(): void {
    const s = this.start;
    const e = this.end;
    if (s === 0) return;
    const cap = this.cap;
    for (let c = 0; c < F64_COLUMNS; c++) this.f64.copyWithin(c * cap, c * cap + s, c * cap + e);
    for (let c = 0; c < this.f32Columns; c++) this.f32.copyWithin(c * cap, c * cap + s, c * cap + e);
    this.start = 0;
    this.end = e - s;
  }

  /**
   * (Re)allocate the buffer for `cap` samples and `f32Columns` Float32 columns, keeping
   * samples [0, end) of the columns there were (new columns are filled by the caller).
   */
  private allocate(cap: number, f32Columns: number): void {
    const buf = new ArrayBuffer(F64_COLUMNS * cap * 8 + f32Columns * cap * 4);
    const f64 = new Float64Array(buf, 0, F64_COLUMNS * cap);
    const f32 = new Float32Array(buf, F64_COLUMNS * cap * 8, f32Columns * cap);
    const old64 = this.f64 as Float64Array | undefined;
    const old32 = this.f32 as Float32Array | undefined;
    if (old64 && old32 && this.end > 0) {
      const oldCap = this.cap;
      const n = this.end;
      for (let c = 0; c < F64_COLUMNS; c++) f64.set(old64.subarray(c * oldCap, c * oldCap + n), c * cap);
      for (let c = 0; c < this.f32Columns; c++) f32.set(old32.subarray(c * oldCap, c * oldCap + n), c * cap);
    }
    this.f64 = f64;
    this.f32 = f32;
    this.cap = cap;
    this.f32Columns = f32Columns;
  }

  /** Open a slot at `i` (end < cap). */
  private shiftRight(i: number): void {
    const cap = this.cap;
    const e = this.end;
    for (let c = 0; c < F64_COLUMNS; c++) this.f64.copyWithin(c * cap + i + 1, c * cap + i, c * cap + e);
    for (let c = 0; c < this.f32Columns; c++) this.f32.copyWithin(c * cap + i + 1, c * cap + i, c * cap + e);
  }

  /**
   * The code of `error` in the probe's table (added when new). A full table is first
   * rebuilt from the rows held, except row `skip` (being written): errors of pruned samples go.
   */
  private errorCode(c: HttpColumn, error: string, skip: number): number {
    let k = c.errors.indexOf(error);
    if (k >= 0) return k;
    if (c.errors.length >= c.errorLimit) {
      const base = c.col * this.cap;
      const used = new Map<number, number>();
      const kept: string[] = [];
      for (let i = this.start; i < this.end; i++) {
        const st = this.f32[base + i]!;
        if (i === skip || st < 3) continue;
        let code = used.get(st);
        if (code === undefined) {
          used.set(st, (code = kept.length));
          kept.push(c.errors[st - 3]!);
        }
        this.f32[base + i] = 3 + code;
      }
      c.errors = kept;
      c.errorLimit = Math.max(ERROR_TABLE_MIN, 2 * kept.length);
      k = c.errors.indexOf(error);
      if (k >= 0) return k;
    }
    c.errors.push(intern(error));
    return c.errors.length - 1;
  }

  /** Two more Float32 columns for a new target or probe; the samples held get `fill` in the first. */
  private addColumns(fill: number): number {
    const col = this.f32Columns;
    this.allocate(this.cap, col + 2);
    this.f32.fill(fill, col * this.cap, (col + 1) * this.cap);
    this.f32.fill(NaN, (col + 1) * this.cap, (col + 2) * this.cap);
    return col;
  }

  private pingColumn(target: string, role: 'gateway' | 'configured'): PingColumn | undefined {
    for (const c of this.pings) if (c.target === target) return c;
    if (this.pings.length >= MAX_SERIES_PER_HOST) {
      this.ignoredSeries++;
      return undefined;
    }
    const c: PingColumn = { target: intern(target), role, col: this.addColumns(NaN) };
    this.pings.push(c);
    return c;
  }

  private httpColumn(name: string): HttpColumn | undefined {
    for (const c of this.https) if (c.name === name) return c;
    if (this.https.length >= MAX_SERIES_PER_HOST) {
      this.ignoredSeries++;
      return undefined;
    }
    const c: HttpColumn = { name: intern(name), col: this.addColumns(0), errors: [], errorLimit: ERROR_TABLE_MIN };
    this.https.push(c);
    return c;
  }
}

/** A range of a HostSeries. */
class SeriesView implements SampleWindow {
  constructor(
    private readonly series: HostSeries,
    private readonly from: number,
    private readonly to: number,
  ) {}
  get length(): number {
    return this.to - this.from;
  }
  mean(field: NumericField): number | null {
    return this.series.meanIn(field, this.from, this.to);
  }
  forEachPing(fn: (target: string, role: 'gateway' | 'configured', lossPct: number, rttP95: number | null) => void): void {
    this.series.forEachPingIn(this.from, this.to, fn);
  }
  forEachHttp(fn: (name: string, ok: boolean, totalMs: number | null, error: string | undefined) => void): void {
    this.series.forEachHttpIn(this.from, this.to, fn);
  }
}
