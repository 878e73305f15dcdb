import type { Counter, Histogram, MetricsRegistry } from '../../common/metrics-registry.js';

/**
 * `/metrics` of the worker pools (issue 12): jobs waiting and running, how long they take
 * and how many were turned away, by job kind. One instance per registry, shared by pools.
 */
export class JobMetrics {
  private readonly queued = new Map<string, number>();
  private readonly running = new Map<string, number>();
  readonly seconds: Histogram;
  readonly rejected: Counter;
  readonly failed: Counter;
  readonly restarts: Counter;

  constructor(m: MetricsRegistry) {
    m.gauge('canh_jobs_queued', 'Jobs waiting for a worker, by job kind.', (g) => {
      for (const [kind, n] of this.queued) g.set(n, { kind });
    });
    m.gauge('canh_jobs_running', 'Jobs running in a worker, by job kind.', (g) => {
      for (const [kind, n] of this.running) g.set(n, { kind });
    });
    this.seconds = m.histogram('canh_job_seconds', 'Time from a job start in its worker to its answer, by job kind and outcome.', [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 180, 600]);
    this.rejected = m.counter('canh_jobs_rejected_total', 'Jobs turned away because the queue was full or the pool stopping, by job kind.');
    this.failed = m.counter('canh_job_failures_total', 'Jobs that failed, by job kind and reason (error, timeout, crash).');
    this.restarts = m.counter('canh_job_worker_restarts_total', 'Workers replaced after a crash or a timed-out job, by pool.');
  }

  /** Show the kind with zero before its first job. */
  declare(kind: string): void {
    if (!this.queued.has(kind)) this.queued.set(kind, 0);
    if (!this.running.has(kind)) this.running.set(kind, 0);
  }

  move(kind: 'queued' | 'running', jobKind: string, by: number): void {
    const m = kind === 'queued' ? this.queued : this.running;
    m.set(jobKind, (m.get(jobKind) ?? 0) + by);
  }
}

const perRegistry = new WeakMap<MetricsRegistry, JobMetrics>();

/** The registry's one {@link JobMetrics} (every pool of the collector shares it). */
export function jobMetricsFor(m: MetricsRegistry): JobMetrics {
  let x = perRegistry.get(m);
  if (!x) perRegistry.set(m, (x = new JobMetrics(m)));
  return x;
}
