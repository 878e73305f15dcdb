/**
 * Errors of the worker pool (collector/jobs/worker-pool.ts). Each says whether to retry
 * (house style §6): a full queue or a stopping pool is temporary (`retryable`), a job that
 * failed inside its worker is not, a timed-out or crashed job may be.
 */
export class JobError extends Error {
  constructor(
    message: string,
    readonly kind: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/** The pool's queue is full (or the pool is stopping): try again later (HTTP 503). */
export class JobRejectedError extends JobError {
  constructor(
    kind: string,
    readonly reason: 'queue_full' | 'stopped',
  ) {
    super(
      reason === 'queue_full'
        ? `Máy chủ đang bận tạo báo cáo khác, vui lòng thử lại sau ít phút / the collector is busy with other jobs (${kind}), try again in a few minutes`
        : `Máy chủ đang dừng / the collector is stopping (${kind})`,
      kind,
      true,
    );
    this.name = 'JobRejectedError';
  }
}

/** The job ran longer than its timeout; its worker was stopped and replaced. */
export class JobTimeoutError extends JobError {
  constructor(kind: string, timeoutMs: number) {
    super(`job ${kind} timed out after ${timeoutMs} ms; its worker was restarted`, kind, true);
    this.name = 'JobTimeoutError';
  }
}

/** The worker died (uncaught exception, out of memory, exit) while running the job. */
export class JobCrashedError extends JobError {
  constructor(kind: string, detail: string) {
    super(`worker crashed while running job ${kind}: ${detail}`, kind, true);
    this.name = 'JobCrashedError';
  }
}

/**
 * The job threw inside its worker. `remoteName` and `data` carry what the worker reported
 * (errors do not cross a thread whole), so a caller can map it back to its own error type.
 */
export class RemoteJobError extends JobError {
  constructor(
    kind: string,
    message: string,
    readonly remoteName: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message, kind, false);
    this.name = 'RemoteJobError';
  }
}
