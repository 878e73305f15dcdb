/**
 * The agent's on-disk outbox: every message (sample, event, inventory) is appended here
 * BEFORE it is published over MQTT (QoS 1), so nothing is lost to `kill -9`, a crash,
 * a power cut or a week-long WAN outage. The publisher replays unacknowledged records in
 * order after a reconnect and sends live ones at once; the outbox only gives it the
 * primitives ({@link Outbox.append}, {@link Outbox.read}, {@link Outbox.ack}).
 *
 * ## Files in `dir`
 * - `<firstId, 16 digits zero-padded>.seg`: append-only segment files. The name is the id
 *   of the record the segment was created for, so lexical order is id order. Only the last
 *   (active) segment is ever written; a segment rolls when the next frame would take it
 *   past `segmentBytes`.
 * - `cursor.json`: `{ "ackedThrough": n }`, every id <= n is acknowledged (or gone). Written
 *   to `cursor.json.tmp`, fsynced, renamed over, then the directory is fsynced (skipped on
 *   Windows, where a directory cannot be opened for fsync).
 *
 * ## Frame layout (all integers little-endian)
 * ```
 * offset  size  field
 *      0     4  bodyLength  u32: bytes after this 8-byte prefix (= 10 + topicLength + payload bytes)
 *      4     4  crc32       u32: CRC-32 (IEEE / zlib) of the body, i.e. bytes [8, 8 + bodyLength)
 *      8     8  id          u64 (written as two u32, low word first; ids stay below 2^53)
 *     16     2  topicLength u16: UTF-8 bytes of the topic
 *     18     t  topic       UTF-8
 *   18+t     p  payload     opaque bytes
 * ```
 * The CRC covers the id, so a flipped bit in the id is caught too. A frame is valid when
 * its length fits the file, the CRC matches, the topic fits the body and the id is greater
 * than every id before it (ids are strictly increasing through all segments). A zero-filled
 * tail (what some filesystems leave after a power cut) fails the length check. A future
 * incompatible format would use a new file extension rather than a version field.
 *
 * ## Recovery (open)
 * Each segment is scanned sequentially in 1 MiB chunks and every frame is validated. At the
 * first torn or corrupt frame the segment is truncated there (`truncatedBytes`, one warn
 * line per segment); later frames of THAT segment are lost (we do not try to resynchronise
 * on a byte stream we no longer trust), later segments are kept. Segments left empty are
 * deleted. Fully acknowledged non-active segments (left behind by a crash between the
 * cursor write and the delete) are deleted.
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
 *
 * ## Acknowledgements and at-least-once delivery
 * Acks arrive out of order. The in-memory cursor is the highest id such that every id <=
 * it is acked or no longer on disk; acks above it sit in a set until the gap closes. The
 * cursor is persisted at most once per second (clock timer) and at close; only the cursor
 * is durable, not the set. So after a crash or restart, records acked after the last
 * persist, and records acked out of order above the cursor, are replayed. That is
 * acceptable: delivery is at-least-once and the collector deduplicates by boot+seq.
 * Whole segments whose records are all <= the persisted cursor are deleted (never the
 * active one).
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
 * ## Memory: the in-memory index
 * `read()` must serve "the next 100 records" of a 60 MB backlog without scanning it, so
 * open() (which has to read every frame anyway to check its CRC) and append() keep, per
 * segment, the id (Float64Array) and byte offset (Uint32Array) of each frame: 12 bytes a
 * record. A read is then two binary searches plus one positioned read of the needed byte
 * range. The index is bounded by the disk bound: a week of 15 s samples (~40k records of
 * ~1.5 KB) costs ~500 KB; the pathological worst case (96 MB of empty 18-byte frames)
 * would be ~64 MB, which the agent never produces. The set of out-of-order acks only holds
 * ids of records that are on disk above the cursor, so it is bounded the same way: it can
 * legitimately reach 100k+ entries (a long backlog being replayed while live records are
 * acked ahead of it) and is kept in full, because dropping entries would only cause
 * duplicate sends, and shrinks as the cursor advances or overflow drops segments.
 *
 * ## Ids
 * Ids start at 0, are strictly increasing across restarts and never reused while their
 * record is on disk or covered by the cursor: at open, nextId = max(last id on disk + 1,
 * ackedThrough + 1, name of any segment found empty). An id whose record was destroyed
 * (a cut torn or corrupt tail) may be issued again; nothing outside this process keys on
 * outbox ids (the wire uses boot+seq), and new ids are always above the durable cursor.
 *
 * ## Concurrency
 * All disk work (append, read, flush, cursor persist, segment deletes, close) runs through
 * one promise queue, so concurrent appends keep call order and a read never races a
 * delete. Everything is async (fs/promises FileHandle); nothing here is synchronous I/O.
 */
