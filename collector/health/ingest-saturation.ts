import { DeafEpisodes, type DeafEpisode, type DeafEpisodesDeps, type DeafSummary } from './deaf-episodes.js';

/** Port: the group commit says when its receive queue fills and when it has room again. */
export interface SaturationSink {
  /** The queue is full: a message had to wait (the broker now holds, or drops, for us). */
  saturated(): void;
  /** The queue is below half its bound with nobody waiting. */
  relieved(): void;
}

/** One episode of ingest saturation (wall-clock epoch ms; `end` null while it lasts). */
export type SaturationEpisode = DeafEpisode;
export type IngestSaturationDeps = DeafEpisodesDeps;

export interface SaturationSummary {
  count: number;
  saturatedNow: boolean;
  last: DeafSummary['last'];
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
export class IngestSaturation extends DeafEpisodes implements SaturationSink {
  constructor(deps: IngestSaturationDeps) {
    super(deps, {
      episodes: ['canh_ingest_saturations_total', "Episodes of ingest saturation (the collector's receive queue full: the broker holds or drops messages for it)."],
      seconds: ['canh_ingest_saturated_seconds_total', "Seconds the collector's receive queue was full."],
      evicted: ['canh_ingest_saturations_evicted_total', 'Saturation episodes dropped from the in-memory ring (its bound); still counted.'],
      active: ['canh_ingest_saturated', "1 while the collector's receive queue is full."],
      startMessage: 'ingest saturated: receive queue full, the broker holds messages for the collector (agents keep them until acked)',
      endMessage: 'ingest keeping up again',
    });
  }

  saturated(): void {
    this.begin();
  }

  relieved(): void {
    this.end();
  }

  saturatedNow(): boolean {
    return this.activeNow();
  }

  /** Milliseconds of saturation inside [start, end] (an ongoing episode counts up to `end`). */
  saturatedMs(start: number, end: number): number {
    return this.msWithin(start, end);
  }

  /** `saturation` in `/api/health`. */
  saturationSummary(): SaturationSummary {
    const s = this.summary();
    return { count: s.count, saturatedNow: s.now, last: s.last };
  }
}
