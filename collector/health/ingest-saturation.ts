import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';

/** Port: the group commit says when its receive queue fills and when it has room again. */
export interface SaturationSink {
  /** The queue is full: a message had to wait (the broker now holds, or drops, for us). */
  saturated(): void;
  /** The queue is below half its bound with nobody waiting. */
  relieved(): void;
}

/** One episode of ingest saturation (wall-clock epoch ms; `end` null while it lasts). */
export interface SaturationEpisode {
  start: number;
  end: number | null;
}

export interface IngestSaturationDeps {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Episodes kept in memory (default 256); older ones are dropped and counted. */
  capacity?: number | undefined;
  /** A new episode starting this soon after the last one ended continues it (default 2 s). */
  mergeMs?: number | undefined;
}

export interface SaturationSummary {
  count: number;
  saturatedNow: boolean;
  last: { start: number; end: number | null; seconds: number } | null;
}

/**
 * The collector's ingest saturation (issue 12): while the group commit's receive queue is
 * full, the collector reads no more from its broker connection, so the broker holds the
 * agents' messages for it (and Mosquitto drops beyond `max_queued_messages`; the agents
 * send them again later, since they keep them until acked). A host then goes unheard
 * because the collector is not listening, not because the host is gone: a province's
 * backlog replayed after a collector restart kept whole sites unheard for over a minute
 * and they were recorded as site incidents. The outage correlator reads these episodes
 * (through the CollectorStalls port) and counts a silence only in time the collector was
 * keeping up. Each episode: `canh_ingest_saturations_total`,
 * `canh_ingest_saturated_seconds_total`, one log line when it starts and one when it ends
 * (episodes closer than `mergeMs` are one), `saturation` in `/api/health`.
 */
export class IngestSaturation implements SaturationSink {
  private readonly ring: SaturationEpisode[] = [];
  /** Where the seconds of a merged episode start counting again. */
  private readonly resumedAt = new WeakMap<SaturationEpisode, number>();
  private total = 0;
  private readonly capacity: number;
  private readonly mergeMs: number;
  private readonly episodes: Counter;
  private readonly seconds: Counter;
  private readonly evicted: Counter;

  constructor(private readonly deps: IngestSaturationDeps) {
    this.capacity = deps.capacity ?? 256;
    this.mergeMs = deps.mergeMs ?? 2000;
    const m = deps.metrics;
    this.episodes = m.counter('canh_ingest_saturations_total', "Episodes of ingest saturation (the collector's receive queue full: the broker holds or drops messages for it).");
    this.seconds = m.counter('canh_ingest_saturated_seconds_total', "Seconds the collector's receive queue was full.");
    this.evicted = m.counter('canh_ingest_saturations_evicted_total', 'Saturation episodes dropped from the in-memory ring (its bound); still counted.');
    m.gauge('canh_ingest_saturated', "1 while the collector's receive queue is full.", (g) => g.set(this.saturatedNow() ? 1 : 0));
  }

  saturated(): void {
    if (this.current()) return;
    const now = this.deps.clock.now();
    const last = this.ring[this.ring.length - 1];
    if (last && last.end !== null && now - last.end <= this.mergeMs) {
      // A short breather inside one overload: the same episode goes on (its seconds so far
      // are counted; the breather is not).
      this.resumedAt.set(last, now);
      last.end = null;
      return;
    }
    this.total++;
    this.episodes.inc();
    this.ring.push({ start: now, end: null });
    if (this.ring.length > this.capacity) {
      this.ring.shift();
      this.evicted.inc();
    }
    this.deps.log.warn({ start: now }, 'ingest saturated: receive queue full, the broker holds messages for the collector (agents keep them until acked)');
  }

  relieved(): void {
    const cur = this.current();
    if (!cur) return;
    const now = this.deps.clock.now();
    cur.end = now;
    this.seconds.inc({}, Math.max(0, now - (this.resumedAt.get(cur) ?? cur.start)) / 1000);
    this.deps.log.info({ start: cur.start, end: now, seconds: round3((now - cur.start) / 1000) }, 'ingest keeping up again');
  }

  saturatedNow(): boolean {
    return this.current() !== undefined;
  }

  /** Milliseconds of saturation inside [start, end] (an ongoing episode counts up to `end`). */
  saturatedMs(start: number, end: number): number {
    let ms = 0;
    for (const e of this.ring) ms += Math.max(0, Math.min(end, e.end ?? end) - Math.max(start, e.start));
    return ms;
  }

  /** Recent episodes, oldest first (bounded by `capacity`). */
  recent(): readonly SaturationEpisode[] {
    return this.ring;
  }

  summary(): SaturationSummary {
    const last = this.ring[this.ring.length - 1];
    const now = this.deps.clock.now();
    return {
      count: this.total,
      saturatedNow: this.saturatedNow(),
      last: last ? { start: last.start, end: last.end, seconds: round3(((last.end ?? now) - last.start) / 1000) } : null,
    };
  }

  private current(): SaturationEpisode | undefined {
    const last = this.ring[this.ring.length - 1];
    return last && last.end === null ? last : undefined;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
