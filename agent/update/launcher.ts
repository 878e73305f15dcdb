import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { decideLaunch, readPointer, rollbackOnTimeout, stagedEntry, stagedExists, writePointer } from './version-pointer.js';

/** Exit code that makes the service manager start the agent again (cli/agent-command.ts EXIT_RESTART). */
const EXIT_RESTART = 3;
const LAUNCHED = Symbol.for('canh.agent.launched');
const ARGV = Symbol.for('canh.agent.argv');
const INSTALLED = Symbol.for('canh.agent.installed');
type Globals = typeof globalThis & { [LAUNCHED]?: string; [ARGV]?: string[]; [INSTALLED]?: string };

/** True inside a staged version the launcher started (its own launcher step is skipped). */
export function launchedByLauncher(): boolean {
  return typeof (globalThis as Globals)[LAUNCHED] === 'string';
}

/** The version of the installed code that launched this one (undefined: this is the installed code). */
export function installedVersion(): string | undefined {
  return (globalThis as Globals)[INSTALLED];
}

/** The agent's arguments as the launcher received them (a staged bundle imported from `canh agent` sees `agent` in argv). */
export function launcherArgv(): string[] | undefined {
  return (globalThis as Globals)[ARGV];
}

export interface LaunchOptions {
  stateDir: string;
  /** The version of this (installed) code. */
  installed: string;
  trialSeconds: number;
  argv: string[];
  clock: Clock;
  log: Logger;
}

/**
 * The launcher (issue 16 item 2): the first thing the installed agent does at every start.
 * The service manager (systemd unit, Windows service wrapper, `canh up`) always starts the
 * installed bundle, which stays untouched and read-only to the service; it then runs the
 * version `versions/current.json` names by importing that version's bundle into this same
 * process (no second Node.js on an old PC). It is the one piece of code an update never
 * replaces, so a broken new version cannot break the way back: a version on trial that does
 * not confirm within `trialSeconds` of a start (it could not connect and get a collector
 * acknowledgement), or needs more than two starts, is switched back to the previous one here.
 *
 * Resolves `true` when a staged version was started (the caller then does nothing more: the
 * staged code sets the exit code), `false` to run the installed code.
 */
export async function launchStaged(o: LaunchOptions): Promise<boolean> {
  if (launchedByLauncher()) return false;
  const p = await readPointer(o.stateDir);
  const d = decideLaunch(p, o.installed, o.clock.now(), stagedExists(o.stateDir));
  if (d.pointer) await writePointer(o.stateDir, d.pointer);
  if (d.pointer?.report?.state === 'rolled_back') o.log.warn({ ...d.pointer.report }, 'agent update rolled back at start');
  if (d.run === null) return false;
  const version = d.run;
  if (d.trial) armTrialTimer(o, version);
  (globalThis as Globals)[LAUNCHED] = version;
  (globalThis as Globals)[ARGV] = o.argv;
  (globalThis as Globals)[INSTALLED] = o.installed;
  o.log.info({ version, installed: o.installed, trial: d.trial }, 'starting the staged agent version');
  try {
    await import(pathToFileURL(stagedEntry(o.stateDir, version)).href);
  } catch (err) {
    // Cannot even load: back to the previous version at once, and restart into it.
    const now = await readPointer(o.stateDir);
    const back = rollbackOnTimeout({ ...now, trial: now.trial ?? { version, seq: now.lastSeq ?? 0, starts: 1, at: o.clock.now() } }, o.installed, 0, o.clock.now());
    if (back) await writePointer(o.stateDir, { ...back, report: { ...back.report!, reason: `version ${version} failed to load: ${(err as Error).message}`.slice(0, 500) } });
    o.log.error({ version, err: (err as Error).message }, 'staged agent version failed to load; rolled back, restarting');
    process.exitCode = EXIT_RESTART;
  }
  return true;
}

/**
 * The trial deadline of this start: when the staged version has not confirmed by then,
 * switch back, ask it to stop (SIGTERM: a real agent flushes and exits), and exit with
 * EXIT_RESTART whatever it does, so the service manager starts the previous version.
 */
function armTrialTimer(o: LaunchOptions, version: string): void {
  o.clock.setTimeout(() => {
    void (async () => {
      const p = await readPointer(o.stateDir);
      const back = p.trial?.version === version ? rollbackOnTimeout(p, o.installed, o.trialSeconds, o.clock.now()) : undefined;
      if (!back) return; // confirmed in time
      await writePointer(o.stateDir, back);
      o.log.warn({ ...back.report }, 'agent update rolled back: the new version did not confirm in time; restarting');
      process.on('exit', () => {
        process.exitCode = EXIT_RESTART;
      });
      // A version that does not handle SIGTERM (or hangs) is not waited for: the outbox is on disk.
      if (process.listenerCount('SIGTERM') === 0) process.exit(EXIT_RESTART);
      process.emit('SIGTERM', 'SIGTERM');
      o.clock.setTimeout(() => process.exit(EXIT_RESTART), 20_000);
    })().catch((err: unknown) => o.log.error({ err: (err as Error).message }, 'trial check failed'));
  }, o.trialSeconds * 1000);
}
