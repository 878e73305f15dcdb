/**
 * The InfluxDB writer's counters (`canh_influx_*`) and its drop accounting: every point
 * that will never reach the database is counted by reason and logged, rate-limited
 * (house style §6).
 */
import type { Clock } from '../../common/clock.js';
import { RateLimitedLog, type Logger } from '../../common/log.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';

/** Why points were dropped; each is a label of `canh_influx_points_dropped_total`. */
export const INFLUX_DROP_REASONS = ['spool_full', 'rejected', 'too_large', 'queue_full', 'spool_error', 'stopped'] as const;
export type InfluxDropReason = (typeof INFLUX_DROP_REASONS)[number];

/** Counters of one writer, for tests and the bench. */
export interface InfluxWriterStats {
  written: number;
  retries: number;
  spooledOnly: number;
  resent: number;
  dropped: Record<InfluxDropReason, number>;
  /** Lines in memory (batch being built, waiting for the disk, waiting to be sent). */
  queuePoints: number;
  /** Spooled lines not yet written. */
  backlogPoints: number;
  spoolBytes: number;
}

/** What the gauges read from the writer. */
export interface InfluxGaugeSources {
  spoolBytes(): number;
  queuePoints(): number;
  backlogPoints(): number;
}

export class InfluxMetrics {
  readonly written: Counter;
  readonly retries: Counter;
  readonly spooledOnly: Counter;
  readonly dropped: Counter;
  readonly resent: Counter;
  /** Warnings of the writer, at most one per key every 10 s. */
  readonly warnLog: RateLimitedLog;

  constructor(m: MetricsRegistry, log: Logger, clock: Clock, gauges: InfluxGaugeSources) {
    this.warnLog = new RateLimitedLog(log, 10_000, () => clock.now());
    this.written = m.counter('canh_influx_points_written_total', 'Points written to InfluxDB (2xx), resends included.');
    this.retries = m.counter('canh_influx_retries_total', 'Failed InfluxDB writes that will be retried (one per attempt).');
    this.spooledOnly = m.counter('canh_influx_points_spooled_total', 'Points kept on disk only because the in-memory queue was full (read back from the spool when sent).');
    this.dropped = m.counter('canh_influx_points_dropped_total', 'Points never written to InfluxDB, by reason.');
    this.resent = m.counter('canh_influx_points_resent_total', 'Points sent again after the database may have lost acknowledged writes.');
    for (const reason of INFLUX_DROP_REASONS) this.dropped.inc({ reason }, 0);
    m.gauge('canh_influx_spool_bytes', 'Bytes of the InfluxDB spool on disk.', (g) => g.set(gauges.spoolBytes()));
    m.gauge('canh_influx_queue_points', 'Points held in memory for InfluxDB (being batched, spooled or waiting to be sent).', (g) => g.set(gauges.queuePoints()));
    m.gauge('canh_influx_backlog_points', 'Spooled points not yet written to InfluxDB.', (g) => g.set(gauges.backlogPoints()));
  }

  /** Counts `n` points dropped for `reason` and logs it (rate-limited per reason). */
  drop(reason: InfluxDropReason, n: number, msg: string, extra: Record<string, unknown> = {}): void {
    if (n <= 0) return;
    this.dropped.inc({ reason }, n);
    this.warnLog.warn(`drop:${reason}`, { reason, points: n, droppedTotal: this.dropped.get({ reason }), ...extra }, msg);
  }

  stats(gauges: InfluxGaugeSources): InfluxWriterStats {
    const dropped = {} as Record<InfluxDropReason, number>;
    for (const reason of INFLUX_DROP_REASONS) dropped[reason] = this.dropped.get({ reason });
    return {
      written: this.written.get(),
      retries: this.retries.get(),
      spooledOnly: this.spooledOnly.get(),
      resent: this.resent.get(),
      dropped,
      queuePoints: gauges.queuePoints(),
      backlogPoints: gauges.backlogPoints(),
      spoolBytes: gauges.spoolBytes(),
    };
  }
}
