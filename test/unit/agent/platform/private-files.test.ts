/**
 * Issue 14 item 10 on Windows, tested on the command text (no Windows here): the state
 * directory and the config file are restricted with icacls to SYSTEM and Administrators
 * by well-known SID (language-independent), inheritance removed; a failing icacls is a
 * warning, never a crash. The POSIX modes are tested with real files.
 */
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { icaclsArgs, makePrivateDir, makePrivateFile } from '../../../../agent/platform/private-files.js';
import { createLogger } from '../../../../common/log.js';

function capture() {
  const lines: Array<{ msg: string }> = [];
  const log = createLogger('t', {
    level: 'debug',
    destination: new Writable({
      write(c: Buffer, _e, cb) {
        for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
        cb();
      },
    }),
  });
  return { log, lines };
}

describe('private agent files', () => {
  it('Windows: the state directory gets SYSTEM + Administrators full control, inherited by its files, and nothing else', async () => {
    const calls: Array<{ cmd: string; args: readonly string[] }> = [];
    const { log } = capture();
    const dir = join(mkdtempSync(join(tmpdir(), 'canh-win-')), 'state');
    await makePrivateDir(dir, { platform: 'win32', log, run: async (cmd, args) => (calls.push({ cmd, args }), 'ok') });
    expect(calls).toEqual([{ cmd: 'icacls', args: [dir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '/T', '/C', '/Q'] }]);
    expect(icaclsArgs('C:\\ProgramData\\Canh\\agent.json', false)).toEqual([
      'C:\\ProgramData\\Canh\\agent.json',
      '/inheritance:r',
      '/grant:r',
      '*S-1-5-18:F',
      '/grant:r',
      '*S-1-5-32-544:F',
      '/C',
      '/Q',
    ]);
  });

  it('Windows: a failing icacls is a warning, the agent goes on', async () => {
    const { log, lines } = capture();
    const dir = join(mkdtempSync(join(tmpdir(), 'canh-win-')), 'state');
    await makePrivateDir(dir, { platform: 'win32', log, run: async () => null });
    await makePrivateFile(join(dir, 'agent.json'), { platform: 'win32', log, run: async () => null });
    expect(lines.map((l) => l.msg)).toEqual([
      'cannot restrict the state directory to SYSTEM and Administrators (icacls failed)',
      'cannot restrict the config file (it holds the MQTT password) to SYSTEM and Administrators (icacls failed)',
    ]);
  });

  it.runIf(process.platform !== 'win32')('POSIX: an open directory tree becomes 0700/0600 (execute bits of a file kept for its owner only)', async () => {
    const { log } = capture();
    const dir = mkdtempSync(join(tmpdir(), 'canh-posix-'));
    mkdirSync(join(dir, 'outbox'));
    writeFileSync(join(dir, 'outbox', 'seg'), 'x');
    writeFileSync(join(dir, 'cursor.json'), '{}');
    for (const [p, m] of [
      [dir, 0o755],
      [join(dir, 'outbox'), 0o777],
      [join(dir, 'outbox', 'seg'), 0o666],
      [join(dir, 'cursor.json'), 0o644],
    ] as const)
      chmodSync(p, m);
    await makePrivateDir(dir, { log });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'outbox')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'outbox', 'seg')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cursor.json')).mode & 0o777).toBe(0o600);
    // A private file is left alone (no warning).
    const f = join(dir, 'agent.json');
    writeFileSync(f, '{}', { mode: 0o600 });
    chmodSync(f, 0o600);
    const before = capture();
    await makePrivateFile(f, { log: before.log });
    expect(before.lines).toEqual([]);
  });
});
