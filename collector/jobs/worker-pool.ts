import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { freeWorkerYoungGeneration } from '../health/heap-growth.js';
import { JobCrashedError, JobRejectedError, JobTimeoutError, RemoteJobError } from './job-errors.js';
import type { JobMetrics } from './job-metrics.js';
import type { JobReplyMessage, JobRequestMessage } from './job-protocol.js';

/**
 * A small pool of `node:worker_threads` for the collector's heavy jobs (house style §13,
 * issue 12): reports, rollups, retention. The event loop that runs the broker, ingest and
 * alerting only posts a message and awaits the answer.
 *
 * - bounded queue (§6): past `maxQueued` waiting jobs, `run` rejects with a counted
 *   {@link JobRejectedError} (the API answers 503);
 * - per-job timeout: the worker is terminated and replaced, the job rejects with
 *   {@link JobTimeoutError};
 * - a worker that dies (uncaught exception, exit, out of memory) is replaced; its job
 *   rejects with {@link JobCrashedError}. Replacements after a crash wait `restartDelayMs`
 *   so a worker that cannot even start (a missing database) does not spin.
 */
export interface WorkerPoolOptions {
  /** For logs and `canh_job_worker_restarts_total{pool}`. */
  name: string;
  /** The worker's entry file (compiled JavaScript, e.g. `new URL('./x.js', import.meta.url)`). */
  entry: URL | string;
  /** Passed to every worker at start (structured clone): config the jobs need besides the DB. */
  workerData?: unknown;
  /** Workers (default 1: the collector's machine has few cores and the loop needs one). */
  size?: number;
  /** Jobs that may wait for a worker (default 8); more are rejected. */
  maxQueued?: number;
  /** Default per-job timeout (default 10 minutes). */
  timeoutMs?: number;
  /** Wait before replacing a crashed worker (default 1 s). */
  restartDelayMs?: number;
  /**
   * End a worker idle this long (ms) and start one again for the next job (issue 12: each
   * worker is a V8 heap and a SQLite connection, 10–30 MB of the collector's RSS, and a
   * report worker kept the heap of its last province report). Starting one costs ~100 ms
   * of CPU in the new thread (≤ 25 ms on the caller's). Default: workers live from
   * start() to stop().
   */
  idleMs?: number;
  /** Job kinds shown in the metrics from the start. */
  kinds?: readonly string[];
  metrics?: JobMetrics;
  log?: Logger;
  clock?: Clock;
  /**
   * V8 heap limits of each worker (issue 12: the collector's RSS ≤ 300 MB under any load).
   * Default: a small young generation (a worker's jobs allocate in bursts; the default
   * 16 MB semi-spaces per isolate were a large share of the RSS) and an old generation
   * large enough for a province report. A job that needs more fails with
   * JobCrashedError (the worker is replaced), never takes the collector down.
   */
  resourceLimits?: ResourceLimits;
  /** Test seam: how a worker is made (default `new Worker(entry, { workerData, resourceLimits })`). */
  spawn?: (entry: URL | string, workerData: unknown) => Worker;
}

export const DEFAULT_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 2048 };

