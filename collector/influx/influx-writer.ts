/**
 * The InfluxDB export (DESIGN.md "Storage"): points of every freshly stored message are
 * batched, spooled to disk and written to InfluxDB (or anything that serves
 * `/api/v2/write`, such as VictoriaMetrics). "Nothing lost, nothing written twice with
 * different values":
 *
 * 1. **Spool first.** A batch (at most `batchLines` lines, or what `flushMs` collected) is
 *    appended to the {@link DiskSpool} (fdatasync) before it is sent. It leaves the spool
 *    only after the database answered 2xx, so a collector crash or restart replays it,
 *    in order, at the next start.
 * 2. **One batch in flight, in spool order.** Failed batches are retried (exponential
 *    backoff, Retry-After honoured) before any later batch is sent; bad data (4xx) is
 *    counted, logged and dropped; nothing else is ever dropped except by the spool's byte
 *    bound (oldest first, counted and logged).
 * 3. **A resend window.** A database may acknowledge a write before it is durable:
 *    VictoriaMetrics buffers recent rows in memory for several seconds (we measured: a
 *    SIGKILL of VictoriaMetrics 1.79 lost rows acknowledged 6 s earlier; rows 15 s old
 *    survived). So a written batch stays in the spool for `resendWindowMs` more; when a
 *    write then fails without an HTTP answer (refused, reset, timeout: the server may have
 *    crashed), every batch written within the window is sent again after the server is
 *    back.
 * 4. **Idempotent writes.** A resent batch, a batch replayed after a crash between the write
 *    and the cursor persist, or a write whose answer was lost, writes the same lines again:
 *    same measurement, tag set and timestamp, and the same values, because every value is
 *    a function of the stored row (point-builder.ts). InfluxDB keeps one point per
 *    (series, timestamp), the last write wins, so a repeat is a no-op. VictoriaMetrics
 *    stores a repeated sample twice UNLESS deduplication is on: run it with
 *    `-dedup.minScrapeInterval=1ms` (then it keeps one sample per series and millisecond,
 *    as InfluxDB does). A point is never written with different values.
 *
 * Memory is bounded: `write()` never blocks and never throws; the batch being built holds
 * at most `batchLines` lines, batches waiting to be sent are kept in memory up to
 * `maxQueueLines` lines (more go to the spool only and are read back from disk when their
 * turn comes), batches being appended to the spool are bounded by `maxQueueLines` too
 * (beyond it the disk does not keep up: dropped as `queue_full`, counted, logged), and the
 * send path reads at most 8 MiB ahead from the spool. So at most
 * 2 × `maxQueueLines` + `batchLines` lines are in memory.
 */
import type { Point } from '@influxdata/influxdb-client';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog, type Logger } from '../../common/log.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { DiskSpool } from './disk-spool.js';
import { classifyWriteError, ClientWriteTransport, type InfluxWriteTransport } from './write-transport.js';

/** Why points were dropped; each is a label of `canh_influx_points_dropped_total`. */
export const INFLUX_DROP_REASONS = ['spool_full', 'rejected', 'too_large', 'queue_full', 'spool_error', 'stopped'] as const;
export type InfluxDropReason = (typeof INFLUX_DROP_REASONS)[number];

export interface InfluxRetryOptions {
  /** First retry delay. */
  minDelayMs: number;
  /** Cap of the exponential backoff. */
  maxDelayMs: number;
  factor: number;
  /** Up to this much random delay is added to each retry (spreads collectors). */
  jitterMs: number;
}

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

const DEFAULT_RETRY: InfluxRetryOptions = { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2, jitterMs: 250 };
const READ_AHEAD_BATCHES = 16;
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Batching, spooling, retrying InfluxDB writer; see the file header. */
export class InfluxWriter {
  private readonly opts: InfluxWriterOptions;
  private readonly retryOpts: InfluxRetryOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly warnLog: RateLimitedLog;
  private readonly transport: InfluxWriteTransport;
  private readonly spool: DiskSpool;
  private readonly random: () => number;

  private readonly writtenTotal: Counter;
  private readonly retriesTotal: Counter;
  private readonly spooledTotal: Counter;
  private readonly droppedTotal: Counter;
  private readonly resentTotal: Counter;

