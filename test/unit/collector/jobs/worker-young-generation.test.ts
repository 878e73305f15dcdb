/**
 * Issue 12 (the collector's RSS): a worker's `resourceLimits.maxYoungGenerationSizeMb` must
 * hold when the process runs with the launchers' `--max-semi-space-size=8`. V8 lets that flag
 * override every new isolate's young generation: each worker had 16 MiB of new space. The pool
 * resets the flag for the workers it starts (collector/health/heap-growth.ts). A real worker
 * thread reports its new space after churning through short-lived garbage.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import { WorkerPool } from '../../../../collector/jobs/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'canh-young-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The job protocol (collector/jobs/job-protocol.ts) without the compiled serveJobs.
const ENTRY = join(dir, 'young-worker.mjs');
writeFileSync(
  ENTRY,
  `import { parentPort } from 'node:worker_threads';
import { getHeapSpaceStatistics } from 'node:v8';
parentPort.on('message', (msg) => {
  let keep = [];
  for (let i = 0; i < 2_000_000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50_000) keep = []; }
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  parentPort.postMessage({ id: msg.id, ok: true, result: { newSpaceMb: newSpace / 1048576, kept: keep.length } });
});
`,
);

it("a worker's young generation follows its resourceLimits, not the process's --max-semi-space-size", async () => {
  // As `node --max-semi-space-size=8` does for the collector (set on this test's thread; its own heap exists already).
  setFlagsFromString('--max-semi-space-size=8');
  const pool = new WorkerPool({ name: 'young', entry: ENTRY, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } });
  pool.start();
  try {
    const r = await pool.run<{ newSpaceMb: number }>('churn', null, { timeoutMs: 60_000 });
    // 16 MiB (two semi-spaces of 8) when the flag wins; within the limit of 2 when the pool frees it.
    expect(r.newSpaceMb).toBeGreaterThan(0);
    expect(r.newSpaceMb).toBeLessThanOrEqual(2);
  } finally {
    await pool.stop();
    setFlagsFromString('--max-semi-space-size=0'); // V8's "not set": nothing of this test stays in the process
  }
  // The calling thread's heap was made before: the reset does not shrink it.
  expect(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size).toBeGreaterThan(0);
});