interface Job {
  kind: string;
  payload: unknown;
  timeoutMs: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker | undefined;
  job: (Job & { id: number; started: number; timer: TimerHandle }) | undefined;
  lastError: string | undefined;
  restartTimer: TimerHandle | undefined;
  idleTimer: TimerHandle | undefined;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private started = false;
  private readonly clock: Clock;
  /** Workers replaced so far (crashes and timeouts). */
  restarts = 0;
  /** Jobs turned away because the queue was full. */
  rejected = 0;
  /** Workers ended because they were idle `idleMs` (not restarts). */
  idleEnds = 0;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.clock = opts.clock ?? systemClock;
    for (const k of opts.kinds ?? []) opts.metrics?.declare(k);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < (this.opts.size ?? 1); i++) {
      const slot: Slot = { worker: undefined, job: undefined, lastError: undefined, restartTimer: undefined, idleTimer: undefined };
      this.slots.push(slot);
      // With idleMs, workers start with the first job.
      if (this.opts.idleMs === undefined) this.spawn(slot);
    }
  }

  /** Reject what waits, stop the workers (a running job rejects as stopped). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const j of this.queue.splice(0)) {
      this.opts.metrics?.move('queued', j.kind, -1);
      j.reject(new JobRejectedError(j.kind, 'stopped'));
    }
    const exits: Array<Promise<number>> = [];
    for (const slot of this.slots.splice(0)) {
      this.clock.clear(slot.restartTimer);
      this.clock.clear(slot.idleTimer);
      const w = slot.worker;
      slot.worker = undefined;
      this.finish(slot, 'stopped');
      if (w) exits.push(w.terminate());
    }
    await Promise.allSettled(exits);
  }

  /** Jobs waiting for a worker. */
  queued(): number {
    return this.queue.length;
  }

  /** Workers alive now. */
  workers(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  /**
   * Run one job of `kind` in a worker; resolves with the worker's result (structured clone).
   * Rejects at once with {@link JobRejectedError} when the queue is full.
   */
  run<T>(kind: string, payload: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.started) return reject(new JobRejectedError(kind, 'stopped'));
      const job: Job = { kind, payload, timeoutMs: opts.timeoutMs ?? this.opts.timeoutMs ?? 600_000, resolve: resolve as (v: unknown) => void, reject };
      const free = this.slots.find((s) => s.worker && !s.job);
      if (free && this.queue.length === 0) return this.dispatch(free, job);
      if (this.queue.length >= (this.opts.maxQueued ?? 8)) {
        this.rejected++;
        this.opts.metrics?.rejected.inc({ kind });
        this.opts.log?.warn({ pool: this.opts.name, kind, queued: this.queue.length }, 'job queue full; job rejected');
        return reject(new JobRejectedError(kind, 'queue_full'));
      }
      this.queue.push(job);
      this.opts.metrics?.move('queued', kind, 1);
      // Ended while idle: start one (it takes the queue when ready; a crashed one restarts on its own timer).
      const asleep = this.slots.find((s) => !s.worker && !s.restartTimer);
      if (asleep && this.opts.idleMs !== undefined) this.spawn(asleep);
    });
  }

  private spawn(slot: Slot): void {
    slot.restartTimer = undefined;
    if (!this.started) return;
    const resourceLimits = this.opts.resourceLimits ?? DEFAULT_WORKER_LIMITS;
    // Otherwise the launchers' --max-semi-space-size overrides the worker's young generation.
    freeWorkerYoungGeneration();
    const w = (this.opts.spawn ?? ((entry, workerData) => new Worker(entry, { workerData, resourceLimits })))(this.opts.entry, this.opts.workerData);
    slot.worker = w;
    slot.lastError = undefined;
    w.on('message', (msg: JobReplyMessage) => {
      if (slot.worker !== w || !slot.job || slot.job.id !== msg.id) return;
      const job = slot.job;
      this.finish(slot, msg.ok ? 'ok' : 'error');
      if (msg.ok) job.resolve(msg.result);
      else job.reject(new RemoteJobError(job.kind, msg.error.message, msg.error.name, msg.error.data));
      this.pump();
    });
    w.on('error', (err) => {
      if (slot.worker === w) slot.lastError = err.message;
    });
    // Jobs that waited for this (replacement) worker.
    queueMicrotask(() => this.pump());
    w.on('exit', (code) => {
      if (slot.worker !== w) return; // replaced on purpose (timeout, stop)
      slot.worker = undefined;
      const detail = slot.lastError ?? `exit code ${code}`;
      this.opts.log?.warn({ pool: this.opts.name, kind: slot.job?.kind, err: detail }, 'job worker died; starting another');
      const job = slot.job;
      this.finish(slot, 'crash');
      job?.reject(new JobCrashedError(job.kind, detail));
      this.restarts++;
      this.opts.metrics?.restarts.inc({ pool: this.opts.name });
      if (this.started) slot.restartTimer = this.clock.setTimeout(() => this.spawn(slot), this.opts.restartDelayMs ?? 1000);
    });
  }

  private dispatch(slot: Slot, job: Job): void {
    this.clock.clear(slot.idleTimer);
    slot.idleTimer = undefined;
    const id = this.nextId++;
    const timer = this.clock.setTimeout(() => this.timeout(slot, id), job.timeoutMs);
    slot.job = { ...job, id, started: this.clock.monotonic(), timer };
    this.opts.metrics?.move('running', job.kind, 1);
    const msg: JobRequestMessage = { id, kind: job.kind, payload: job.payload };
    try {
      slot.worker!.postMessage(msg);
    } catch (err) {
      // Not cloneable: the caller's mistake, not the worker's.
      this.finish(slot, 'error');
      job.reject(err as Error);
      this.pump();
    }
  }

  private timeout(slot: Slot, id: number): void {
    if (slot.job?.id !== id) return;
    const job = slot.job;
    this.opts.log?.warn({ pool: this.opts.name, kind: job.kind, timeoutMs: job.timeoutMs }, 'job timed out; restarting its worker');
    this.finish(slot, 'timeout');
    job.reject(new JobTimeoutError(job.kind, job.timeoutMs));
    const w = slot.worker;
    slot.worker = undefined;
    void w?.terminate();
    this.restarts++;
    this.opts.metrics?.restarts.inc({ pool: this.opts.name });
    // A timeout is not a crash loop: the replacement starts at once.
    this.spawn(slot);
    this.pump();
  }

  /** Clear the slot's job and account for it. */
  private finish(slot: Slot, outcome: 'ok' | 'error' | 'timeout' | 'crash' | 'stopped'): void {
    const job = slot.job;
    if (!job) return;
    slot.job = undefined;
    this.clock.clear(job.timer);
    if (outcome === 'stopped') job.reject(new JobRejectedError(job.kind, 'stopped'));
    const m = this.opts.metrics;
    if (!m) return;
    m.move('running', job.kind, -1);
    m.seconds.observe((this.clock.monotonic() - job.started) / 1000, { kind: job.kind });
    if (outcome !== 'ok') m.failed.inc({ kind: job.kind, reason: outcome });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!slot.worker || slot.job) continue;
      if (this.queue.length === 0) {
        this.idleFrom(slot);
        continue;
      }
      const job = this.queue.shift()!;
      this.opts.metrics?.move('queued', job.kind, -1);
      this.dispatch(slot, job);
    }
  }

  /** An idle worker ends after `idleMs` unless a job comes first (dispatch clears the timer). */
  private idleFrom(slot: Slot): void {
    const idleMs = this.opts.idleMs;
    if (idleMs === undefined || slot.idleTimer) return;
    slot.idleTimer = this.clock.setTimeout(() => {
      slot.idleTimer = undefined;
      const w = slot.worker;
      if (!w || slot.job || !this.started) return;
      // Cleared first: its exit is not a crash.
      slot.worker = undefined;
      this.idleEnds++;
      this.opts.log?.debug({ pool: this.opts.name, idleMs }, 'idle job worker ended');
      void w.terminate();
    }, idleMs);
  }
}
