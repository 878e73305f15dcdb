import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { decodePublicKey, decodeUpdateOffer, verifyManifest, type UpdateOffer, type UpdateState } from '../../contract/agent-update.js';
import type { AgentConfig } from '../config.js';
import { download } from './download.js';
import { installedVersion, launchedByLauncher } from './launcher.js';
import { unpackTarGz } from './package-unpack.js';
import { ENTRY_FILE, readPointer, versionDir, versionsDir, writePointer, type PendingReport, type VersionPointer } from './version-pointer.js';

export interface UpdateReport {
  state: UpdateState;
  version: string;
  from: string;
  seq: number;
  reason?: string | undefined;
}

export interface UpdaterDeps {
  config: AgentConfig;
  /** The version of the code running now. */
  running: string;
  clock: Clock;
  log: Logger;
  report: (r: UpdateReport) => void;
  /** Stop and exit with EXIT_RESTART: the service manager starts the launcher, which runs the new version. */
  restart: () => void;
  /** Free bytes of the state folder's disk (default: statfs). */
  freeBytes?: (dir: string) => Promise<number>;
}

const PLATFORM = process.platform === 'win32' ? 'windows' : process.platform;

/**
 * Signed self-update on the agent (issue 16 item 2): acts on the collector's offer
 * (contract/agent-update.ts), in order: checks it (platform, pinned key, signature, size,
 * free disk), downloads the package from the collector (paced), checks its SHA-256 against
 * the signed manifest, unpacks it into `versions/<v>/` beside the running version, switches
 * `versions/current.json` to it with a trial, and restarts through the service manager.
 * The new version confirms the trial at its first collector acknowledgement
 * ({@link onCollectorAck}); the launcher rolls back one that does not.
 */
export class Updater {
  private chain: Promise<void> = Promise.resolve();
  private busy = false;
  private stopped = false;
  private confirming = false;
  private readonly skippedSeqs = new Set<number>();
  private readonly abort = new AbortController();
  private pointer: VersionPointer | undefined;

  constructor(private readonly deps: UpdaterDeps) {}

  /** At start: read the pointer; a report left by the launcher or a previous run is sent (it sits in the outbox until acked). */
  async start(): Promise<void> {
    this.pointer = await readPointer(this.deps.config.stateDir);
    const r = this.pointer.report;
    if (r && r.state === 'rolled_back') await this.sendPending(r);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    return this.chain;
  }

