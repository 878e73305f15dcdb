import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';

/**
 * Which agent version runs (issue 16 item 2): `<stateDir>/versions/current.json`, replaced
 * atomically (temporary file, fsync, rename), read by the launcher at every start
 * (launcher.ts) and written by the updater (updater.ts). Staged versions live beside it in
 * `versions/<version>/` (the installed one stays where the installer put it, read-only to
 * the service): an update never overwrites the running code, and going back is renaming
 * one small file.
 *
 * A switch to a new version opens a trial: the new version must connect and get a
 * collector acknowledgement within `update.trialSeconds` of each start, and may need at most
 * {@link MAX_TRIAL_STARTS} starts to do so; otherwise the launcher switches back to the
 * previous version and leaves a `rolled_back` report for it to send.
 */
export interface VersionPointer {
  /** The staged version to run; null: the installed one. */
  version: string | null;
  /** The version to go back to; null: the installed one. */
  previous: string | null;
  /** A version on trial: not yet confirmed by a collector acknowledgement. */
  trial?: { version: string; seq: number; starts: number; at: number } | undefined;
  /** The last offer acted on (applied, refused, rolled back): the retained offer is not acted on again. */
  lastSeq?: number | undefined;
  /** A report to send once connected (the version that wrote it may not be the one that sends it). */
  report?: PendingReport | undefined;
}

export interface PendingReport {
  state: 'applied' | 'rolled_back';
  version: string;
  from: string;
  seq: number;
  reason?: string | undefined;
  at: number;
}

/** Starts a version on trial gets before it is rolled back (the second failed start). */
export const MAX_TRIAL_STARTS = 2;
export const POINTER_FILE = 'current.json';
/** The file of a staged version the launcher imports. */
export const ENTRY_FILE = 'canh-agent.mjs';

export const versionsDir = (stateDir: string) => resolve(stateDir, 'versions');
export const versionDir = (stateDir: string, version: string) => join(versionsDir(stateDir), version);

export async function readPointer(stateDir: string): Promise<VersionPointer> {
  const raw = (await readJsonFile(join(versionsDir(stateDir), POINTER_FILE))) as Partial<VersionPointer> | null;
  if (!raw || typeof raw !== 'object') return { version: null, previous: null };
  return {
    version: typeof raw.version === 'string' ? raw.version : null,
    previous: typeof raw.previous === 'string' ? raw.previous : null,
    trial: raw.trial && typeof raw.trial.version === 'string' ? raw.trial : undefined,
    lastSeq: typeof raw.lastSeq === 'number' ? raw.lastSeq : undefined,
    report: raw.report && typeof raw.report.state === 'string' ? raw.report : undefined,
  };
}

export async function writePointer(stateDir: string, p: VersionPointer): Promise<void> {
  await mkdir(versionsDir(stateDir), { recursive: true });
  await writeFileAtomic(join(versionsDir(stateDir), POINTER_FILE), `${JSON.stringify(p, null, 2)}\n`, { fsync: true });
}

export const stagedEntry = (stateDir: string, version: string) => join(versionDir(stateDir, version), ENTRY_FILE);

export type LaunchDecision =
  /** Run the installed code (no staged version, or it is the installed one). */
  | { run: null; pointer?: VersionPointer | undefined }
  /** Run a staged version; `trial` when it still has to prove itself this start. */
  | { run: string; trial: boolean; pointer?: VersionPointer | undefined };

/**
 * What to run at this start, and the pointer to write first (pure but for `exists`). A
 * version on trial that already had {@link MAX_TRIAL_STARTS} starts, or whose files are
 * gone, is rolled back to the previous one, with a `rolled_back` report.
 */
export function decideLaunch(p: VersionPointer, installed: string, now: number, exists: (version: string) => boolean = () => true): LaunchDecision {
  const rollback = (reason: string): LaunchDecision => {
    const from = p.version ?? installed;
    const pointer: VersionPointer = {
      version: p.previous,
      previous: null,
      lastSeq: p.lastSeq,
      report: { state: 'rolled_back', version: p.previous ?? installed, from, seq: p.trial?.seq ?? p.lastSeq ?? 0, reason, at: now },
    };
    if (p.previous !== null && !exists(p.previous)) return { run: null, pointer: { ...pointer, version: null } };
    return p.previous === null || p.previous === installed ? { run: null, pointer } : { run: p.previous, trial: false, pointer };
  };
  if (p.version === null || p.version === installed) {
    // A pointer at the installed version itself: nothing staged to run (a trial of it confirms normally).
    return { run: null };
  }
  if (!exists(p.version)) return rollback(`the files of version ${p.version} are missing`);
  if (p.trial && p.trial.version === p.version) {
    if (p.trial.starts >= MAX_TRIAL_STARTS) return rollback(`version ${p.version} did not connect and get a collector acknowledgement in ${p.trial.starts} starts`);
    return { run: p.version, trial: true, pointer: { ...p, trial: { ...p.trial, starts: p.trial.starts + 1 } } };
  }
  return { run: p.version, trial: false };
}

/** The pointer after a trial that timed out (the running version did not confirm in time). */
export function rollbackOnTimeout(p: VersionPointer, installed: string, trialSeconds: number, now: number): VersionPointer | undefined {
  if (!p.trial || p.trial.version !== p.version) return undefined;
  return {
    version: p.previous,
    previous: null,
    lastSeq: p.lastSeq,
    report: {
      state: 'rolled_back',
      version: p.previous ?? installed,
      from: p.trial.version,
      seq: p.trial.seq,
      reason: `version ${p.trial.version} did not connect and get a collector acknowledgement within ${trialSeconds} s`,
      at: now,
    },
  };
}

export const stagedExists = (stateDir: string) => (version: string) => existsSync(stagedEntry(stateDir, version));
