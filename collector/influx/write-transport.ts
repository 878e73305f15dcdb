/**
 * The HTTP write of one batch to InfluxDB's `/api/v2/write` (also served by
 * VictoriaMetrics), through `@influxdata/influxdb-client`'s transport: the client builds
 * the request (token header, gzip above `gzipThreshold`) and turns error answers into its
 * `HttpError` (status code, Retry-After). Batching, retries and the spool are the writer's
 * (influx-writer.ts): the client's WriteApi has its own in-memory buffer and retry
 * buffer, which would duplicate ours and lose data on a crash.
 */
import { HttpError, InfluxDB, RequestTimedOutError } from '@influxdata/influxdb-client';
import type { Clock } from '../../common/clock.js';
import { WRITE_PRECISION } from './point-builder.js';

/** Port: writes one batch of line protocol. Tests and other databases may replace it. */
export interface InfluxWriteTransport {
  /**
   * Sends `body`; resolves when the database answered 2xx. Rejects with an error that
   * {@link classifyWriteError} understands: `HttpError` for an HTTP answer, a timeout or
   * network error otherwise.
   */
  write(body: string): Promise<void>;
  /** Aborts requests in flight (stop). */
  abortAll(): void;
}

export interface ClientWriteTransportOptions {
  url: string;
  /** InfluxDB API token; sent as `Authorization: Token …`, never logged. */
  token?: string | undefined;
  org: string;
  bucket: string;
  /** A request that has not completed after this is aborted and retried. */
  timeoutMs: number;
  /** Bodies larger than this many bytes are gzipped. */
  gzipThreshold: number;
  clock: Clock;
}

/** The real transport: the client library's HTTP transport with a per-request deadline. */
export class ClientWriteTransport implements InfluxWriteTransport {
  private readonly influx: InfluxDB;
  private readonly path: string;
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly opts: ClientWriteTransportOptions) {
    this.influx = new InfluxDB({ url: opts.url, token: opts.token, timeout: opts.timeoutMs });
    this.path = `/api/v2/write?org=${encodeURIComponent(opts.org)}&bucket=${encodeURIComponent(opts.bucket)}&precision=${WRITE_PRECISION}`;
  }

  async write(body: string): Promise<void> {
    // The client's socket timeout reports an error but leaves the socket open (a stopped
    // server would keep collecting our requests); aborting destroys it.
    const ac = new AbortController();
    this.inFlight.add(ac);
    let timedOut = false;
    const timer = this.opts.clock.setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.opts.timeoutMs);
    try {
      await this.influx.transport.request(this.path, body, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        gzipThreshold: this.opts.gzipThreshold,
        signal: ac.signal,
      });
    } catch (err) {
      if (timedOut) throw new RequestTimedOutError();
      throw err;
    } finally {
      this.opts.clock.clear(timer);
      this.inFlight.delete(ac);
    }
  }

  abortAll(): void {
    for (const ac of this.inFlight) ac.abort();
  }
}

/** What to do with a batch whose write failed (house style §6: errors say whether to retry). */
export type WriteFailure =
  /** Retry the same batch later. `delayMs` from Retry-After when the server gave one; `connectionLost` when the server may have restarted. */
  | { retry: true; delayMs: number | undefined; connectionLost: boolean; reason: string }
  /** The database refused the data itself (4xx): retrying cannot help; drop and count it. */
  | { retry: false; reason: string };

/** Retry-After above this is capped (a misconfigured proxy must not park the writer for a day). */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Classifies a write error:
 * - 2xx never gets here.
 * - 429 and 503 honour Retry-After (RFC 9110 §10.2.3: delay-seconds; the client parses the
 *   number without converting it, so it is seconds here). Other 5xx, 408 and 425 retry
 *   with backoff.
 * - 401/403 (token) and 404 (org/bucket missing) retry too: the data is fine, the set-up is
 *   not, and dropping a week of spooled data over a mistyped token would be worse than
 *   waiting for the fix (logged as errors so someone notices).
 * - Other 4xx (400 bad line protocol, 413, 422) mean the data itself is refused: drop.
 * - Anything without an HTTP status (refused, reset, timeout, abort) retries and marks the
 *   connection as lost: the server may have crashed after acknowledging recent batches.
 */
export function classifyWriteError(err: unknown): WriteFailure {
  if (err instanceof HttpError) {
    const code = err.statusCode;
    if (code === 429 || code === 503) {
      const ra = err.retryAfter();
      const delayMs = ra > 0 ? Math.min(ra * 1000, MAX_RETRY_AFTER_MS) : undefined;
      return { retry: true, delayMs, connectionLost: false, reason: `http_${code}` };
    }
    if (code >= 500 || code === 408 || code === 425 || code === 401 || code === 403 || code === 404) {
      return { retry: true, delayMs: undefined, connectionLost: false, reason: `http_${code}` };
    }
    if (code >= 400) return { retry: false, reason: `http_${code}` };
    return { retry: true, delayMs: undefined, connectionLost: false, reason: `http_${code}` };
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  const name = (err as { name?: unknown } | undefined)?.name;
  return { retry: true, delayMs: undefined, connectionLost: true, reason: typeof code === 'string' ? code : typeof name === 'string' ? name : 'error' };
}
