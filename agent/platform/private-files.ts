import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { runCommand } from './run-command.js';

/**
 * The agent's state directory and the files that hold a secret (its config, with the MQTT
 * password) are private: 0700/0600 on Linux and macOS; on Windows SYSTEM and
 * Administrators only (the service runs as LocalSystem), by their well-known SIDs, which
 * do not depend on the language of Windows (a Vietnamese Windows names them differently).
 * Same ACL as deploy/windows/install-agent.ps1 `Set-PrivateAcl`.
 */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';

/** `icacls` arguments: no inherited entries, full control for SYSTEM and Administrators only. */
export function icaclsArgs(path: string, isDirectory: boolean): string[] {
  const inherit = isDirectory ? '(OI)(CI)' : '';
  // /T /C: existing children too, continue past one that fails; /Q: no per-file lines.
  return [path, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:${inherit}F`, '/grant:r', `${ADMINISTRATORS_SID}:${inherit}F`, ...(isDirectory ? ['/T'] : []), '/C', '/Q'];
}

export interface PrivateFilesDeps {
  platform?: NodeJS.Platform;
  /** Runs icacls on Windows (default: run-command.ts); resolves stdout, or null when it failed. */
  run?: (cmd: string, args: readonly string[]) => Promise<string | null>;
  log: Logger;
}

/**
 * Create `dir` private, or make an existing one private (a state directory an earlier
 * version left 0755 with 0644 files): the directory, and the files and folders in it down
 * to `depth` levels (the outbox's segments). Fails softly: a warning, the agent runs on.
 */
export async function makePrivateDir(dir: string, deps: PrivateFilesDeps, depth = 2): Promise<void> {
  const platform = deps.platform ?? process.platform;
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (platform === 'win32') {
    const out = await (deps.run ?? defaultRun)('icacls', icaclsArgs(dir, true));
    if (out === null) deps.log.warn({ dir }, 'cannot restrict the state directory to SYSTEM and Administrators (icacls failed)');
    return;
  }
  try {
    await tighten(dir, depth);
  } catch (err) {
    deps.log.warn({ dir, err: (err as Error).message }, 'cannot make the state directory private (0700)');
  }
}

/**
 * Make a file holding a secret private (0600, or SYSTEM/Administrators on Windows) when it
 * is not: a config file with the MQTT password readable by every user of the PC.
 */
export async function makePrivateFile(file: string, deps: PrivateFilesDeps): Promise<void> {
  const platform = deps.platform ?? process.platform;
  if (platform === 'win32') {
    const out = await (deps.run ?? defaultRun)('icacls', icaclsArgs(file, false));
    if (out === null) deps.log.warn({ file }, 'cannot restrict the config file (it holds the MQTT password) to SYSTEM and Administrators (icacls failed)');
    return;
  }
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) === 0) return;
    await chmod(file, FILE_MODE);
    deps.log.warn({ file, was: (st.mode & 0o777).toString(8) }, 'the config file holds the MQTT password and was readable by others: made it 0600');
  } catch (err) {
    deps.log.warn({ file, err: (err as Error).message }, 'the config file holds the MQTT password and cannot be made private (0600): chmod 600 it');
  }
}

async function tighten(path: string, depth: number): Promise<void> {
  const st = await stat(path);
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== DIR_MODE) await chmod(path, DIR_MODE);
    if (depth <= 0) return;
    for (const name of await readdir(path)) await tighten(join(path, name), depth - 1);
  } else if (st.isFile() && (st.mode & 0o077) !== 0) {
    await chmod(path, st.mode & 0o700);
  }
}

const defaultRun = (cmd: string, args: readonly string[]) => runCommand(cmd, args, 15_000);