  private state: State = 'new';
  // The batch being built.
  private building: string[] = [];
  private buildingBytes = 0;
  private flushTimer: TimerHandle | undefined;
  /** Batches sealed before start(): appended to the spool when it is open. */
  private beforeStart: string[] = [];
  private beforeStartLines = 0;
  // Appends in progress.
  private appendingLines = 0;
  private appendTail: Promise<void> = Promise.resolve();
  /**
   * The ledger: every batch in the spool, in id order: [head, head+written) were written
   * and wait for the resend window to pass; the rest wait to be sent.
   */
  private ids: number[] = [];
  private lines: number[] = [];
  private writtenAt: number[] = [];
  private head = 0;
  private written = 0;
  /** Texts of batches waiting to be sent, up to maxQueueLines lines. */
  private readonly mem = new Map<number, string>();
  private memLines = 0;
  private readonly readAhead = new Map<number, string>();
  // Sender.
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private stopWakeUp: (() => void) | undefined;
  private failures = 0;
  private outageSince: number | undefined;
  private drainDeadline = Infinity;
  private drainTimer: TimerHandle | undefined;

  constructor(opts: InfluxWriterOptions, deps: InfluxWriterDeps) {
    this.opts = opts;
    this.retryOpts = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = deps.clock;
    this.log = deps.log;
    this.warnLog = new RateLimitedLog(deps.log, 10_000, () => deps.clock.now());
    this.random = deps.random ?? Math.random;
    this.transport =
      deps.transport ??
      new ClientWriteTransport({
        url: opts.url,
        token: opts.token,
        org: opts.org,
        bucket: opts.bucket,
        timeoutMs: opts.timeoutMs,
        gzipThreshold: opts.gzipThreshold ?? 1000,
        clock: deps.clock,
      });
    this.spool =
      deps.spool ??
      new DiskSpool({
        dir: opts.spoolDir,
        maxBytes: opts.spoolMaxBytes,
        clock: deps.clock,
        log: deps.log.child({ module: 'influx-spool' }),
        onOverflow: (batches, bytes) => this.onSpoolOverflow(batches, bytes),
      });
    const m = deps.metrics;
    this.writtenTotal = m.counter('canh_influx_points_written_total', 'Points written to InfluxDB (2xx), resends included.');
    this.retriesTotal = m.counter('canh_influx_retries_total', 'Failed InfluxDB writes that will be retried (one per attempt).');
    this.spooledTotal = m.counter(
      'canh_influx_points_spooled_total',
      'Points kept on disk only because the in-memory queue was full (read back from the spool when sent).',
    );
    this.droppedTotal = m.counter('canh_influx_points_dropped_total', 'Points never written to InfluxDB, by reason.');
    this.resentTotal = m.counter('canh_influx_points_resent_total', 'Points sent again after the database may have lost acknowledged writes.');
    for (const reason of INFLUX_DROP_REASONS) this.droppedTotal.inc({ reason }, 0);
    m.gauge('canh_influx_spool_bytes', 'Bytes of the InfluxDB spool on disk.', (g) => g.set(this.spool.stats().bytes));
    m.gauge('canh_influx_queue_points', 'Points held in memory for InfluxDB (being batched, spooled or waiting to be sent).', (g) =>
      g.set(this.queuePoints()),
    );
    m.gauge('canh_influx_backlog_points', 'Spooled points not yet written to InfluxDB.', (g) => g.set(this.backlogPoints()));
  }

