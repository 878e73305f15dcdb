import { afterEach, describe, expect, it } from 'vitest';
import { JobCrashedError, JobRejectedError, JobTimeoutError, RemoteJobError } from '../../../../collector/jobs/job-errors.js';
import { JobMetrics } from '../../../../collector/jobs/job-metrics.js';
import { WorkerPool } from '../../../../collector/jobs/worker-pool.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { waitFor } from '../../../helpers/wait.js';

const ENTRY = new URL('../../../fixtures/job-worker.mjs', import.meta.url);
let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.stop();
  pool = undefined;
});

function make(opts: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}) {
  const registry = new MetricsRegistry();
  const metrics = new JobMetrics(registry);
  pool = new WorkerPool({ name: 'test', entry: ENTRY, kinds: ['echo'], restartDelayMs: 10, metrics, ...opts });
  pool.start();
  return { pool, registry, metrics };
}

describe('WorkerPool (real worker threads)', () => {
  it('runs jobs and hands back the structured clone of the result', async () => {
    const { pool } = make();
    await expect(pool.run('echo', { a: [1, 2], s: 'xã' })).resolves.toEqual({ a: [1, 2], s: 'xã' });
  });

  it('bounds its queue: past maxQueued a job is rejected at once and counted', async () => {
    const { pool, registry } = make({ maxQueued: 2 });
    const running = pool.run('slow', 300);
    const waiting = [pool.run('slow', 1), pool.run('slow', 2)];
    await expect(pool.run('slow', 3)).rejects.toBeInstanceOf(JobRejectedError);
    expect(pool.rejected).toBe(1);
    expect(registry.render()).toMatch(/canh_jobs_rejected_total\{kind="slow"\} 1/);
    expect(registry.render()).toMatch(/canh_jobs_queued\{kind="slow"\} 2/);
    await expect(Promise.all([running, ...waiting])).resolves.toEqual([300, 1, 2]);
    expect(registry.render()).toMatch(/canh_job_seconds_count\{kind="slow"\} 3/);
  });

  it('times a job out, replaces the worker and goes on with the queue', async () => {
    const { pool } = make({ timeoutMs: 200 });
    const spun = pool.run('spin', null);
    const next = pool.run('echo', 'after', { timeoutMs: 5000 });
    await expect(spun).rejects.toBeInstanceOf(JobTimeoutError);
    await expect(next).resolves.toBe('after');
    expect(pool.restarts).toBe(1);
  });

  it('restarts a crashed worker; the crashed job rejects, the next one runs', async () => {
    const { pool } = make();
    await expect(pool.run('crash', null)).rejects.toBeInstanceOf(JobCrashedError);
    await expect(pool.run('echo', 1)).resolves.toBe(1);
    expect(pool.restarts).toBe(1);
  });

  it("carries the worker's error name and fields back", async () => {
    const { pool } = make();
    const err = await pool.run('fail', 'xa-khong-co').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteJobError);
    expect((err as RemoteJobError).remoteName).toBe('UnknownSiteError');
    expect((err as RemoteJobError).data.site).toBe('xa-khong-co');
  });

  it('stop() rejects what waits as retryable', async () => {
    const { pool } = make();
    const a = expect(pool.run('slow', 500)).rejects.toBeInstanceOf(JobRejectedError);
    const b = expect(pool.run('echo', 1)).rejects.toMatchObject({ retryable: true });
    await pool.stop();
    await a;
    await b;
  });

  it('with idleMs, starts a worker for the first job and ends it once idle that long; the next job gets a new one', async () => {
    const { pool } = make({ idleMs: 150 });
    expect(pool.workers()).toBe(0);
    const first = await pool.run<number>('thread', null);
    expect(pool.workers()).toBe(1);
    // Busy longer than idleMs: not ended under its job, nor between two jobs close together.
    await expect(pool.run('slow', 300)).resolves.toBe(300);
    await expect(pool.run<number>('thread', null)).resolves.toBe(first);
    await waitFor(() => pool.workers() === 0, { timeoutMs: 5000 });
    expect(pool.idleEnds).toBe(1);
    expect(pool.restarts).toBe(0);
    const second = await pool.run<number>('thread', null);
    expect(second).not.toBe(first);
    // Queued while asleep: all run, in order, on the one new worker.
    await waitFor(() => pool.workers() === 0, { timeoutMs: 5000 });
    await expect(Promise.all([pool.run('echo', 1), pool.run('echo', 2)])).resolves.toEqual([1, 2]);
    expect(pool.idleEnds).toBe(2);
  });
});
