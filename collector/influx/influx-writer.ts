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
 *
 * Parts: batch-builder.ts (cutting lines into batches), resend-ledger.ts (the spooled
 * batches and the resend window), batch-texts.ts (batch texts held in memory, read-ahead),
 * sender-wait.ts (the send loop's wait and wake), influx-metrics.ts (counters and drops),
 * influx-options.ts, common/backoff.ts (retry delays). This file keeps the lifecycle, the
 * pre-start buffer, the spool appends and the send loop: one state machine
 * (new → running → stopping).
 */
import type { Point } from '@influxdata/influxdb-client';
import { backoffMs } from '../../common/backoff.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { BatchTexts, countLinesOf } from './batch-texts.js';
import type { Logger } from '../../common/log.js';
import { BatchBuilder } from './batch-builder.js';
import { DiskSpool } from './disk-spool.js';
import { DEFAULT_RETRY, redactUrl, type InfluxRetryOptions, type InfluxWriterDeps, type InfluxWriterOptions } from './influx-options.js';
import { InfluxMetrics, type InfluxGaugeSources, type InfluxWriterStats } from './influx-metrics.js';
import { ResendLedger } from './resend-ledger.js';
import { SenderWait } from './sender-wait.js';
import { classifyWriteError, ClientWriteTransport, type InfluxWriteTransport } from './write-transport.js';

export { INFLUX_DROP_REASONS, type InfluxDropReason, type InfluxWriterStats } from './influx-metrics.js';
export type { InfluxRetryOptions, InfluxWriterDeps, InfluxWriterOptions } from './influx-options.js';

const READ_AHEAD_BATCHES = 16;
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Batching, spooling, retrying InfluxDB writer; see the file header. */
export class InfluxWriter {
  private readonly opts: InfluxWriterOptions;
  private readonly retryOpts: InfluxRetryOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly transport: InfluxWriteTransport;
  private readonly spool: DiskSpool;
  private readonly random: () => number;
  private readonly metrics: InfluxMetrics;
  private readonly gauges: InfluxGaugeSources;
  private readonly batches: BatchBuilder;
  private readonly ledger = new ResendLedger();

  private state: State = 'new';
  /** Batches sealed before start(): appended to the spool when it is open. */
  private beforeStart: string[] = [];
  private beforeStartLines = 0;
  // Appends in progress.
  private appendingLines = 0;
  private appendTail: Promise<void> = Promise.resolve();
  /** Texts of batches waiting to be sent, up to maxQueueLines lines. */
  private readonly texts: BatchTexts;
  // Sender.
  private loop: Promise<void> | undefined;
  private readonly waiting: SenderWait;
  private failures = 0;
  private outageSince: number | undefined;
  private drainDeadline = Infinity;
  private drainTimer: TimerHandle | undefined;

  constructor(opts: InfluxWriterOptions, deps: InfluxWriterDeps) {
    this.opts = opts;
    this.retryOpts = { ...DEFAULT_RETRY, ...opts.retry };
    this.texts = new BatchTexts(opts.maxQueueLines);
    this.waiting = new SenderWait(deps.clock);
    this.clock = deps.clock;
    this.log = deps.log;
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
    this.batches = new BatchBuilder({
      batchLines: opts.batchLines,
      flushMs: opts.flushMs,
      maxBatchBytes: () => this.spool.maxBatchBytes,
      clock: deps.clock,
      onSealed: (text, n) => this.onSealed(text, n),
    });
    this.gauges = {
      spoolBytes: () => this.spool.stats().bytes,
      queuePoints: () => this.batches.size() + this.beforeStartLines + this.appendingLines + this.texts.lines,
      backlogPoints: () => this.ledger.backlogLines(),
    };
    this.metrics = new InfluxMetrics(deps.metrics, deps.log, deps.clock, this.gauges);
  }

  /** Opens the spool, takes stock of what a previous run left in it, and starts sending. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('influx writer: start() may be called once');
    this.state = 'starting';
    await this.spool.open();
    let batches = 0;
    let points = 0;
    for (let from = 0; ;) {
      const page = await this.spool.read(from, 256, READ_AHEAD_BYTES);
      if (page.length === 0) break;
      for (const b of page) {
        this.ledger.push(b.id, b.lines);
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
    this.batches.arm();
    this.loop = this.run();
    this.log.info({ url: redactUrl(this.opts.url), bucket: this.opts.bucket, batchLines: this.opts.batchLines, spoolMaxBytes: this.opts.spoolMaxBytes }, 'influx writer started');
  }

  /**
   * Queues points (line protocol, or client `Point`s, whose time must already be in ms).
   * Never blocks, never throws: whatever cannot be queued is counted as dropped.
   */
  write(input: string | Point | ReadonlyArray<string | Point>): void {
    const items = Array.isArray(input) ? (input as ReadonlyArray<string | Point>) : [input as string | Point];
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.metrics.drop('stopped', items.length, 'influx writer stopped: points dropped');
      return;
    }
    for (const item of items) {
      const line = typeof item === 'string' ? item : item.toLineProtocol();
      if (!line) continue;
      if (!this.batches.add(line)) this.metrics.drop('too_large', 1, 'influx line larger than a spool record: dropped');
    }
    this.batches.arm();
  }

  /** Seals the batch being built and resolves when every sealed batch is on disk. */
  async flush(): Promise<void> {
    this.batches.seal();
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
    this.batches.disarm();
    if (!wasRunning) {
      this.state = 'stopped';
      return;
    }
    this.batches.seal();
    await this.appendTail;
    this.drainDeadline = this.clock.monotonic() + (this.opts.drainOnStopMs ?? 5000);
    this.drainTimer = this.clock.setTimeout(() => {
      this.transport.abortAll();
      this.waiting.wakeAll();
    }, this.opts.drainOnStopMs ?? 5000);
    this.waiting.wakeAll();
    await this.loop;
    this.clock.clear(this.drainTimer);
    this.finalize();
    await this.spool.close();
    this.state = 'stopped';
    const backlog = this.gauges.backlogPoints();
    this.log.info({ written: this.metrics.written.get(), unsentPoints: backlog }, backlog ? 'influx writer stopped; unsent points stay in the spool' : 'influx writer stopped');
  }

  stats(): InfluxWriterStats {
    return this.metrics.stats(this.gauges);
  }

  // ------------------------------------------------------------------ spooling

  /** A sealed batch: held in memory (bounded) before start(), else spooled. */
  private onSealed(text: string, n: number): void {
    if (this.state === 'new' || this.state === 'starting') {
      if (this.beforeStartLines + n > this.opts.maxQueueLines) {
        this.metrics.drop('queue_full', n, 'influx writer not started and its queue is full: points dropped');
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
      this.metrics.drop('queue_full', n, 'influx spool writes stalled; in-memory queue full: points dropped');
      return;
    }
    this.appendingLines += n;
    const done = this.spool.append(text).then(
      (id) => {
        this.appendingLines -= n;
        if (this.spool.isGone(id)) {
          // Dropped by the byte bound before we saw the append finish.
          this.metrics.drop('spool_full', n, 'influx spool full: dropped oldest unsent points');
          return;
        }
        this.ledger.push(id, n);
        if (!this.texts.hold(id, text, n)) this.metrics.spooledOnly.inc({}, n);
        this.waiting.wake();
      },
      (err: unknown) => {
        this.appendingLines -= n;
        this.metrics.dropped.inc({ reason: 'spool_error' }, n);
        this.metrics.warnLog.warn('spool_error', { err: (err as Error)?.message, points: n }, 'influx spool append failed (disk full or I/O error): points dropped');
      },
    );
    this.appendTail = done;
  }

  // ------------------------------------------------------------------ sending

  private async run(): Promise<void> {
    for (;;) {
      if (this.state === 'stopping') {
        if (!this.ledger.hasUnsent() || this.clock.monotonic() >= this.drainDeadline) return;
      }
      this.finalize();
      const next = this.ledger.next();
      if (!next) {
        await this.idle(this.ledger.nextExpiryIn(this.clock.monotonic(), this.opts.resendWindowMs));
        continue;
      }
      const { id, lines: n, resend } = next;
      let text = this.texts.get(id);
      if (text === undefined) {
        text = await this.readFromSpool(id);
        if (text === undefined) continue;
      }
      try {
        await this.transport.write(text);
        this.onWritten(id, n, resend);
      } catch (err) {
        await this.onFailure(id, n, err);
      }
    }
  }

  private async readFromSpool(id: number): Promise<string | undefined> {
    this.texts.clearReadAhead();
    let page: Awaited<ReturnType<DiskSpool['read']>>;
    try {
      page = await this.spool.read(id, READ_AHEAD_BATCHES, READ_AHEAD_BYTES);
    } catch (err) {
      this.metrics.warnLog.warn('spool_read', { err: (err as Error)?.message }, 'influx spool read failed; will retry');
      await this.idle(1000);
      return undefined;
    }
    this.texts.fillReadAhead(page);
    const text = this.texts.get(id);
    const r = this.ledger.next();
    if (text === undefined && !this.spool.isGone(id) && r?.id === id) {
      // Skipped by the spool as corrupt (failed its CRC on read; it logs that).
      this.ledger.removeUnsent(id);
      this.spool.ack(id);
      this.metrics.drop('spool_error', r.lines, 'influx spool record unreadable: points dropped');
    }
    return text;
  }

  private onWritten(id: number, n: number, resend: boolean): void {
    this.metrics.written.inc({}, n);
    if (resend) this.metrics.resent.inc({}, n);
    if (this.failures > 0) {
      this.log.info({ attempts: this.failures, downMs: this.clock.monotonic() - (this.outageSince ?? 0) }, 'influx writes succeed again; sending the spooled backlog');
      this.failures = 0;
      this.outageSince = undefined;
    }
    this.texts.forget(id);
    this.ledger.markWritten(id, this.clock.monotonic());
    if (this.opts.resendWindowMs <= 0) this.finalize();
  }

  private async onFailure(id: number, n: number, err: unknown): Promise<void> {
    const f = classifyWriteError(err);
    if (!f.retry) {
      this.metrics.drop('rejected', n, 'influx refused a batch (bad data): points dropped', {
        reason: f.reason,
        detail: String((err as { body?: unknown })?.body ?? (err as Error)?.message ?? '').slice(0, 300),
      });
      this.texts.forget(id);
      this.ledger.markWritten(id, this.clock.monotonic(), true);
      return;
    }
    this.metrics.retries.inc();
    this.failures++;
    if (this.failures === 1) {
      this.outageSince = this.clock.monotonic();
      this.log.warn({ reason: f.reason, backlogPoints: this.gauges.backlogPoints() }, 'influx write failed; retrying, points keep going to the spool');
    } else {
      this.metrics.warnLog.warn('retry', { reason: f.reason, attempt: this.failures, backlogPoints: this.gauges.backlogPoints() }, 'influx write still failing');
    }
    if (/^http_(401|403|404)$/.test(f.reason)) {
      this.metrics.warnLog.warn('setup', { reason: f.reason }, 'influx rejects the token, org or bucket: check the collector influx config (points are kept in the spool)');
    }
    // The server may have died with acknowledged rows still in memory: send them again.
    if (f.connectionLost) this.ledger.resendWritten();
    // New points must not cut the backoff short (only stop() does).
    await this.idle(backoffMs(this.failures, this.retryOpts, this.random, f.delayMs), true);
  }

  /** Acknowledges written batches whose resend window has passed (never during an outage). */
  private finalize(): void {
    if (this.failures > 0) return;
    this.ledger.expire(this.clock.monotonic(), this.opts.resendWindowMs, (id) => this.spool.ack(id));
  }

  /** The spool's byte bound deleted its oldest segment(s): drop them from the ledger and count unsent points. */
  private onSpoolOverflow(batches: number, bytes: number): void {
    const lost = this.ledger.dropGone(
      (id) => this.spool.isGone(id),
      (id) => this.texts.forget(id),
    );
    if (lost.lines > 0) {
      this.metrics.drop('spool_full', lost.lines, 'influx spool full: dropped oldest unsent points', {
        batches: lost.batches,
        spoolBatches: batches,
        spoolBytes: bytes,
        spoolMaxBytes: this.opts.spoolMaxBytes,
      });
    }
  }

  /** Waits `ms` (or until woken); a backoff wait is woken by stop() only. */
  private idle(ms: number | undefined, backoff = false): Promise<void> {
    if (this.state === 'stopping' && this.clock.monotonic() >= this.drainDeadline) return Promise.resolve();
    return this.waiting.sleep(ms, backoff);
  }
}
