/**
 * Crash durability of the notifier outbox with a real process and a real kill -9: the
 * process is killed while a send is in flight; a new process on the same SQLite file sends
 * what was not accepted, and nothing that was.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../collector/store/sqlite-store.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUNDLE = join(ROOT, 'test-artifacts', 'notify-crash', 'child.mjs');
const BOT_TOKEN = '7000000007:CrashTestBotToken';

function startChild(file: string, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BUNDLE, file, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (String(d).includes('ready')) resolve(child);
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('notifier outbox across kill -9', () => {
  let dir: string;
  let standin: ZaloStandin;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(join(ROOT, 'test-artifacts', 'notify-crash'), { recursive: true });
    // Dependencies stay external: resolved from the repository's node_modules at run time.
    await build({
      entryPoints: [join(ROOT, 'test/helpers/notify-crash-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile: BUNDLE,
      logLevel: 'error',
    });
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await kill9(child);
    await standin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('killed mid-send: the restarted process sends the rest, nothing is lost or sent twice', async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-notify-crash-'));
    const file = join(dir, 'canh.db');
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN] });
    await standin.start();
    const pass = { kind: 'delay' as const, ms: 0 };
    standin.failNext('bot', pass, pass, { kind: 'hang' });

    child = await startChild(file, standin.url);
    await waitFor(() => standin.requests.length === 3, { what: 'third send in flight' });
    await kill9(child);
    expect(standin.botMessages).toHaveLength(2);
    standin.clearFaults();

    child = await startChild(file, standin.url);
    await waitFor(() => standin.botMessages.length >= 5, { what: 'the rest after the restart' });
    await new Promise((r) => setTimeout(r, 300)); // room for a wrongful repeat to show up
    await kill9(child);
    expect(standin.botMessages.map((m) => /Xã số \d/.exec(m.text)?.[0])).toEqual(['Xã số 0', 'Xã số 1', 'Xã số 2', 'Xã số 3', 'Xã số 4']);
    const db = openDatabase(file);
    try {
      const rows = db.prepare('SELECT message_id, state FROM notify_deliveries ORDER BY id').all();
      expect(rows).toEqual([0, 1, 2, 3, 4].map((i) => ({ message_id: `crash-${i}`, state: 'sent' })));
    } finally {
      db.close();
    }
  });
});
