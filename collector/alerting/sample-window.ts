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

interface PingColumn {
  target: string;
  role: 'gateway' | 'configured';
  /** NaN: this sample had no figure for the target. */
  loss: Float32Array;
  /** NaN: null (nothing answered). */
  p95: Float32Array;
}
interface HttpColumn {
  name: string;
  /** 0: no result in this sample, 1: ok, 2: failed. */
  state: Uint8Array;
  /** NaN: null. */
  total: Float32Array;
  /** Error text of failed results (interned strings; holes elsewhere). */
  error: Array<string | undefined>;
}

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

/**
 * One host's samples, column by column in typed arrays, sorted by time (a replayed sample
 * goes to its place). ~60–80 bytes a sample instead of ~760 as objects. Capacity grows by
 * doubling up to `maxSamples`; beyond it the oldest goes (counted by the caller).
 */
export class HostSeries {
  private cap: number;
  private start = 0;
  private end = 0;
  private t: Float64Array;
  private cpu: Float32Array;
  private mem: Float32Array;
  private rx: Float64Array;
  private tx: Float64Array;
  /** Issue 17 figures (NaN: absent), one Float32 each: ~20 bytes a sample. */
  private diskBusy: Float32Array;
  private diskQueue: Float32Array;
  private memSome: Float32Array;
  private swapIn: Float32Array;
  private hardFaults: Float32Array;
  private readonly pings: PingColumn[] = [];
  private readonly https: HttpColumn[] = [];
  /** Figures ignored because the host had more than MAX_SERIES_PER_HOST targets or probes. */
  ignoredSeries = 0;

  constructor(
    private readonly maxSamples: number,
    initial = 16,
  ) {
    this.cap = Math.max(2, Math.min(initial, maxSamples));
    this.t = new Float64Array(this.cap);
    this.cpu = new Float32Array(this.cap);
    this.mem = new Float32Array(this.cap);
    this.rx = new Float64Array(this.cap);
    this.tx = new Float64Array(this.cap);
    this.diskBusy = new Float32Array(this.cap);
    this.diskQueue = new Float32Array(this.cap);
    this.memSome = new Float32Array(this.cap);
    this.swapIn = new Float32Array(this.cap);
    this.hardFaults = new Float32Array(this.cap);
  }

  get size(): number {
    return this.end - this.start;
  }
  /** Time of the newest sample, NaN when empty. */
  get newest(): number {
    return this.end > this.start ? this.t[this.end - 1]! : NaN;
  }

  /** Index (absolute) of the first sample at or after `t`. */
  private lowerBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Time of the sample just before / at-or-after `t` (for thinning), NaN when none. */
  neighbours(t: number): [number, number] {
    const i = this.upperBound(t);
    return [i > this.start ? this.t[i - 1]! : NaN, i < this.end ? this.t[i]! : NaN];
  }

