import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import type { StallSource } from '../outage/collector-stalls.js';

/** One stall of the collector's event loop (wall-clock epoch ms). */
export interface CollectorStall {
  /** The last tick before the gap. */
  start: number;
  /** The tick that noticed it. */
  end: number;
  /** `end − start` as measured on the monotonic clock, ms (immune to wall-clock steps). */
  gapMs: number;
}

/** Port: where a stall is kept beyond memory (collector/health/stall-events.ts). Must not throw. */
export interface StallRecorder {
  record(stall: CollectorStall): void;
}

export interface StallWatchDeps {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** A gap between ticks longer than this is a stall (config `health.stallThresholdSeconds`), ms. */
  thresholdMs: number;
  /** Tick period, ms (default 250). */
  tickMs?: number | undefined;
  /** Recent stalls kept in memory for {@link CollectorStalls} (default 256); older ones are dropped and counted. */
  capacity?: number | undefined;
  recorder?: StallRecorder | undefined;
}

export interface StallSummary {
  count: number;
  last: { start: number; end: number; seconds: number } | null;
}

/**
 * Watches the collector's own event loop (issue 12 item 5): a timer ticks every ~250 ms, and
 * a tick that comes more than the threshold late means the whole process stood still (a
 * long synchronous job, a VM or disk stall, SIGSTOP). Each stall is counted
 * (`canh_collector_stalls_total`, `canh_collector_stall_seconds_total`), logged, recorded
 * (a `collector_stall` event of site `_collector`) and kept in a bounded ring, which the
 * outage correlator reads through the CollectorStalls port so that what the
 * collector missed during its stall is its own gap, never a site's outage.
 */
export class StallWatch implements StallSource {
  private timer: TimerHandle | undefined;
  private lastMono = 0;
  private lastWall = 0;
  private readonly ring: CollectorStall[] = [];
  private total = 0;
  private readonly tickMs: number;
  private readonly capacity: number;
  private readonly stalls: Counter;
  private readonly stallSeconds: Counter;
  private readonly evicted: Counter;

  constructor(private readonly deps: StallWatchDeps) {
    this.tickMs = deps.tickMs ?? 250;
    this.capacity = deps.capacity ?? 256;
    this.stalls = deps.metrics.counter('canh_collector_stalls_total', "Stalls of the collector's event loop (a tick more than health.stallThresholdSeconds late).");
    this.stallSeconds = deps.metrics.counter('canh_collector_stall_seconds_total', "Seconds the collector's event loop stood still in stalls.");
    this.evicted = deps.metrics.counter('canh_collector_stalls_evicted_total', 'Stalls dropped from the in-memory ring (its bound); still counted and stored.');
  }

  start(): void {
    if (this.timer) return;
    this.lastMono = this.deps.clock.monotonic();
    this.lastWall = this.deps.clock.now();
    this.timer = this.deps.clock.setInterval(() => this.tick(), this.tickMs);
  }

  stop(): void {
    this.deps.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** Check the gap since the last tick (the timer calls it; exposed for tests). */
  tick(): void {
    const mono = this.deps.clock.monotonic();
    const wall = this.deps.clock.now();
    const gapMs = mono - this.lastMono;
    // A tick is due every tickMs: anything beyond that is time the loop could not run.
    if (gapMs - this.tickMs > this.deps.thresholdMs) this.recordStall({ start: wall - gapMs, end: wall, gapMs });
    this.lastMono = mono;
    this.lastWall = wall;
  }

  inStall(now: number): boolean {
    return this.timer !== undefined && now - this.lastWall - this.tickMs > this.deps.thresholdMs;
  }

  overlaps(start: number, end: number, graceMs: number): boolean {
    return this.ring.some((s) => start <= s.end + graceMs && end >= s.start - graceMs);
  }

  covers(start: number, end: number, graceMs: number): boolean {
    return this.ring.some((s) => start >= s.start - graceMs && end <= s.end + graceMs);
  }

  stalledMs(start: number, end: number): number {
    let ms = 0;
    for (const s of this.ring) ms += Math.max(0, Math.min(end, s.end) - Math.max(start, s.start));
    return ms;
  }

  /** Recent stalls, oldest first (bounded by `capacity`). */
  recent(): readonly CollectorStall[] {
    return this.ring;
  }

  /** For `/api/health`: how many since the start, and the last one. */
  summary(): StallSummary {
    const last = this.ring[this.ring.length - 1];
    return { count: this.total, last: last ? { start: last.start, end: last.end, seconds: round3(last.gapMs / 1000) } : null };
  }

  private recordStall(s: CollectorStall): void {
    this.total++;
    this.ring.push(s);
    if (this.ring.length > this.capacity) {
      this.ring.shift();
      this.evicted.inc();
    }
    this.stalls.inc();
    this.stallSeconds.inc({}, s.gapMs / 1000);
    this.deps.log.warn({ start: s.start, end: s.end, seconds: round3(s.gapMs / 1000), thresholdSeconds: this.deps.thresholdMs / 1000 }, 'collector stalled');
    try {
      this.deps.recorder?.record(s);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'collector stall not stored');
    }
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
