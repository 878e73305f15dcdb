/**
 * A bounded, crash-safe, append-only message log with out-of-order acknowledgement: the
 * agent's outbox (every sample, event and inventory is appended here BEFORE it is published
 * over MQTT QoS 1, so nothing is lost to `kill -9`, a crash, a power cut or a week-long WAN
 * outage) and the collector's InfluxDB spool. The consumer replays unacknowledged records in
 * order and sends live ones at once; the log only gives it the primitives
 * ({@link DurableLog.append}, {@link DurableLog.read}, {@link DurableLog.ack}).
 *
 * Its parts: frame.ts (the record frame and its CRC), segment-index.ts (the segment files,
 * their scan at open and the in-memory index), ack-cursor.ts (the acknowledgement cursor
 * and its atomically replaced file). This file appends, rolls, bounds and reads.
 *
 * Why this file is ~580 lines: append, roll, bound, read, ack and close share one promise
 * queue and one lifecycle state, and their ordering is the crash-safety argument below;
 * split across files, that argument would no longer be readable in one place.
 *
 * ## Durability and the fsync policy
 * - `always` (the agent's default): `fdatasync` after every append, before the promise
 *   resolves. The agent appends one sample per 15 s interval (plus the odd event or daily
 *   inventory), so this is one flush every 15 s, negligible even on the old HDDs of commune
 *   offices, and a record whose append resolved survives a power cut, not just `kill -9`.
 * - `interval`: at most one `fdatasync` every `fsyncIntervalMs`, armed by the first append
 *   after a flush (a clock timer; nothing runs while idle). A power cut may lose the last
 *   interval.
 * - `never`: left to the OS page cache; survives `kill -9`, not a power cut.
 * Writes are sequential appends of one small frame at an explicit offset; a failed write
 * is truncated away, and the next write at the same offset would overwrite any remnant.
 * A segment rolls when the next frame would take it past `segmentBytes`.
 *
 * ## Open
 * Segments are scanned (segment-index.ts); segments left empty are deleted, and so are
 * fully acknowledged non-active segments (left behind by a crash between the cursor write
 * and the delete).
 *
 * ## Acknowledgements
 * See ack-cursor.ts. The cursor is persisted at most once per second (clock timer) and at
 * close. Whole segments whose records are all <= the persisted cursor are deleted (never
 * the active one).
 *
 * ## Bound and overflow
 * After each append, while the segment bytes exceed `maxBytes`, the oldest segment is
 * deleted even if it holds unacknowledged records. Those are counted (`droppedRecords`,
 * `droppedBytes` = frame bytes of the dropped unacked records), logged as a warn with the
 * counts only (never payloads), reported to `onOverflow`, and the cursor jumps past them.
 * The active segment is never deleted, so with `segmentBytes <= maxBytes` the bytes on
 * disk never exceed `maxBytes` once an append has resolved (at most `maxBytes` + one
 * frame while it runs).
 *
 * ## Ids
 * Ids start at 0, are strictly increasing across restarts and never reused while their
 * record is on disk or covered by the cursor: at open, nextId = max(last id on disk + 1,
 * ackedThrough + 1, name of any segment found empty). An id whose record was destroyed
 * (a cut torn or corrupt tail) may be issued again; nothing outside this process keys on
 * log ids (the wire uses boot+seq), and new ids are always above the durable cursor.
 *
 * ## Concurrency
 * All disk work (append, read, flush, cursor persist, segment deletes, close) runs through
 * one promise queue, so concurrent appends keep call order and a read never races a
 * delete. Everything is async (fs/promises FileHandle); nothing here is synchronous I/O.
 */
