import { closeSync, fchmodSync, fdatasync, openSync, writeSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import { fsyncDir, readJsonFile } from '../../common/atomic-file.js';
import { crc32 } from '../../common/durable-log/frame.js';

const fdatasyncAsync = promisify(fdatasync);

/**
 * The heartbeat file in the state dir: two slots written in place, alternately (see
 * {@link Heartbeat}). Each slot is `<record JSON> <CRC-32 of the JSON, 8 hex>\n`, padded with
 * spaces to {@link SLOT_BYTES}; slot 0 at offset 0, slot 1 at {@link SLOT_STRIDE}.
 */
export const HEARTBEAT_FILE = 'heartbeat.slots';
/** The whole-file JSON heartbeat of earlier versions (write + rename each beat): read once after an upgrade, then removed. */
export const LEGACY_HEARTBEAT_FILE = 'heartbeat.json';
/** Room for one record (a record is ~150 bytes). */
export const SLOT_BYTES = 512;
/** Slots a page apart: a torn write of one (power cut mid-write) never touches the other's disk sector. */
export const SLOT_STRIDE = 4096;

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

/** One slot's bytes → its record; null when empty, torn (CRC mismatch) or foreign. */
export function parseHeartbeatSlot(bytes: Buffer): HeartbeatRecord | null {
  const nl = bytes.indexOf(0x0a);
  if (nl < 10) return null;
  const line = bytes.subarray(0, nl);
  const sp = line.lastIndexOf(0x20);
  if (sp < 1 || line.length - sp - 1 !== 8) return null;
  const json = line.subarray(0, sp);
  if (line.subarray(sp + 1).toString('latin1') !== crcHex(json)) return null;
  try {
    return parseHeartbeat(JSON.parse(json.toString('utf8')));
  } catch {
    return null;
  }
}

/** The newest valid slot of a heartbeat file's bytes; null when neither slot is valid. */
export function parseHeartbeatSlots(buf: Buffer): HeartbeatRecord | null {
  let best: HeartbeatRecord | null = null;
  for (let off = 0; off < buf.length && off <= SLOT_STRIDE; off += SLOT_STRIDE) {
    const r = parseHeartbeatSlot(buf.subarray(off, off + SLOT_BYTES));
    if (r && (!best || r.t > best.t)) best = r;
  }
  return best;
}

/** The last heartbeat of the previous run: the slots file, else (first start after an upgrade) the legacy JSON file. */
export async function readHeartbeat(stateDir: string): Promise<HeartbeatRecord | null> {
  let buf: Buffer | undefined;
  try {
    buf = await readFile(join(stateDir, HEARTBEAT_FILE));
  } catch {
    // none yet
  }
  return (buf && parseHeartbeatSlots(buf)) ?? parseHeartbeat(await readJsonFile(join(stateDir, LEGACY_HEARTBEAT_FILE)));
}

function crcHex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** One slot's bytes for `rec` (throws if the record does not fit: it always does, its strings are bounded). */
export function encodeHeartbeatSlot(rec: HeartbeatRecord): Buffer {
  const json = Buffer.from(JSON.stringify(rec), 'utf8');
  if (json.length + 10 > SLOT_BYTES) throw new RangeError(`heartbeat record of ${json.length} bytes does not fit a slot`);
  const slot = Buffer.alloc(SLOT_BYTES, 0x20);
  json.copy(slot, 0);
  slot.write(crcHex(json), json.length + 1, 'latin1');
  slot[json.length + 9] = 0x0a;
  return slot;
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
 * once and each beat overwrites one of its two slots in place (one pwrite, then one fdatasync
 * when `fsync` is on, so a power cut leaves at most one period of doubt). No temporary file,
 * rename or directory fsync per beat: an overwrite that does not grow the file changes no
 * metadata, so fdatasync flushes one data block and no journal commit. A beat torn by a
 * power cut fails its CRC and the other slot, one period older, is read instead. A beat
 * still being written when the next is due is skipped, not queued.
 */
export class Heartbeat {
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private readonly path: string;
  private readonly errLog: RateLimitedLog;
  private written = 0;
  private fd: number | undefined;
  /** The slot the next beat overwrites (the older one). */
  private slot = 0;
  private dirSynced = false;

  constructor(private readonly opts: HeartbeatOptions) {
    this.path = join(opts.stateDir, HEARTBEAT_FILE);
    this.errLog = new RateLimitedLog(opts.log, 10 * 60_000, () => opts.clock.now());
  }

  /** Starts a new file (the previous run's heartbeat has been read by then) and beats every period. */
  async start(): Promise<void> {
    await rm(join(this.opts.stateDir, LEGACY_HEARTBEAT_FILE), { force: true }).catch(() => undefined);
    await this.beat();
    this.timer = this.opts.clock.setInterval(() => void this.beat(), this.opts.periodMs);
  }

  private open(): number {
    // Private to the agent's user (the state directory is too: private-files.ts); 'w' keeps an old file's mode.
    const fd = openSync(this.path, 'w', 0o600);
    try {
      if (process.platform !== 'win32') fchmodSync(fd, 0o600);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.slot = 0;
    this.dirSynced = false;
    return fd;
  }

  /** Write one heartbeat now (skipped while the previous write is still running). */
  beat(): Promise<void> {
    if (this.writing) return this.writing;
    const rec: HeartbeatRecord = { v: 1, ...this.opts.identity, t: this.opts.clock.now(), periodMs: this.opts.periodMs };
    this.writing = this.write(rec)
      .then(() => {
        this.written++;
      })
      .catch((err: unknown) => {
        this.errLog.warn('heartbeat', { err: (err as Error).message }, 'heartbeat not written; an outage start would be less precise');
        // Opened afresh at the next beat (the file may have been removed under us).
        this.closeFile();
      })
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }

  private async write(rec: HeartbeatRecord): Promise<void> {
    const fd = (this.fd ??= this.open());
    const slot = encodeHeartbeatSlot(rec);
    // A page-cache write of 512 bytes: synchronous, as common/atomic-file.ts argues.
    for (let off = 0; off < slot.length;) off += writeSync(fd, slot, off, slot.length - off, this.slot * SLOT_STRIDE + off);
    this.slot ^= 1;
    if (!this.opts.fsync) return;
    await fdatasyncAsync(fd);
    if (!this.dirSynced) {
      // The file's creation, once.
      await fsyncDir(this.opts.stateDir);
      this.dirSynced = true;
    }
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing more to write through it
    }
    this.fd = undefined;
  }

  /** Number of heartbeats written (for tests and stats). */
  count(): number {
    return this.written;
  }

  async stop(): Promise<void> {
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    await this.writing;
    this.closeFile();
  }
}