  /** Opens the spool, takes stock of what a previous run left in it, and starts sending. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('influx writer: start() may be called once');
    this.state = 'starting';
    await this.spool.open();
    let batches = 0;
    let points = 0;
    for (let from = 0; ; ) {
      const page = await this.spool.read(from, 256, READ_AHEAD_BYTES);
      if (page.length === 0) break;
      for (const b of page) {
        this.pushLedger(b.id, b.lines);
        batches++;
        points += b.lines;
      }
      from = page[page.length - 1]!.id + 1;
    }
    if (batches > 0) this.log.info({ batches, points }, 'influx spool: replaying points left by the previous run');
    this.state = 'running';
    const waiting = this.beforeStart;
    this.beforeStart = [];
    this.beforeStartLines = 0;
    for (const text of waiting) this.appendBatch(text, countLinesOf(text));
    if (this.building.length > 0) this.armFlush();
    this.loop = this.run();
    this.log.info(
      { url: redactUrl(this.opts.url), bucket: this.opts.bucket, batchLines: this.opts.batchLines, spoolMaxBytes: this.opts.spoolMaxBytes },
      'influx writer started',
    );
  }

  /**
   * Queues points (line protocol, or client `Point`s, whose time must already be in ms).
   * Never blocks, never throws: whatever cannot be queued is counted as dropped.
   */
  write(input: string | Point | ReadonlyArray<string | Point>): void {
    const items = Array.isArray(input) ? (input as ReadonlyArray<string | Point>) : [input as string | Point];
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.drop('stopped', items.length, 'influx writer stopped: points dropped');
      return;
    }
    const maxBytes = this.spool.maxBatchBytes;
    for (const item of items) {
      const line = typeof item === 'string' ? item : item.toLineProtocol();
      if (!line) continue;
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (bytes > maxBytes) {
        this.drop('too_large', 1, 'influx line larger than a spool record: dropped');
        continue;
      }
      if (this.building.length > 0 && this.buildingBytes + bytes > maxBytes) this.seal();
      this.building.push(line);
      this.buildingBytes += bytes;
      if (this.building.length >= this.opts.batchLines) this.seal();
    }
    if (this.building.length > 0) this.armFlush();
  }

  /** Seals the batch being built and resolves when every sealed batch is on disk. */
  async flush(): Promise<void> {
    this.seal();
    await this.appendTail;
  }

  /**
   * Seals and spools what is queued, keeps sending for up to `drainOnStopMs`, then
   * aborts the request in flight and closes the spool; what was not written is replayed
   * at the next start.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.clock.clear(this.flushTimer);
    this.flushTimer = undefined;
    if (!wasRunning) {
      this.state = 'stopped';
      return;
    }
    this.seal();
    await this.appendTail;
    this.drainDeadline = this.clock.monotonic() + (this.opts.drainOnStopMs ?? 5000);
    this.drainTimer = this.clock.setTimeout(() => {
      this.transport.abortAll();
      this.wakeForStop();
    }, this.opts.drainOnStopMs ?? 5000);
    this.wakeForStop();
    await this.loop;
    this.clock.clear(this.drainTimer);
    this.finalize();
    await this.spool.close();
    this.state = 'stopped';
    const backlog = this.backlogPoints();
    this.log.info({ written: this.writtenTotal.get(), unsentPoints: backlog }, backlog ? 'influx writer stopped; unsent points stay in the spool' : 'influx writer stopped');
  }

  stats(): InfluxWriterStats {
    const dropped = {} as Record<InfluxDropReason, number>;
    for (const reason of INFLUX_DROP_REASONS) dropped[reason] = this.droppedTotal.get({ reason });
    return {
      written: this.writtenTotal.get(),
      retries: this.retriesTotal.get(),
      spooledOnly: this.spooledTotal.get(),
      resent: this.resentTotal.get(),
      dropped,
      queuePoints: this.queuePoints(),
      backlogPoints: this.backlogPoints(),
      spoolBytes: this.spool.stats().bytes,
    };
  }

  // ------------------------------------------------------------------ batching

  private armFlush(): void {
    if (this.flushTimer || this.state === 'stopping' || this.state === 'stopped') return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.seal();
    }, this.opts.flushMs);
  }

  private seal(): void {
    this.clock.clear(this.flushTimer);
    this.flushTimer = undefined;
    if (this.building.length === 0) return;
    const n = this.building.length;
    const text = this.building.join('\n');
    this.building = [];
    this.buildingBytes = 0;
    if (this.state === 'new' || this.state === 'starting') {
      if (this.beforeStartLines + n > this.opts.maxQueueLines) {
        this.drop('queue_full', n, 'influx writer not started and its queue is full: points dropped');
        return;
      }
      this.beforeStart.push(text);
      this.beforeStartLines += n;
      return;
    }
    this.appendBatch(text, n);
  }

  /** Spool first: the batch is appended (durably) before the sender may see it. */
  private appendBatch(text: string, n: number): void {
    if (this.appendingLines + n > this.opts.maxQueueLines) {
      // The disk does not keep up (or hangs): do not let memory grow without bound.
      this.drop('queue_full', n, 'influx spool writes stalled; in-memory queue full: points dropped');
      return;
    }
    this.appendingLines += n;
    const done = this.spool.append(text).then(
      (id) => {
        this.appendingLines -= n;
        if (this.spool.isGone(id)) {
          // Dropped by the byte bound before we saw the append finish.
          this.drop('spool_full', n, 'influx spool full: dropped oldest unsent points');
          return;
        }
        this.pushLedger(id, n);
        if (this.memLines + n <= this.opts.maxQueueLines) {
          this.mem.set(id, text);
          this.memLines += n;
        } else {
          this.spooledTotal.inc({}, n);
        }
        this.wake();
      },
      (err: unknown) => {
        this.appendingLines -= n;
        this.droppedTotal.inc({ reason: 'spool_error' }, n);
        this.warnLog.warn('spool_error', { err: (err as Error)?.message, points: n }, 'influx spool append failed (disk full or I/O error): points dropped');
      },
    );
    this.appendTail = done;
  }

  private pushLedger(id: number, n: number): void {
    this.ids.push(id);
    this.lines.push(n);
    this.writtenAt.push(0);
  }

  // ------------------------------------------------------------------ sending

  private async run(): Promise<void> {
    for (;;) {
      if (this.state === 'stopping') {
        const unsent = this.head + this.written < this.ids.length;
        if (!unsent || this.clock.monotonic() >= this.drainDeadline) return;
      }
      this.finalize();
      const idx = this.head + this.written;
      if (idx >= this.ids.length) {
        await this.idle(this.nextFinalizeDelay());
        continue;
      }
      const id = this.ids[idx]!;
      const n = this.lines[idx]!;
      let text = this.mem.get(id) ?? this.readAhead.get(id);
      if (text === undefined) {
        text = await this.readFromSpool(id);
        if (text === undefined) continue;
      }
      const resend = this.writtenAt[idx] === -1;
      try {
        await this.transport.write(text);
        this.onWritten(id, n, resend);
      } catch (err) {
        await this.onFailure(id, n, err);
      }
    }
  }

  private async readFromSpool(id: number): Promise<string | undefined> {
    this.readAhead.clear();
    let page: Awaited<ReturnType<DiskSpool['read']>> = [];
    try {
      page = await this.spool.read(id, READ_AHEAD_BATCHES, READ_AHEAD_BYTES);
    } catch (err) {
      this.warnLog.warn('spool_read', { err: (err as Error)?.message }, 'influx spool read failed; will retry');
      await this.idle(1000);
      return undefined;
    }
    for (const b of page) this.readAhead.set(b.id, b.text);
    const text = this.readAhead.get(id);
    if (text === undefined && !this.spool.isGone(id) && this.ids[this.head + this.written] === id) {
      // Skipped by the spool as corrupt (failed its CRC on read; it logs that).
      this.takeFromLedger(id);
      this.drop('spool_error', this.lines[this.head + this.written] ?? 0, 'influx spool record unreadable: points dropped');
    }
    return text;
  }

  /** Removes the unsent batch `id` (at the send position) from the ledger. */
  private takeFromLedger(id: number): void {
    const idx = this.head + this.written;
    if (this.ids[idx] !== id) return;
    this.ids.splice(idx, 1);
    this.lines.splice(idx, 1);
    this.writtenAt.splice(idx, 1);
    this.spool.ack(id);
  }

  private onWritten(id: number, n: number, resend: boolean): void {
    this.writtenTotal.inc({}, n);
    if (resend) this.resentTotal.inc({}, n);
    if (this.failures > 0) {
      this.log.info({ attempts: this.failures, downMs: this.clock.monotonic() - (this.outageSince ?? 0) }, 'influx writes succeed again; sending the spooled backlog');
      this.failures = 0;
      this.outageSince = undefined;
    }
    this.forget(id);
    const idx = this.head + this.written;
    if (this.ids[idx] === id) {
      this.writtenAt[idx] = this.clock.monotonic();
      this.written++;
    }
    if (this.opts.resendWindowMs <= 0) this.finalize();
  }

  private async onFailure(id: number, n: number, err: unknown): Promise<void> {
    const f = classifyWriteError(err);
    if (!f.retry) {
      this.drop('rejected', n, 'influx refused a batch (bad data): points dropped', {
        reason: f.reason,
        detail: String((err as { body?: unknown })?.body ?? (err as Error)?.message ?? '').slice(0, 300),
      });
      this.forget(id);
      const idx = this.head + this.written;
      if (this.ids[idx] === id) {
        this.lines[idx] = 0; // a resend of it must not count it again
        this.writtenAt[idx] = this.clock.monotonic();
        this.written++;
      }
      return;
    }
    this.retriesTotal.inc();
    this.failures++;
    if (this.failures === 1) {
      this.outageSince = this.clock.monotonic();
      this.log.warn({ reason: f.reason, backlogPoints: this.backlogPoints() }, 'influx write failed; retrying, points keep going to the spool');
    } else {
      this.warnLog.warn('retry', { reason: f.reason, attempt: this.failures, backlogPoints: this.backlogPoints() }, 'influx write still failing');
    }
    if (/^http_(401|403|404)$/.test(f.reason)) {
      this.warnLog.warn('setup', { reason: f.reason }, 'influx rejects the token, org or bucket: check the collector influx config (points are kept in the spool)');
    }
    if (f.connectionLost && this.written > 0) {
      // The server may have died with acknowledged rows still in memory: send them again.
      for (let i = this.head; i < this.head + this.written; i++) this.writtenAt[i] = -1;
      this.written = 0;
    }
    const r = this.retryOpts;
    const backoff = Math.min(r.maxDelayMs, r.minDelayMs * r.factor ** Math.min(this.failures - 1, 30));
    // New points must not cut the backoff short (only stop() does).
    await this.idle((f.delayMs ?? backoff) + Math.round(this.random() * r.jitterMs), true);
  }

  /** Acknowledges written batches whose resend window has passed (never during an outage). */
  private finalize(): void {
    if (this.failures > 0) return;
    const now = this.clock.monotonic();
    while (this.written > 0 && now - this.writtenAt[this.head]! >= this.opts.resendWindowMs) {
      this.spool.ack(this.ids[this.head]!);
      this.head++;
      this.written--;
    }
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.lines = this.lines.slice(this.head);
      this.writtenAt = this.writtenAt.slice(this.head);
      this.head = 0;
    }
  }

  private nextFinalizeDelay(): number | undefined {
    if (this.written === 0) return undefined;
    return Math.max(1, this.opts.resendWindowMs - (this.clock.monotonic() - this.writtenAt[this.head]!));
  }

  private forget(id: number): void {
    const text = this.mem.get(id);
    if (text !== undefined) {
      this.mem.delete(id);
      this.memLines -= countLinesOf(text);
    }
    this.readAhead.delete(id);
  }

  /** The spool's byte bound deleted its oldest segment(s): drop them from the ledger and count unsent points. */
  private onSpoolOverflow(batches: number, bytes: number): void {
    let lost = 0;
    let lostBatches = 0;
    while (this.head < this.ids.length && this.spool.isGone(this.ids[this.head]!)) {
      if (this.written > 0) {
        this.written--; // already written: only its resend safety is lost
      } else {
        lost += this.lines[this.head]!;
        lostBatches++;
      }
      this.forget(this.ids[this.head]!);
      this.head++;
    }
    if (lost > 0) {
      this.drop('spool_full', lost, 'influx spool full: dropped oldest unsent points', {
        batches: lostBatches,
        spoolBatches: batches,
        spoolBytes: bytes,
        spoolMaxBytes: this.opts.spoolMaxBytes,
      });
    }
  }

  /** Waits `ms` (or until woken); a backoff wait is woken by stop() only. */
  private idle(ms: number | undefined, backoff = false): Promise<void> {
    if (this.state === 'stopping' && this.clock.monotonic() >= this.drainDeadline) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        this.clock.clear(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        if (this.stopWakeUp === done) this.stopWakeUp = undefined;
        resolve();
      };
      if (backoff) this.stopWakeUp = done;
      else this.wakeUp = done;
      if (ms !== undefined) timer = this.clock.setTimeout(done, ms);
    });
  }

  /** New work for the sender. */
  private wake(): void {
    this.wakeUp?.();
  }

  /** stop(): also ends a backoff wait. */
  private wakeForStop(): void {
    this.wakeUp?.();
    this.stopWakeUp?.();
  }

  // ------------------------------------------------------------------ accounting

  private drop(reason: InfluxDropReason, n: number, msg: string, extra: Record<string, unknown> = {}): void {
    if (n <= 0) return;
    this.droppedTotal.inc({ reason }, n);
    this.warnLog.warn(`drop:${reason}`, { reason, points: n, droppedTotal: this.droppedTotal.get({ reason }), ...extra }, msg);
  }

  private queuePoints(): number {
    return this.building.length + this.beforeStartLines + this.appendingLines + this.memLines;
  }

  private backlogPoints(): number {
    let n = 0;
    for (let i = this.head + this.written; i < this.ids.length; i++) n += this.lines[i]!;
    return n;
  }
}

function countLinesOf(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The URL without credentials, for logs. */
function redactUrl(url: string): string {
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