  private upperBound(t: number): number {
    let lo = this.start;
    let hi = this.end;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Add a sample in time order. Returns true when the oldest had to go (the bound). */
  insert(s: WindowSample): boolean {
    // Full at the bound and older than everything held: it is the oldest, so it is what goes.
    if (this.end - this.start >= this.maxSamples && s.t < this.t[this.start]!) return true;
    let dropped = false;
    if (this.end === this.cap) dropped = this.makeRoom();
    const i = this.upperBound(s.t);
    if (i < this.end) this.shiftRight(i);
    this.end++;
    this.t[i] = s.t;
    this.cpu[i] = s.cpu ?? NaN;
    this.mem[i] = s.memPct ?? NaN;
    this.rx[i] = s.rxBps ?? NaN;
    this.tx[i] = s.txBps ?? NaN;
    this.diskBusy[i] = s.diskBusy ?? NaN;
    this.diskQueue[i] = s.diskQueue ?? NaN;
    this.memSome[i] = s.memSome ?? NaN;
    this.swapIn[i] = s.swapInPs ?? NaN;
    this.hardFaults[i] = s.hardFaultsPs ?? NaN;
    for (const c of this.pings) c.loss[i] = NaN;
    for (const c of this.https) {
      c.state[i] = 0;
      c.error[i] = undefined;
    }
    for (const p of s.ping) {
      const c = this.pingColumn(p.target, p.role);
      if (!c) continue;
      c.loss[i] = p.lossPct;
      c.p95[i] = p.rttP95 ?? NaN;
    }
    for (const h of s.http) {
      const c = this.httpColumn(h.name);
      if (!c) continue;
      c.state[i] = h.ok ? 1 : 2;
      c.total[i] = h.totalMs ?? NaN;
      c.error[i] = h.ok || h.error === undefined ? undefined : intern(h.error);
    }
    return dropped;
  }

  /** Drop samples older than `t`. */
  pruneBefore(t: number): void {
    this.start = this.lowerBound(t);
    if (this.start === this.end) this.start = this.end = 0;
    // Give memory back after a burst (a replay): halve while a quarter full.
    if (this.cap > 16 && this.size * 4 < this.cap) {
      this.compact();
      this.resize(Math.max(16, this.cap >> 1));
    }
  }

  /** The samples at or after `from` as a SampleWindow (read it before the next insert or prune). */
  view(from: number): SampleWindow {
    const lo = this.lowerBound(from);
    return lo >= this.end ? EMPTY_WINDOW : new SeriesView(this, lo, this.end);
  }

  /** Times of the samples (tests). */
  times(): number[] {
    return Array.from(this.t.subarray(this.start, this.end));
  }

  meanIn(field: NumericField, from: number, to: number): number | null {
    const col = this.column(field);
    let sum = 0;
    let n = 0;
    for (let i = from; i < to; i++) {
      const v = col[i]!;
      if (v === v) {
        sum += v;
        n++;
      }
    }
    return n ? sum / n : null;
  }

  private column(field: NumericField): Float32Array | Float64Array {
    switch (field) {
      case 'cpu':
        return this.cpu;
      case 'memPct':
        return this.mem;
      case 'rxBps':
        return this.rx;
      case 'txBps':
        return this.tx;
      case 'diskBusy':
        return this.diskBusy;
      case 'diskQueue':
        return this.diskQueue;
      case 'memSome':
        return this.memSome;
      case 'swapInPs':
        return this.swapIn;
      case 'hardFaultsPs':
        return this.hardFaults;
    }
  }

  forEachPingIn(from: number, to: number, fn: (target: string, role: 'gateway' | 'configured', lossPct: number, rttP95: number | null) => void): void {
    for (let i = from; i < to; i++) {
      for (const c of this.pings) {
        const loss = c.loss[i]!;
        if (loss !== loss) continue;
        const p95 = c.p95[i]!;
        fn(c.target, c.role, loss, p95 === p95 ? p95 : null);
      }
    }
  }

  forEachHttpIn(from: number, to: number, fn: (name: string, ok: boolean, totalMs: number | null, error: string | undefined) => void): void {
    for (let i = from; i < to; i++) {
      for (const c of this.https) {
        const st = c.state[i]!;
        if (!st) continue;
        const total = c.total[i]!;
        fn(c.name, st === 1, total === total ? total : null, c.error[i]);
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
      this.resize(Math.min(this.maxSamples, this.cap * 2));
      return false;
    }
    this.start = 1;
    this.compact();
    return true;
  }

  private compact(): void {
    const s = this.start;
    const e = this.end;
    for (const a of this.columns()) a.copyWithin(0, s, e);
    for (const c of this.https) c.error.copyWithin(0, s, e);
    this.start = 0;
    this.end = e - s;
  }

  private resize(cap: number): void {
    const grow = <A extends Float64Array | Float32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(cap);
      b.set(a.subarray(0, this.end));
      return b;
    };
    this.t = grow(this.t, (n) => new Float64Array(n));
    this.cpu = grow(this.cpu, (n) => new Float32Array(n));
    this.mem = grow(this.mem, (n) => new Float32Array(n));
    this.rx = grow(this.rx, (n) => new Float64Array(n));
    this.tx = grow(this.tx, (n) => new Float64Array(n));
    this.diskBusy = grow(this.diskBusy, (n) => new Float32Array(n));
    this.diskQueue = grow(this.diskQueue, (n) => new Float32Array(n));
    this.memSome = grow(this.memSome, (n) => new Float32Array(n));
    this.swapIn = grow(this.swapIn, (n) => new Float32Array(n));
    this.hardFaults = grow(this.hardFaults, (n) => new Float32Array(n));
    for (const c of this.pings) {
      c.loss = grow(c.loss, (n) => new Float32Array(n).fill(NaN));
      c.p95 = grow(c.p95, (n) => new Float32Array(n).fill(NaN));
    }
    for (const c of this.https) {
      c.state = grow(c.state, (n) => new Uint8Array(n));
      c.total = grow(c.total, (n) => new Float32Array(n).fill(NaN));
      c.error.length = cap;
    }
    this.cap = cap;
  }

  private shiftRight(i: number): void {
    for (const a of this.columns()) a.copyWithin(i + 1, i, this.end);
    for (const c of this.https) c.error.copyWithin(i + 1, i, this.end);
  }

  private *columns(): Generator<Float64Array | Float32Array | Uint8Array> {
    yield this.t;
    yield this.cpu;
    yield this.mem;
    yield this.rx;
    yield this.tx;
    yield this.diskBusy;
    yield this.diskQueue;
    yield this.memSome;
    yield this.swapIn;
    yield this.hardFaults;
    for (const c of this.pings) {
      yield c.loss;
      yield c.p95;
    }
    for (const c of this.https) {
      yield c.state;
      yield c.total;
    }
  }

  private pingColumn(target: string, role: 'gateway' | 'configured'): PingColumn | undefined {
    for (const c of this.pings) if (c.target === target) return c;
    if (this.pings.length >= MAX_SERIES_PER_HOST) {
      this.ignoredSeries++;
      return undefined;
    }
    const c: PingColumn = { target: intern(target), role, loss: new Float32Array(this.cap).fill(NaN), p95: new Float32Array(this.cap).fill(NaN) };
    this.pings.push(c);
    return c;
  }

  private httpColumn(name: string): HttpColumn | undefined {
    for (const c of this.https) if (c.name === name) return c;
    if (this.https.length >= MAX_SERIES_PER_HOST) {
      this.ignoredSeries++;
      return undefined;
    }
    const c: HttpColumn = { name: intern(name), state: new Uint8Array(this.cap), total: new Float32Array(this.cap).fill(NaN), error: new Array<string | undefined>(this.cap) };
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
