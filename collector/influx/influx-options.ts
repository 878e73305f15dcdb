/** Options and ports of the InfluxDB writer (influx-writer.ts). */
import type { BackoffPolicy } from '../../common/backoff.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { DiskSpool } from './disk-spool.js';
import type { InfluxWriteTransport } from './write-transport.js';

/** Retry delays of failed writes (`jitterMs`: up to this much is added to each, spreading collectors). */
export type InfluxRetryOptions = BackoffPolicy & { jitterMs: number };

export interface InfluxWriterOptions {
  url: string;
  org: string;
  bucket: string;
  /** Secret: passed to the transport only, never logged. */
  token?: string | undefined;
  /** Lines per HTTP write. */
  batchLines: number;
  /** A batch is sealed at most this long after its first line. */
  flushMs: number;
  spoolDir: string;
  spoolMaxBytes: number;
  timeoutMs: number;
  /** Bound on lines held in memory waiting for the database (beyond it: spool only). */
  maxQueueLines: number;
  /** How long a written batch stays resendable; 0 removes it at once (InfluxDB with durable writes). */
  resendWindowMs: number;
  /** Bodies above this many bytes are gzipped. */
  gzipThreshold?: number;
  retry?: Partial<InfluxRetryOptions>;
  /** stop() keeps sending for at most this long before leaving the rest in the spool. */
  drainOnStopMs?: number;
}

export interface InfluxWriterDeps {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** Defaults to the client library's HTTP transport. */
  transport?: InfluxWriteTransport;
  /** Defaults to a {@link DiskSpool} in `spoolDir`. */
  spool?: DiskSpool;
  /** For the retry jitter; tests pass a constant. */
  random?: () => number;
}

export const DEFAULT_RETRY: InfluxRetryOptions = { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitterMs: 250 };

/** The URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
