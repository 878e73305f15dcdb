/**
 * Metric history with rollups (issue 6): the series the board charts, alerting evaluates
 * and the monthly report sums. Raw samples are rolled up into 1-minute, 15-minute and
 * 1-hour buckets (min/max/sum/count per series) by a scheduled job; each resolution has
 * its own retention.
 */

/**
 * Series names. `key` tells several series of one host apart: the mount for `disk`, the
 * kernel/counter disk name for `disk_busy` and `disk_queue`, the
 * interface for `net_*`, the ping target for `ping_*`, the probe name for `http_*`;
 * '' for the others.
 */
export const HISTORY_METRICS = [
  'cpu', // CPU busy %, 0..100
  'mem', // memory used %, 0..100
  'disk', // disk used %, per mount
  'net_rx', // bytes/s received, per interface
  'net_tx', // bytes/s sent, per interface
  'ping_rtt', // median RTT ms, per target (absent when every probe was lost)
  'ping_p95', // p95 RTT ms, per target
  'ping_loss', // loss %, per target
  'http_total', // HTTP probe total time ms, per probe name (absent when it failed)
  'http_ok', // 100 when the probe succeeded, 0 when not, per probe name
  'up', // 100 for each sample received (coverage: count tells how many)
  'disk_busy', // disk busy %, 0..100, per physical disk (issue 17)
  'disk_queue', // average disk queue length, per physical disk
  'mem_psi', // PSI memory `some` avg10 %, 0..100 (Linux with PSI)
  'swap_io', // pages swapped/paged in + out per second
  'hard_faults', // hard (major) page faults per second
] as const;
export type HistoryMetric = (typeof HISTORY_METRICS)[number];

export const RESOLUTIONS = ['raw', '1m', '15m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const RESOLUTION_MS: Record<Exclude<Resolution, 'raw'>, number> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000 };

/** One bucket (or one raw sample, with count 1). `t` is the bucket start. */
export interface HistoryPoint {
  t: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

export interface HistoryQuery {
  site: string;
  /** One host, or every host of the site when absent. */
  host?: string | undefined;
  metric: HistoryMetric;
  /** Only this series key (mount, interface, target, probe). */
  key?: string | undefined;
  from: number;
  to: number;
  /** `auto` picks the finest resolution that keeps at most ~`maxPoints` points per series. */
  resolution: Resolution | 'auto';
  maxPoints?: number | undefined;
}

export interface HistorySeries {
  host: string;
  key: string;
  resolution: Resolution;
  points: HistoryPoint[];
}

/** Read side (board, API, alert rules, report). */
export interface HistoryReader {
  series(q: HistoryQuery): HistorySeries[];
}