import { mkdir, open as openFile, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';

/** When the outbox calls `fdatasync` on the active segment; see the file header. */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** Construction options of an {@link Outbox}. */
export interface OutboxOptions {
  /** Directory holding the segment files and `cursor.json`; created if missing. */
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
}

/** One stored message as returned by {@link Outbox.read}. */
export interface OutboxRecord {
  id: number;
  topic: string;
  payload: Buffer;
}

/** Counters and state of an {@link Outbox}; cheap to call. */
export interface OutboxStats {
  /** Bytes of all segment files (`cursor.json` not counted). */
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

/** Frame header: bodyLength u32, crc32 u32, id u64, topicLength u16. */
const HEADER_BYTES = 18;
/** The length/crc prefix that `bodyLength` does not count. */
const PREFIX_BYTES = 8;
const MIN_BODY_BYTES = HEADER_BYTES - PREFIX_BYTES;
const TWO_32 = 2 ** 32;
/** Largest id we store; ids are JS numbers. */
const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Read size when scanning segments at open. */
const SCAN_CHUNK_BYTES = 1024 * 1024;
/** read() reads through acked frames between wanted ones when the gap is at most this. */
const READ_GAP_BYTES = 64 * 1024;
/** Cursor persist rate limit (the brief: at most once per second). */
const PERSIST_MIN_INTERVAL_MS = 1000;
const CURSOR_FILE = 'cursor.json';
const CURSOR_TMP_FILE = 'cursor.json.tmp';
const SEGMENT_RE = /^(\d{16})\.seg$/;

let crcTable: Uint32Array | undefined;

/**
 * Table-driven CRC-32 (IEEE 802.3, as zlib), used when `zlib.crc32` is missing
 * (Node < 20.15). Exported for its test only.
 * @internal
 */
export function tableCrc32(data: Uint8Array): number {
  let table = crcTable;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    crcTable = table;
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
const crc32: (data: Uint8Array) => number =
  typeof nativeCrc32 === 'function' ? (data) => nativeCrc32(data) >>> 0 : tableCrc32;

/** In-memory index of one segment file. */
interface Segment {
  /** From the file name (the id the segment was created for). */
  readonly nameId: number;
  readonly path: string;
  /** Bytes of valid frames = file length (we truncate anything else). */
  size: number;
  count: number;
  ids: Float64Array;
  offsets: Uint32Array;
}

function segmentName(id: number): string {
  return `${String(id).padStart(16, '0')}.seg`;
}

function newSegment(nameId: number, path: string): Segment {
  return { nameId, path, size: 0, count: 0, ids: new Float64Array(64), offsets: new Uint32Array(64) };
}

function pushIndex(seg: Segment, id: number, offset: number): void {
  if (seg.count === seg.ids.length) {
    const ids = new Float64Array(seg.ids.length * 2);
    ids.set(seg.ids);
    const offsets = new Uint32Array(seg.offsets.length * 2);
    offsets.set(seg.offsets);
    seg.ids = ids;
    seg.offsets = offsets;
  }
  seg.ids[seg.count] = id;
  seg.offsets[seg.count] = offset;
  seg.count++;
}

function idAt(seg: Segment, i: number): number {
  return seg.ids[i]!;
}

function lastId(seg: Segment): number {
  return seg.ids[seg.count - 1]!;
}

/** Frame bytes of record `i` (its offset to the next frame or the end of the segment). */
function frameBytes(seg: Segment, i: number): number {
  const end = i + 1 < seg.count ? seg.offsets[i + 1]! : seg.size;
  return end - seg.offsets[i]!;
}

/** First index in `seg` whose id is >= `id` (`seg.count` if none). */
function lowerBound(seg: Segment, id: number): number {
  let lo = 0;
  let hi = seg.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idAt(seg, mid) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`outbox: unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

type FrameCheck = { ok: true; id: number; bytes: number } | { ok: false; reason: string };

/**
 * Validates the frame starting at `buf[o]`, whose body is fully inside `buf` (callers
 * check `bodyLength` against the file first). Ids must be > `afterId`.
 */
function checkFrame(buf: Buffer, o: number, afterId: number): FrameCheck {
  const bodyLength = buf.readUInt32LE(o);
  if (bodyLength < MIN_BODY_BYTES) return { ok: false, reason: 'bad length' };
  const body = buf.subarray(o + PREFIX_BYTES, o + PREFIX_BYTES + bodyLength);
  if (crc32(body) !== buf.readUInt32LE(o + 4)) return { ok: false, reason: 'crc mismatch' };
  const id = buf.readUInt32LE(o + 8) + buf.readUInt32LE(o + 12) * TWO_32;
  if (id > MAX_ID || id <= afterId) return { ok: false, reason: 'id out of order' };
  if (buf.readUInt16LE(o + 16) > bodyLength - MIN_BODY_BYTES) return { ok: false, reason: 'bad topic length' };
  return { ok: true, id, bytes: PREFIX_BYTES + bodyLength };
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Bounded, crash-safe, append-only message log with out-of-order acknowledgement.
 * Lifecycle: `new Outbox(opts)`, `await open()`, then append/read/ack, then `await close()`.
 * See the file header for the format and the guarantees.
 */
export class Outbox {
  private readonly opts: OutboxOptions;
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private segments: Segment[] = [];
  private activeHandle: FileHandle | undefined;
  private totalBytes = 0;
  private nextId = 0;
  /** Every id <= cursor is acked or gone. */
  private cursor = -1;
  private persistedCursor = -1;
  /** Acked ids > cursor; only ids of records on disk. */
  private readonly acked = new Set<number>();
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

  /** Only stores the options; call {@link Outbox.open} before use. */
  constructor(opts: OutboxOptions) {
    this.opts = opts;
  }

  /**
   * Creates the directory, loads the cursor, scans and validates every segment (cutting
   * torn or corrupt tails) and builds the in-memory index. Call once.
   * @throws RangeError on inconsistent options.
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error('outbox: open() may be called once');
    const { segmentBytes, maxBytes, fsync, fsyncIntervalMs } = this.opts;
    if (!Number.isInteger(segmentBytes) || segmentBytes <= HEADER_BYTES || segmentBytes >= TWO_32) {
      throw new RangeError(`outbox: segmentBytes must be an integer in (${HEADER_BYTES}, 2^32)`);
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
    const topicBytes = Buffer.from(topic, 'utf8');
    if (topicBytes.length > 0xffff) throw new RangeError('outbox: topic longer than 65535 bytes');
    const frameLength = HEADER_BYTES + topicBytes.length + payload.length;
    if (frameLength > this.opts.segmentBytes) {
      throw new RangeError(`outbox: record of ${frameLength} bytes exceeds segmentBytes (${this.opts.segmentBytes})`);
    }
    const frame = Buffer.allocUnsafe(frameLength);
    frame.writeUInt32LE(frameLength - PREFIX_BYTES, 0);
    frame.writeUInt16LE(topicBytes.length, 16);
    topicBytes.copy(frame, HEADER_BYTES);
    payload.copy(frame, HEADER_BYTES + topicBytes.length);
    return this.enqueue(() => this.doAppend(frame));
  }

  /**
   * Up to `maxRecords` unacked records with id >= `fromId`, in id order, read from disk
   * (one positioned read per contiguous run). Records acked so far are skipped.
   * `maxBytes` bounds the sum of topic + payload bytes, but at least one record is
   * returned when there is one (else a record larger than the budget would stall replay).
   */
  async read(fromId: number, maxRecords: number, maxBytes = Infinity): Promise<OutboxRecord[]> {
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
    if (!Number.isSafeInteger(id) || id <= this.cursor || this.acked.has(id)) return;
    if (!this.exists(id)) return;
    this.acked.add(id);
    if (this.advanceCursor()) this.schedulePersist();
  }

  /** Whether `id` is acked (ids at or below the cursor count as acked, including dropped ones). */
  isAcked(id: number): boolean {
    return id <= this.cursor || this.acked.has(id);
  }

  /** Current counters; see {@link OutboxStats}. */
  stats(): OutboxStats {
    let above = 0;
    for (const seg of this.segments) above += seg.count - lowerBound(seg, this.cursor + 1);
    return {
      bytes: this.totalBytes,
      segments: this.segments.length,
      records: above - this.acked.size,
      // Invariant kept by advanceCursor(): the first record above the cursor is unacked.
      firstUnacked: this.firstIdAbove(this.cursor),
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
    await mkdir(dir, { recursive: true });
    await rm(join(dir, CURSOR_TMP_FILE), { force: true });
    this.cursor = await this.loadCursor();
    this.persistedCursor = this.cursor;

    const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    let prevLast = -1;
    let nextIdFloor = this.cursor + 1;
    for (const name of names) {
      const seg = await this.scanSegment(name, prevLast);
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
    while (this.segments.length > 1 && lastId(this.segments[0]!) <= this.cursor) {
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
    log.info(
      { segments: s.segments, records: s.records, bytes: s.bytes, nextId: s.nextId, ackedThrough: this.cursor, truncatedBytes: s.truncatedBytes },
      'outbox opened',
    );
  }

  private async loadCursor(): Promise<number> {
    let text: string;
    try {
      text = await readFile(join(this.opts.dir, CURSOR_FILE), 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return -1;
      throw err;
    }
    try {
      const value = (JSON.parse(text) as { ackedThrough?: unknown }).ackedThrough;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= -1) return value;
    } catch {
      // fall through
    }
    // Replaying everything is the safe answer to an unreadable cursor.
    this.opts.log.warn('outbox: cursor.json unreadable; replaying all records on disk');
    return -1;
  }

  /** Validates every frame of one segment file, truncating it at the first bad one. */
  private async scanSegment(name: string, afterId: number): Promise<Segment> {
    const path = join(this.opts.dir, name);
    const seg = newSegment(Number(SEGMENT_RE.exec(name)![1]), path);
    const fh = await openFile(path, 'r+');
    try {
      const { size } = await fh.stat();
      let buf = Buffer.alloc(0);
      let bufPos = 0;
      let pos = 0;
      let last = afterId;
      let reason: string | undefined;
      while (pos < size) {
        if (size - pos < HEADER_BYTES) {
          reason = 'torn frame header';
          break;
        }
        if (pos < bufPos || pos + HEADER_BYTES > bufPos + buf.length) {
          buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, size - pos));
          await readFully(fh, buf, pos);
          bufPos = pos;
        }
        const bodyLength = buf.readUInt32LE(pos - bufPos);
        if (bodyLength < MIN_BODY_BYTES) {
          reason = 'bad length';
          break;
        }
        const frameLength = PREFIX_BYTES + bodyLength;
        if (frameLength > size - pos) {
          reason = 'torn frame';
          break;
        }
        if (pos + frameLength > bufPos + buf.length) {
          buf = Buffer.allocUnsafe(Math.min(Math.max(SCAN_CHUNK_BYTES, frameLength), size - pos));
          await readFully(fh, buf, pos);
          bufPos = pos;
        }
        const check = checkFrame(buf, pos - bufPos, last);
        if (!check.ok) {
          reason = check.reason;
          break;
        }
        pushIndex(seg, check.id, pos);
        last = check.id;
        pos += check.bytes;
      }
      seg.size = pos;
      if (pos < size) {
        await fh.truncate(pos);
        if (this.opts.fsync !== 'never') await fh.datasync();
        this.truncatedBytes += size - pos;
        this.opts.log.warn(
          { segment: name, offset: pos, cutBytes: size - pos, keptRecords: seg.count, reason },
          'outbox: cut torn or corrupt tail of segment',
        );
      }
    } finally {
      await fh.close();
    }
    return seg;
  }

  private async doAppend(frame: Buffer): Promise<number> {
    const id = this.nextId++;
    frame.writeUInt32LE(id % TWO_32, 8);
    frame.writeUInt32LE(Math.floor(id / TWO_32), 12);
    frame.writeUInt32LE(crc32(frame.subarray(PREFIX_BYTES)), 4);

    let seg = this.segments[this.segments.length - 1];
    if (!seg || !this.activeHandle || (seg.size > 0 && seg.size + frame.length > this.opts.segmentBytes)) {
      seg = await this.roll(id);
    }
    const fh = this.activeHandle!;
    const position = seg.size;
    try {
      await writeFully(fh, frame, position);
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
    const fh = await openFile(path, 'w+');
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
    if (this.opts.fsync !== 'never') await this.fsyncDir();
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
        if (id <= this.cursor || this.acked.delete(id)) continue;
        records++;
        bytes += frameBytes(seg, i);
      }
      if (seg.count > 0) this.cursor = Math.max(this.cursor, lastId(seg));
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

  private async doRead(fromId: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    const start = Math.max(Math.ceil(fromId), this.cursor + 1);
    type Run = { seg: Segment; start: number; end: number; frames: Array<{ id: number; offset: number; bytes: number }> };
    const runs: Run[] = [];
    let wanted = 0;
    let budget = 0;
    let s = this.segmentIndexAtOrAbove(start);
    outer: for (; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      for (let i = lowerBound(seg, start); i < seg.count; i++) {
        if (wanted >= maxRecords) break outer;
        const id = idAt(seg, i);
        if (this.acked.has(id)) continue;
        const offset = seg.offsets[i]!;
        const bytes = frameBytes(seg, i);
        if (wanted > 0 && budget + bytes - HEADER_BYTES > maxBytes) break outer;
        budget += bytes - HEADER_BYTES;
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

    const out: OutboxRecord[] = [];
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
          const topicLength = buf.readUInt16LE(o + 16);
          const topicEnd = o + HEADER_BYTES + topicLength;
          out.push({
            id: f.id,
            topic: buf.toString('utf8', o + HEADER_BYTES, topicEnd),
            // A copy, so a held payload does not pin the whole run buffer.
            payload: Buffer.from(buf.subarray(topicEnd, o + f.bytes)),
          });
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

  /** Index of the first segment holding a record with id >= `id` (`segments.length` if none). */
  private segmentIndexAtOrAbove(id: number): number {
    let lo = 0;
    let hi = this.segments.length;
    // Only the last segment can be empty (a roll whose first write failed); treat it as +inf.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seg = this.segments[mid]!;
      if (seg.count > 0 && lastId(seg) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Smallest id on disk that is > `id`. */
  private firstIdAbove(id: number): number | undefined {
    const s = this.segmentIndexAtOrAbove(id + 1);
    const seg = this.segments[s];
    if (!seg) return undefined;
    const i = lowerBound(seg, id + 1);
    return i < seg.count ? idAt(seg, i) : undefined;
  }

  private exists(id: number): boolean {
    const seg = this.segments[this.segmentIndexAtOrAbove(id)];
    if (!seg) return false;
    const i = lowerBound(seg, id);
    return i < seg.count && idAt(seg, i) === id;
  }

  /**
   * Moves the cursor over acked records and over ids that are not on disk, stopping
   * below the first unacked record. Returns whether it moved.
   */
  private advanceCursor(): boolean {
    const before = this.cursor;
    for (;;) {
      const next = this.firstIdAbove(this.cursor);
      if (next === undefined) break;
      if (!this.acked.has(next)) {
        this.cursor = Math.max(this.cursor, next - 1);
        break;
      }
      this.acked.delete(next);
      this.cursor = next;
    }
    return this.cursor !== before;
  }

  private schedulePersist(): void {
    if (this.persistTimer || this.state !== 'open' || this.cursor === this.persistedCursor) return;
    const { clock } = this.opts;
    const delay = Math.max(0, this.lastPersistAt + PERSIST_MIN_INTERVAL_MS - clock.monotonic());
    this.persistTimer = clock.setTimeout(() => {
      this.persistTimer = undefined;
      this.enqueue(() => this.persistAndPrune()).catch((err: unknown) => {
        this.opts.log.warn({ err }, 'outbox: cursor persist failed; will retry');
        this.schedulePersist();
      });
    }, delay);
  }

  /** Writes the cursor atomically if it moved, then deletes segments it fully covers. */
  private async persistAndPrune(): Promise<void> {
    const { dir, fsync } = this.opts;
    if (this.cursor !== this.persistedCursor) {
      this.lastPersistAt = this.opts.clock.monotonic();
      const value = this.cursor;
      const tmp = join(dir, CURSOR_TMP_FILE);
      const fh = await openFile(tmp, 'w');
      try {
        await fh.writeFile(`${JSON.stringify({ ackedThrough: value })}\n`);
        if (fsync !== 'never') await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, CURSOR_FILE));
      if (fsync !== 'never') await this.fsyncDir();
      this.persistedCursor = value;
    }
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.count > 0 && lastId(seg) > this.persistedCursor) break;
      try {
        await unlink(seg.path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
      this.segments.shift();
      this.totalBytes -= seg.size;
    }
  }

  /** fsync the directory so creates/renames survive a power cut. Not possible on Windows. */
  private async fsyncDir(): Promise<void> {
    if (process.platform === 'win32') return;
    let fh: FileHandle | undefined;
    try {
      fh = await openFile(this.opts.dir, 'r');
      await fh.sync();
    } catch (err) {
      this.opts.log.debug({ err }, 'outbox: directory fsync not possible');
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
