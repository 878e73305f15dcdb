import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';

/** One episode in which the collector could not hear the agents (wall-clock epoch ms; `end` null while it lasts). */
export interface DeafEpisode {
  start: number;
  end: number | null;
}

export interface DeafEpisodesDeps {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Episodes kept in memory (default 256); older ones are dropped and counted. */
  capacity?: number | undefined;
  /** A new episode starting this soon after the last one ended continues it (default 2 s). */
  mergeMs?: number | undefined;
}

/** What one kind of episode is called in metrics and logs. */
export interface DeafEpisodeNames {
  /** Counter of episodes, e.g. `canh_ingest_saturations_total`. */
  episodes: [name: string, help: string];
  /** Counter of seconds in episodes. */
  seconds: [name: string, help: string];
  /** Counter of episodes dropped from the ring. */
  evicted: [name: string, help: string];
  /** Gauge, 1 during an episode; omitted when another part already exports one. */
  active?: [name: string, help: string] | undefined;
  /** Log line when an episode starts (warn) and when it ends (info). */
  startMessage: string;
  endMessage: string;
}

export interface DeafSummary {
  count: number;
  now: boolean;
  last: { start: number; end: number | null; seconds: number } | null;
}

/**
 * A bounded ring of episodes in which the collector could not hear its agents although they
 * may well have been talking (its receive queue full, its link to the external broker down).
 * The outage correlator counts a host's silence only outside them (collector/outage/
 * collector-stalls.ts). Each kind counts its episodes and seconds, logs one line when an
 * episode starts and one when it ends (episodes closer than `mergeMs` are one), and keeps at
 * most `capacity` episodes (older ones dropped, counted).
 */
export class DeafEpisodes {
  private readonly ring: DeafEpisode[] = [];
  /** Where the seconds of a merged episode start counting again. */
  private readonly resumedAt = new WeakMap<DeafEpisode, number>();
  private total = 0;
  private readonly capacity: number;
  private readonly mergeMs: number;
  private readonly episodes: Counter;
  private readonly seconds: Counter;
  private readonly evicted: Counter;

  constructor(
    private readonly deps: DeafEpisodesDeps,
    private readonly names: DeafEpisodeNames,
  ) {
    this.capacity = deps.capacity ?? 256;
    this.mergeMs = deps.mergeMs ?? 2000;
    const m = deps.metrics;
    this.episodes = m.counter(...names.episodes);
    this.seconds = m.counter(...names.seconds);
    this.evicted = m.counter(...names.evicted);
    if (names.active) m.gauge(...names.active, (g) => g.set(this.activeNow() ? 1 : 0));
  }

  /** An episode begins, now or at `since` when known to have begun earlier (nothing new while one lasts). */
  begin(since?: number): void {
    if (this.current()) return;
    const now = this.deps.clock.now();
    const last = this.ring[this.ring.length - 1];
    if (last && last.end !== null && now - last.end <= this.mergeMs) {
      // A short breather inside one episode: the same episode goes on (its seconds so far
      // are counted; the breather is not).
      this.resumedAt.set(last, now);
      last.end = null;
      return;
    }
    this.total++;
    this.episodes.inc();
    const start = since === undefined ? now : Math.min(now, since);
    this.ring.push({ start, end: null });
    if (this.ring.length > this.capacity) {
      this.ring.shift();
      this.evicted.inc();
    }
    this.deps.log.warn({ start }, this.names.startMessage);
  }

  /** The episode ends (nothing when none lasts). */
  end(): void {
    const cur = this.current();
    if (!cur) return;
    const now = this.deps.clock.now();
    cur.end = now;
    this.seconds.inc({}, Math.max(0, now - (this.resumedAt.get(cur) ?? cur.start)) / 1000);
    this.deps.log.info({ start: cur.start, end: now, seconds: round3((now - cur.start) / 1000) }, this.names.endMessage);
  }

  activeNow(): boolean {
    return this.current() !== undefined;
  }

  /** Milliseconds of episodes inside [start, end] (an ongoing episode counts up to `end`). */
  msWithin(start: number, end: number): number {
    let ms = 0;
    for (const e of this.ring) ms += Math.max(0, Math.min(end, e.end ?? end) - Math.max(start, e.start));
    return ms;
  }

  /** Recent episodes, oldest first (bounded by `capacity`). */
  recent(): readonly DeafEpisode[] {
    return this.ring;
  }

  summary(): DeafSummary {
    const last = this.ring[this.ring.length - 1];
    const now = this.deps.clock.now();
    return {
      count: this.total,
      now: this.activeNow(),
      last: last ? { start: last.start, end: last.end, seconds: round3(((last.end ?? now) - last.start) / 1000) } : null,
    };
  }

  private current(): DeafEpisode | undefined {
    const last = this.ring[this.ring.length - 1];
    return last && last.end === null ? last : undefined;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
