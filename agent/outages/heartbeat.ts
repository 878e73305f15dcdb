import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';

/** The heartbeat file in the state dir. */
export const HEARTBEAT_FILE = 'heartbeat.json';

/** What the heartbeat file holds: enough to judge, at the next start, how this run ended. */
export interface HeartbeatRecord {
  v: 1;
  /** Agent run id (the envelope's `boot`). */
  run: string;
  /** Wall clock when written, epoch ms. */
  t: number;
  /** OS boot time of this run, epoch ms, when known. */
  osBoot: number | null;
  /** OS boot id of this run (Linux boot_id), when known. */
  osBootId: string | null;
  /** Heartbeat period, ms: how stale `t` may be when the run ended. */
  periodMs: number;
}

/** A heartbeat file's JSON → record; null when absent, torn or foreign. */
export function parseHeartbeat(x: unknown): HeartbeatRecord | null {
  if (!x || typeof x !== 'object') return null;
  const r = x as Record<string, unknown>;
  if (r.v !== 1 || typeof r.run !== 'string' || !Number.isFinite(r.t) || !Number.isFinite(r.periodMs)) return null;
  return {
    v: 1,
    run: r.run,
    t: r.t as number,
    osBoot: Number.isFinite(r.osBoot) ? (r.osBoot as number) : null,
    osBootId: typeof r.osBootId === 'string' ? r.osBootId : null,
    periodMs: r.periodMs as number,
  };
}

export async function readHeartbeat(stateDir: string): Promise<HeartbeatRecord | null> {
  return parseHeartbeat(await readJsonFile(join(stateDir, HEARTBEAT_FILE)));
}

export interface HeartbeatOptions {
  stateDir: string;
  clock: Clock;
  log: Logger;
  periodMs: number;
  fsync: boolean;
  identity: { run: string; osBoot: number | null; osBootId: string | null };
}

/**
 * Persists "the agent was alive at t" every period (issue 3), cheaply (one small file, one
 * rename; fsync by default so a power cut leaves at most one period of doubt) and atomically
 * (write + rename). A beat still being written when the next is due is skipped, not queued.
 */
export class Heartbeat {
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private readonly path: string;
  private readonly errLog: RateLimitedLog;
  private written = 0;

  constructor(private readonly opts: HeartbeatOptions) {
    this.path = join(opts.stateDir, HEARTBEAT_FILE);
    this.errLog = new RateLimitedLog(opts.log, 10 * 60_000, () => opts.clock.now());
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = this.opts.clock.setInterval(() => void this.beat(), this.opts.periodMs);
  }

  /** Write one heartbeat now (skipped while the previous write is still running). */
  beat(): Promise<void> {
    if (this.writing) return this.writing;
    const rec: HeartbeatRecord = { v: 1, ...this.opts.identity, t: this.opts.clock.now(), periodMs: this.opts.periodMs };
    this.writing = writeFileAtomic(this.path, JSON.stringify(rec), { fsync: this.opts.fsync })
      .then(() => {
        this.written++;
      })
      .catch((err: unknown) => {
        this.errLog.warn('heartbeat', { err: (err as Error).message }, 'heartbeat not written; an outage start would be less precise');
      })
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }

  /** Number of heartbeats written (for tests and stats). */
  count(): number {
    return this.written;
  }

  async stop(): Promise<void> {
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    await this.writing;
  }
}
