import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readJsonFile } from '../../common/atomic-file.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { newestSlotText, readSlotFile, SlotFile } from '../../common/slot-file.js';

/** The heartbeat file in the state dir: the record's JSON in two slots written in place, in turn (common/slot-file.ts). */
export const HEARTBEAT_FILE = 'heartbeat.slots';
/** The whole-file JSON heartbeat of earlier versions (write + rename each beat): read once after an upgrade, then removed. */
export const LEGACY_HEARTBEAT_FILE = 'heartbeat.json';

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

/** A slot's text → its record; null when not JSON or foreign. */
function parseHeartbeatText(text: string | null): HeartbeatRecord | null {
  if (text === null) return null;
  try {
    return parseHeartbeat(JSON.parse(text));
  } catch {
    return null;
  }
}

/** The newest valid heartbeat of a heartbeat file's bytes; null when neither slot is valid. */
export function parseHeartbeatSlots(buf: Buffer): HeartbeatRecord | null {
  return parseHeartbeatText(newestSlotText(buf));
}

/** The last heartbeat of the previous run: the slots file, else (first start after an upgrade) the legacy JSON file. */
export async function readHeartbeat(stateDir: string): Promise<HeartbeatRecord | null> {
  return parseHeartbeatText(await readSlotFile(join(stateDir, HEARTBEAT_FILE))) ?? parseHeartbeat(await readJsonFile(join(stateDir, LEGACY_HEARTBEAT_FILE)));
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
 * Persists "the agent was alive at t" every period (issue 3), cheaply: the file is opened
 * once and each beat overwrites the older of its two slots in place, then fdatasyncs it when
 * `fsync` is on, so a power cut leaves at most one period of doubt (common/slot-file.ts: no
 * temporary file, rename or directory fsync per beat; a torn slot fails its CRC and the other,
 * one period older, is read). A beat still being written when the next is due is skipped, not
 * queued.
 *
 * The next beat is due one period after the latest one, whoever asked for it: the agent
 * beats from the sampler's tick (agent.ts), in the event-loop turn the sample wakes for
 * anyway, and the heartbeat's own timer, moved on at every beat, only fires when no tick
 * came for a whole period (the sampler stopped or late). A timer of its own at another
 * phase cost a wake-up of the agent per beat, one per sample at the default period.
 */
export class Heartbeat {
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private readonly file: SlotFile;
  private readonly errLog: RateLimitedLog;
  private written = 0;
  /** Between start() and stop(): beats arm the next one. */
  private started = false;
  /** Monotonic time of the latest beat (written or skipped while one was being written). */
  private lastBeatAt = -Infinity;

  constructor(private readonly opts: HeartbeatOptions) {
    this.file = new SlotFile(join(opts.stateDir, HEARTBEAT_FILE), { fsync: opts.fsync });
    this.errLog = new RateLimitedLog(opts.log, 10 * 60_000, () => opts.clock.now());
  }

  /** Beats now and then at least every period (the previous run's heartbeat has been read by then). */
  async start(): Promise<void> {
    this.started = true;
    await this.beat();
    await rm(join(this.opts.stateDir, LEGACY_HEARTBEAT_FILE), { force: true }).catch(() => undefined);
  }

  /**
   * Write one heartbeat now (skipped while the previous write is still running) and move the
   * heartbeat's own next beat to one period from now.
   */
  beat(): Promise<void> {
    this.lastBeatAt = this.opts.clock.monotonic();
    if (this.started) {
      this.opts.clock.clear(this.timer);
      this.timer = this.opts.clock.setTimeout(() => void this.beat(), this.opts.periodMs);
    }
    if (this.writing) return this.writing;
    const rec: HeartbeatRecord = { v: 1, ...this.opts.identity, t: this.opts.clock.now(), periodMs: this.opts.periodMs };
    this.writing = this.file
      .write(JSON.stringify(rec))
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

  /**
   * A beat from outside (the sampler's tick), between start() and stop() only; see the class
   * comment. Skipped when the latest beat is less than half a period old: ticks more frequent
   * than the period (a sampling interval shortened live, remote-config.ts) do not add writes.
   */
  tick(): void {
    if (this.started && this.opts.clock.monotonic() - this.lastBeatAt >= this.opts.periodMs / 2) void this.beat();
  }

  /** Number of heartbeats written (for tests and stats). */
  count(): number {
    return this.written;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    await this.writing;
    this.file.close();
  }
}
