/**
 * vitest globalSetup: every temporary file or directory of a suite run (the tests', and the
 * collectors', agents' and brokers' they start) goes under one directory, removed at the end.
 * Tests remove their own as they go where they can; what one leaves (a unit test's small
 * database, a failed run's data folder) no longer piles up in /tmp run after run (~2,900
 * directories had, and benchmark and test leftovers had filled /tmp to 56 GB).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const before = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'canh-test-run-'));
  // Like /tmp: any user may create entries (a broker that drops privileges reads its files there).
  chmodSync(dir, 0o1777);
  // Read by os.tmpdir() in the test workers and in every process they start.
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