import { writeSync } from 'node:fs';
import { mkdir, open as openFile, readdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { AckCursor } from './ack-cursor.js';
import { fsyncDir } from '../atomic-file.js';
import { checkFrame, decodeFrame, encodeFrame, FRAME_HEADER_BYTES, stampFrame, TWO_32 } from './frame.js';
import {
  firstIdAbove,
  frameBytes,
  hasId,
  idAt,
  lastId,
  lowerBound,
  newSegment,
  pushIndex,
  readFully,
  scanSegment,
  SEGMENT_RE,
  segmentIndexAtOrAbove,
  segmentName,
  writeFully,
  type Segment,
} from './segment-index.js';

export { FRAME_HEADER_BYTES } from './frame.js';

/** When the log calls `fdatasync` on the active segment; see the file header. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** Construction options of a {@link DurableLog}. */
export interface DurableLogOptions {
  /** Directory holding the segment files and the ack cursor (`cursor.slots`); created if missing. */
  dir: string;
  /** Bound on the bytes of all segment files; the oldest segment is dropped beyond it. Must be >= `segmentBytes`. */
  maxBytes: number;
  /** Roll to a new segment when the active one would exceed this; also the largest record (frame) accepted. */
  segmentBytes: number;
  /** Durability of appends; `always` is the agent default. */
  fsync: FsyncPolicy;
  /** Flush period for the `interval` policy. */
  fsyncIntervalMs: number;
  /** Every timer and time reading goes through this. */
  clock: Clock;
  log: Logger;
  /** Called after an append that dropped unacknowledged records to stay under `maxBytes`. */
  onOverflow?: (droppedRecords: number, droppedBytes: number) => void;
  /**
   * Write a record into the page cache synchronously (`pwrite` on the calling thread, as
   * slot-file.ts does for the heartbeat), leaving only the `fdatasync` to the thread pool: one
   * thread-pool round trip (and event-loop wake-up) per append instead of two. For the agent,
   * whose appends are one sample or event of a few KB; not for a process whose event loop
   * must never wait on a disk (the collector).
   */
  syncWrites?: boolean;
}

/** One stored message as returned by {@link DurableLog.read}. */
export interface DurableLogRecord {
  id: number;
  topic: string;
  payload: Buffer;
}

/** Counters and state of a {@link DurableLog}; cheap to call. */
export interface DurableLogStats {
  /** Bytes of all segment files (the cursor file not counted). */
  bytes: number;
  segments: number;
  /** Unacked records on disk. */
  records: number;
  /** Lowest unacked id on disk, if any. */
  firstUnacked: number | undefined;
  /** Id the next append will get. */
  nextId: number;
  /** Unacked records dropped by overflow since open. */
  droppedRecords: number;
  /** Frame bytes of those records. */
  droppedBytes: number;
  /** Torn or corrupt bytes cut from segment tails at open. */
  truncatedBytes: number;
}

/** read() reads through acked frames between wanted ones when the gap is at most this. */
const READ_GAP_BYTES = 64 * 1024;
/** Cursor persist rate limit (the brief: at most once per second). */
const PERSIST_MIN_INTERVAL_MS = 1000;

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Bounded, crash-safe, append-only message log with out-of-order acknowledgement.
 * Lifecycle: `new DurableLog(opts)`, `await open()`, then append/read/ack, then `await close()`.
 * See the file header for the guarantees.
 */
export class DurableLog {
  private readonly opts: DurableLogOptions;
  private readonly cursor: AckCursor;
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private segments: Segment[] = [];
  private activeHandle: FileHandle | undefined;
  private totalBytes = 0;
  private nextId = 0;
  private droppedRecords = 0;
  private droppedBytes = 0;
  private truncatedBytes = 0;
  /** Active segment written since its last fdatasync (`interval` policy). */
  private dirty = false;
  private syncTimer: TimerHandle | undefined;
  private persistTimer: TimerHandle | undefined;
  private lastPersistAt = -Infinity;
  private queue: Promise<void> = Promise.resolve();
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  /** Only stores the options; call {@link DurableLog.open} before use. */
  constructor(opts: DurableLogOptions) {
    this.opts = opts;
    this.cursor = new AckCursor(opts.dir, { fsync: opts.fsync !== 'never', log: opts.log });
  }

  /**
   * Creates the directory, loads the cursor, scans and validates every segment (cutting
   * torn or corrupt tails) and builds the in-memory index. Call once.
   * @throws RangeError on inconsistent options.
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error('outbox: open() may be called once');
    const { segmentBytes, maxBytes, fsync, fsyncIntervalMs } = this.opts;
    if (!Number.isInteger(segmentBytes) || segmentBytes <= FRAME_HEADER_BYTES || segmentBytes >= TWO_32) {
      throw new RangeError(`outbox: segmentBytes must be an integer in (${FRAME_HEADER_BYTES}, 2^32)`);
    }
    if (!(maxBytes >= segmentBytes)) throw new RangeError('outbox: maxBytes must be >= segmentBytes');
    if (fsync === 'interval' && !(fsyncIntervalMs > 0)) {
      throw new RangeError('outbox: fsyncIntervalMs must be > 0 for the interval policy');
    }
    this.state = 'opening';
    this.opening = (async () => {
      try {
        await this.load();
        this.state = 'open';
      } catch (err) {
        this.state = 'closed';
        await this.activeHandle?.close().catch(() => undefined);
        this.activeHandle = undefined;
        throw err;
      }
    })();
    return this.opening;
  }

  /**
   * Appends one record and returns its id. Calls are serialised in call order. When the
   * promise resolves the record is on disk (fdatasynced under the `always` policy).
   * The payload is copied before this returns, so the caller may reuse its buffer.
   * @throws RangeError if the frame would be larger than `segmentBytes` or the topic longer than 65,535 bytes.
   */
  async append(topic: string, payload: Buffer): Promise<number> {
    this.assertUsable();
    const frame = encodeFrame(topic, payload, this.opts.segmentBytes);
    return this.enqueue(() => this.doAppend(frame));
  }

  /**
   * Up to `maxRecords` unacked records with id >= `fromId`, in id order, read from disk
   * (one positioned read per contiguous run). Records acked so far are skipped.
   * `maxBytes` bounds the sum of topic + payload bytes, but at least one record is
   * returned when there is one (else a record larger than the budget would stall replay).
   */
  async read(fromId: number, maxRecords: number, maxBytes = Infinity): Promise<DurableLogRecord[]> {
    this.assertUsable();
    if (!(maxRecords >= 1)) return [];
    return this.enqueue(() => this.doRead(fromId, maxRecords, maxBytes));
  }

  /**
   * Marks a record acknowledged (any order). Advances the cursor over contiguous acks,
   * schedules the cursor persist (at most once per second) and the deletion of fully acked
   * segments. Unknown, dropped or already acked ids are ignored.
   */
  ack(id: number): void {
    if (this.state !== 'open' && this.state !== 'closing') return;
    if (!Number.isSafeInteger(id) || this.cursor.isAcked(id)) return;
    if (!hasId(this.segments, id)) return;
    this.cursor.add(id);
    if (this.advanceCursor()) this.schedulePersist();
  }

  /** Whether `id` is acked (ids at or below the cursor count as acked, including dropped ones). */
  isAcked(id: number): boolean {
    return this.cursor.isAcked(id);
  }

  /** Current counters; see {@link DurableLogStats}. */
  stats(): DurableLogStats {
    const through = this.cursor.through;
    let above = 0;
    for (const seg of this.segments) above += seg.count - lowerBound(seg, through + 1);
    return {
      bytes: this.totalBytes,
      segments: this.segments.length,
      records: above - this.cursor.pendingAbove,
      // Invariant kept by advanceCursor(): the first record above the cursor is unacked.
      firstUnacked: firstIdAbove(this.segments, through),
      nextId: this.nextId,
      droppedRecords: this.droppedRecords,
      droppedBytes: this.droppedBytes,
      truncatedBytes: this.truncatedBytes,
    };
  }
  /**
   * Waits for queued work, fsyncs the active segment, persists the cursor, deletes fully
   * acked segments and closes the file. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'closed';
      return;
    }
    if (this.state === 'opening') await this.opening?.catch(() => undefined);
    if (this.closing) return this.closing;
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.opts.clock.clear(this.syncTimer);
    this.opts.clock.clear(this.persistTimer);
    this.syncTimer = undefined;
    this.persistTimer = undefined;
    this.closing = this.enqueue(async () => {
      let failure: unknown;
      const fh = this.activeHandle;
      if (fh) {
        try {
          await fh.datasync();
          this.dirty = false;
        } catch (err) {
          failure = err;
        }
      }
      try {
        await this.persistAndPrune();
      } catch (err) {
        failure ??= err;
      }
      this.cursor.close();
      this.activeHandle = undefined;
      if (fh) {
        try {
          await fh.close();
        } catch (err) {
          failure ??= err;
        }
      }
      this.state = 'closed';
      if (failure !== undefined) throw failure;
    });
    return this.closing;
  }

  // ---------------------------------------------------------------- internals

  private assertUsable(): void {
    if (this.state !== 'open') throw new Error(`outbox: not open (${this.state})`);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async load(): Promise<void> {
    const { dir, log } = this.opts;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.cursor.load();

    const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    let prevLast = -1;
    let nextIdFloor = this.cursor.through + 1;
    for (const name of names) {
      const { seg, cutBytes } = await scanSegment(dir, name, prevLast, { datasync: this.opts.fsync !== 'never', log });
      this.truncatedBytes += cutBytes;
      if (seg.count === 0) {
        // A roll that crashed before its first frame, or a segment whose first frame was bad.
        nextIdFloor = Math.max(nextIdFloor, seg.nameId);
        await unlink(seg.path).catch((err: unknown) => log.warn({ err, segment: name }, 'outbox: cannot delete empty segment'));
        continue;
      }
      prevLast = lastId(seg);
      this.segments.push(seg);
      this.totalBytes += seg.size;
    }
    this.nextId = Math.max(nextIdFloor, prevLast + 1);

    // Fully acked leftovers (a crash between cursor write and delete).
    while (this.segments.length > 1 && lastId(this.segments[0]!) <= this.cursor.through) {
      const seg = this.segments[0]!;
      try {
        await unlink(seg.path);
      } catch (err) {
        // e.g. Windows: held open by an antivirus scanner. Retried at the next prune.
        log.warn({ err, segment: seg.path }, 'outbox: cannot delete acked segment');
        break;
      }
      this.segments.shift();
      this.totalBytes -= seg.size;
    }
    const active = this.segments[this.segments.length - 1];
    if (active) this.activeHandle = await openFile(active.path, 'r+');
    // Records below the first one on disk are gone: let the cursor skip them.
    this.advanceCursor();

    const s = this.stats();
    log.info({ segments: s.segments, records: s.records, bytes: s.bytes, nextId: s.nextId, ackedThrough: this.cursor.through, truncatedBytes: s.truncatedBytes }, 'outbox opened');
  }

  private async doAppend(frame: Buffer): Promise<number> {
    const id = this.nextId++;
    stampFrame(frame, id);

    let seg = this.segments[this.segments.length - 1];
    if (!seg || !this.activeHandle || (seg.size > 0 && seg.size + frame.length > this.opts.segmentBytes)) {
      seg = await this.roll(id);
    }
    const fh = this.activeHandle!;
    const position = seg.size;
    try {
      if (this.opts.syncWrites) writeFullySync(fh.fd, frame, position);
      else await writeFully(fh, frame, position);
      if (this.opts.fsync === 'always') await fh.datasync();
    } catch (err) {
      // The id stays consumed (gaps are fine); cut whatever part of the frame landed.
      await fh.truncate(position).catch((e: unknown) => this.opts.log.error({ err: e }, 'outbox: truncate after failed append failed'));
      throw err;
    }
    pushIndex(seg, id, position);
    seg.size += frame.length;
    this.totalBytes += frame.length;
    if (this.opts.fsync === 'interval') this.markDirty();
    await this.enforceBound();
    return id;
  }
  /** Creates the segment for `firstId`, makes it active and closes the previous one. */
  private async roll(firstId: number): Promise<Segment> {
    const path = join(this.opts.dir, segmentName(firstId));
    // 'w+': the only file that can already have this name is an empty leftover open() could not delete.
    const fh = await openFile(path, 'w+', 0o600);
    const old = this.activeHandle;
    const seg = newSegment(firstId, path);
    this.segments.push(seg);
    this.activeHandle = fh;
    if (old) {
      try {
        if (this.opts.fsync === 'interval' && this.dirty) await old.datasync();
      } catch (err) {
        this.opts.log.warn({ err }, 'outbox: fdatasync of finished segment failed');
      }
      this.dirty = false;
      await old.close().catch((err: unknown) => this.opts.log.warn({ err }, 'outbox: closing finished segment failed'));
    }
    // Make the new directory entry durable, or a power cut could lose the whole file.
    if (this.opts.fsync !== 'never') await fsyncDir(this.opts.dir, this.opts.log);
    return seg;
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.syncTimer || this.state !== 'open') return;
    this.syncTimer = this.opts.clock.setTimeout(() => {
      this.syncTimer = undefined;
      this.enqueue(async () => {
        const fh = this.activeHandle;
        if (!this.dirty || !fh) return;
        this.dirty = false;
        try {
          await fh.datasync();
        } catch (err) {
          this.dirty = true;
          throw err;
        }
      }).catch((err: unknown) => this.opts.log.warn({ err }, 'outbox: periodic fdatasync failed'));
    }, this.opts.fsyncIntervalMs);
  }

  /** Drops oldest segments while over `maxBytes` (never the active one). */
  private async enforceBound(): Promise<void> {
    let records = 0;
    let bytes = 0;
    let segments = 0;
    while (this.totalBytes > this.opts.maxBytes && this.segments.length > 1) {
      const seg = this.segments[0]!;
      try {
        await unlink(seg.path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') {
          this.opts.log.error({ err, segment: seg.path }, 'outbox: cannot delete oldest segment; over the byte bound');
          break;
        }
      }
      this.segments.shift();
      this.totalBytes -= seg.size;
      segments++;
      for (let i = 0; i < seg.count; i++) {
        const id = idAt(seg, i);
        if (id <= this.cursor.through || this.cursor.forget(id)) continue;
        records++;
        bytes += frameBytes(seg, i);
      }
      if (seg.count > 0) this.cursor.through = Math.max(this.cursor.through, lastId(seg));
    }
    if (segments === 0) return;
    this.advanceCursor();
    this.schedulePersist();
    if (records === 0) return;
    this.droppedRecords += records;
    this.droppedBytes += bytes;
    this.opts.log.warn(
      { droppedRecords: records, droppedBytes: bytes, droppedSegments: segments, totalDroppedRecords: this.droppedRecords, maxBytes: this.opts.maxBytes },
      'outbox overflow: dropped oldest unacknowledged records',
    );
    try {
      this.opts.onOverflow?.(records, bytes);
    } catch (err) {
      this.opts.log.warn({ err }, 'outbox: onOverflow callback threw');
    }
  }

  private async doRead(fromId: number, maxRecords: number, maxBytes: number): Promise<DurableLogRecord[]> {
    const start = Math.max(Math.ceil(fromId), this.cursor.through + 1);
    type Run = { seg: Segment; start: number; end: number; frames: Array<{ id: number; offset: number; bytes: number }> };
    const runs: Run[] = [];
    let wanted = 0;
    let budget = 0;
    let s = segmentIndexAtOrAbove(this.segments, start);
    outer: for (; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      for (let i = lowerBound(seg, start); i < seg.count; i++) {
        if (wanted >= maxRecords) break outer;
        const id = idAt(seg, i);
        if (this.cursor.isAcked(id)) continue;
        const offset = seg.offsets[i]!;
        const bytes = frameBytes(seg, i);
        if (wanted > 0 && budget + bytes - FRAME_HEADER_BYTES > maxBytes) break outer;
        budget += bytes - FRAME_HEADER_BYTES;
        wanted++;
        const run = runs[runs.length - 1];
        if (run && run.seg === seg && offset - run.end <= READ_GAP_BYTES) {
          run.end = offset + bytes;
          run.frames.push({ id, offset, bytes });
        } else {
          runs.push({ seg, start: offset, end: offset + bytes, frames: [{ id, offset, bytes }] });
        }
      }
    }

    const out: DurableLogRecord[] = [];
    const bad: number[] = [];
    const active = this.segments[this.segments.length - 1];
    let fh: FileHandle | undefined;
    let fhSeg: Segment | undefined;
    try {
      for (const run of runs) {
        if (fhSeg !== run.seg) {
          if (fh && fh !== this.activeHandle) await fh.close();
          fh = run.seg === active && this.activeHandle ? this.activeHandle : await openFile(run.seg.path, 'r');
          fhSeg = run.seg;
        }
        const buf = Buffer.allocUnsafe(run.end - run.start);
        await readFully(fh!, buf, run.start);
        for (const f of run.frames) {
          const o = f.offset - run.start;
          const check = checkFrame(buf, o, f.id - 1);
          if (!check.ok || check.id !== f.id || check.bytes !== f.bytes) {
            bad.push(f.id);
            continue;
          }
          out.push({ id: f.id, ...decodeFrame(buf, o, f.bytes) });
        }
      }
    } finally {
      if (fh && fh !== this.activeHandle) await fh.close();
    }
    if (bad.length > 0) {
      // Rotted after open (failing disk). Skip and ack them so they cannot stall the cursor.
      this.opts.log.error({ ids: bad.slice(0, 20), count: bad.length }, 'outbox: records failed validation on read; skipped');
      for (const id of bad) this.ack(id);
    }
    return out;
  }

  /** {@link AckCursor.advance} over the records on disk. */
  private advanceCursor(): boolean {
    return this.cursor.advance((id) => firstIdAbove(this.segments, id));
  }

  private schedulePersist(): void {
    if (this.persistTimer || this.state !== 'open' || this.cursor.through === this.cursor.persisted) return;
    const { clock } = this.opts;
    const delay = Math.max(0, this.lastPersistAt + PERSIST_MIN_INTERVAL_MS - clock.monotonic());
    const run = () => {
      this.persistTimer = undefined;
      this.enqueue(() => this.persistAndPrune()).catch((err: unknown) => {
        this.opts.log.warn({ err }, 'outbox: cursor persist failed; will retry');
        this.schedulePersist();
      });
    };
    // Due now: in this event-loop turn, not after a 1 ms timer sleep (a wake-up per ack).
    this.persistTimer = delay <= 0 && clock.soon ? clock.soon(run) : clock.setTimeout(run, delay);
  }

  /** Writes the cursor atomically if it moved, then deletes segments it fully covers. */
  private async persistAndPrune(): Promise<void> {
    if (this.cursor.through !== this.cursor.persisted) {
      this.lastPersistAt = this.opts.clock.monotonic();
      await this.cursor.persist();
    }
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.count > 0 && lastId(seg) > this.cursor.persisted) break;
      try {
        await unlink(seg.path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
      this.segments.shift();
      this.totalBytes -= seg.size;
    }
  }
}

/** {@link writeFully}, on the calling thread. */
function writeFullySync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}