  /** The first collector acknowledgement of this run: a version on trial is confirmed. */
  onCollectorAck(): void {
    const p = this.pointer;
    if (this.confirming || !p?.trial || p.trial.version !== this.deps.running || p.version !== this.deps.running) return;
    this.confirming = true;
    this.chain = this.chain.then(async () => {
      const cur = await readPointer(this.deps.config.stateDir);
      if (!cur.trial || cur.trial.version !== this.deps.running) return;
      const from = cur.previous ?? installedVersion() ?? 'installed';
      const report: PendingReport = { state: 'applied', version: this.deps.running, from, seq: cur.trial.seq, at: this.deps.clock.now() };
      const next: VersionPointer = { version: cur.version, previous: cur.previous, lastSeq: cur.lastSeq, report };
      await writePointer(this.deps.config.stateDir, next);
      this.pointer = next;
      this.deps.log.info({ version: this.deps.running, from: report.from }, 'agent update confirmed: connected and acknowledged by the collector');
      await this.sendPending(report);
      await this.prune(next);
    });
    this.chain = this.chain.catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'update confirmation failed'));
  }

  /** A message on our update topic: handled one at a time, in order. */
  onOffer(payload: Buffer): void {
    this.chain = this.chain.then(() => this.handle(payload)).catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'update handling failed'));
  }

  private async sendPending(r: PendingReport): Promise<void> {
    this.deps.report({ state: r.state, version: r.version, from: r.from, seq: r.seq, reason: r.reason });
    const cur = await readPointer(this.deps.config.stateDir);
    if (cur.report && cur.report.at === r.at && cur.report.state === r.state) {
      const { report: _sent, ...rest } = cur;
      await writePointer(this.deps.config.stateDir, rest);
      this.pointer = rest;
    }
  }

  private async handle(payload: Buffer): Promise<void> {
    if (this.stopped || this.busy || payload.length === 0) return; // empty: the collector withdrew its offer
    const { config, clock, log, running } = this.deps;
    const offer = decodeUpdateOffer(payload);
    if (typeof offer === 'string') {
      log.warn({ reason: offer }, 'invalid update offer ignored');
      return;
    }
    const p = (this.pointer = await readPointer(config.stateDir));
    if (p.lastSeq !== undefined && offer.seq <= p.lastSeq) return; // the retained offer again
    if (p.trial) return; // a trial is running: it settles first
    const v = offer.manifest.version;
    const base = { version: v, from: running, seq: offer.seq };
    if (v === running) {
      await this.remember(offer.seq);
      this.deps.report({ ...base, state: 'applied', reason: 'already running' });
      return;
    }
    if (offer.until !== null && clock.now() > offer.until) {
      log.info({ version: v, until: new Date(offer.until).toISOString() }, 'update offer outside its window (working hours): waiting for a new offer');
      return;
    }
    const refuse = async (reason: string) => {
      log.warn({ version: v, seq: offer.seq, reason }, 'agent update refused');
      await this.remember(offer.seq);
      this.deps.report({ ...base, state: 'refused', reason });
    };
    if (!config.update.enabled) return refuse('updates are disabled on this PC (update.enabled: false)');
    if (offer.manifest.platform !== 'any' && offer.manifest.platform !== PLATFORM) return refuse(`the package is for ${offer.manifest.platform}, this PC runs ${PLATFORM}`);
    const key = this.pinnedKey();
    if (typeof key === 'string') return refuse(key);
    if (!verifyManifest(offer.manifest, offer.signature, key)) return refuse('bad signature: not signed by the release key pinned on this PC');
    if (offer.manifest.size > config.update.maxBytes) return refuse(`the package is ${offer.manifest.size} bytes, more than update.maxBytes (${config.update.maxBytes})`);
    const downloadBase = config.update.url ?? config.collector;
    if (!downloadBase) return refuse('no collector address to download from (set update.url or collector)');
    // Room for the package in memory-backed temp plus its unpacked copy, and the floor.
    const need = offer.manifest.size * 4 + config.update.minFreeBytes;
    const free = await (this.deps.freeBytes ?? diskFree)(config.stateDir).catch(() => Number.POSITIVE_INFINITY);
    if (free < need) {
      if (!this.skippedSeqs.has(offer.seq)) {
        this.skippedSeqs.add(offer.seq);
        log.warn({ version: v, free, need }, 'agent update skipped: the disk is nearly full');
        this.deps.report({ ...base, state: 'skipped', reason: `disk nearly full: ${free} bytes free, ${need} needed` });
      }
      return;
    }
    this.busy = true;
    try {
      await this.apply(offer, downloadBase, base, refuse);
    } finally {
      this.busy = false;
    }
  }

  private async apply(offer: UpdateOffer, baseUrl: string, base: { version: string; from: string; seq: number }, refuse: (r: string) => Promise<void>): Promise<void> {
    const { config, clock, log } = this.deps;
    const v = offer.manifest.version;
    this.deps.report({ ...base, state: 'downloading' });
    log.info({ version: v, bytes: offer.manifest.size, bytesPerSecond: config.update.rateBytesPerSecond }, 'downloading agent update');
    let got;
    try {
      got = await download({
        url: new URL(offer.path, baseUrl.replace(/\/*$/, '/')).href,
        expectedBytes: offer.manifest.size,
        bytesPerSecond: config.update.rateBytesPerSecond,
        idleTimeoutMs: 60_000,
        clock,
        signal: this.abort.signal,
      });
    } catch (err) {
      if (this.stopped) return;
      // Not remembered: the retained offer is tried again at the next connection or start.
      log.warn({ version: v, err: (err as Error).message }, 'agent update download failed; tried again later');
      this.deps.report({ ...base, state: 'skipped', reason: `download failed: ${(err as Error).message}`.slice(0, 500) });
      return;
    }
    if (got.sha256 !== offer.manifest.sha256) return refuse(`the package's SHA-256 ${got.sha256} is not the signed one`);
    let files;
    try {
      files = await unpackTarGz(got.data, config.update.maxBytes * 4);
    } catch (err) {
      return refuse(`the package cannot be unpacked: ${(err as Error).message}`);
    }
    if (!files.some((f) => f.name === ENTRY_FILE)) return refuse(`the package has no ${ENTRY_FILE}`);
    // Stage beside the running version: a temporary folder, each file fsynced, renamed into place.
    const dir = versionsDir(config.stateDir);
    const tmp = join(dir, `.staging-${v}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    for (const f of files) {
      const fh = await open(join(tmp, f.name), 'w', 0o600);
      try {
        await fh.writeFile(f.data);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    const target = versionDir(config.stateDir, v);
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    this.deps.report({ ...base, state: 'staged' });
    if (this.stopped) return;
    // The switch: one atomic rename of the pointer, with a trial the launcher enforces.
    const cur = await readPointer(config.stateDir);
    const running = launchedByLauncher() ? this.deps.running : null;
    const next: VersionPointer = { version: v, previous: running, lastSeq: offer.seq, trial: { version: v, seq: offer.seq, starts: 0, at: clock.now() } };
    await writePointer(config.stateDir, { ...next, report: cur.report });
    this.pointer = next;
    log.info({ version: v, from: this.deps.running }, 'agent update staged and switched; restarting into it');
    this.deps.restart();
  }

  private async remember(seq: number): Promise<void> {
    const cur = await readPointer(this.deps.config.stateDir);
    this.pointer = { ...cur, lastSeq: seq };
    await writePointer(this.deps.config.stateDir, this.pointer);
  }

  /** The pinned public key (`update.publicKey`, or the file `update.publicKeyFile`), or why there is none. */
  private pinnedKey(): Buffer | string {
    const u = this.deps.config.update;
    let b64 = u.publicKey;
    if (b64 === undefined && u.publicKeyFile !== undefined) {
      try {
        b64 = readFileSync(u.publicKeyFile, 'utf8').trim();
      } catch (err) {
        return `cannot read update.publicKeyFile: ${(err as Error).message}`;
      }
    }
    if (b64 === undefined) return 'no release key pinned on this PC (update.publicKey)';
    const key = decodePublicKey(b64);
    return typeof key === 'string' ? `update.publicKey: ${key}` : key;
  }

  /** Keep the running version and the one to go back to; other staged versions are removed. */
  private async prune(p: VersionPointer): Promise<void> {
    const keep = new Set([p.version, p.previous].filter((x): x is string => x !== null));
    let names: string[];
    try {
      names = await readdir(versionsDir(this.deps.config.stateDir));
    } catch {
      return;
    }
    for (const n of names) {
      if (n === 'current.json' || n.endsWith('.tmp') || keep.has(n)) continue;
      await rm(join(versionsDir(this.deps.config.stateDir), n), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function diskFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}
