import { open as openFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { checkFrame, FRAME_HEADER_BYTES, MIN_BODY_BYTES, PREFIX_BYTES } from './frame.js';

/**
 * The segment files of the durable log and their in-memory index.
 *
 * ## Files
 * `<firstId, 16 digits zero-padded>.seg`: append-only segment files. The name is the id of
 * the record the segment was created for, so lexical order is id order. Only the last
 * (active) segment is ever written.
 *
 * ## Recovery (open)
 * Each segment is scanned sequentially in 1 MiB chunks and every frame is validated
 * (frame.ts). At the first torn or corrupt frame the segment is truncated there
 * (`truncatedBytes`, one warn line per segment); later frames of THAT segment are lost (we
 * do not try to resynchronise on a byte stream we no longer trust), later segments are kept.
 *
 * ## Memory: the in-memory index
 * `read()` must serve "the next 100 records" of a 60 MB backlog without scanning it, so
 * open() (which has to read every frame anyway to check its CRC) and append() keep, per
 * segment, the id (Float64Array) and byte offset (Uint32Array) of each frame: 12 bytes a
 * record. A read is then two binary searches plus one positioned read of the needed byte
 * range. The index is bounded by the disk bound: a week of 15 s samples (~40k records of
 * ~1.5 KB) costs ~500 KB; the pathological worst case (96 MB of empty 18-byte frames)
 * would be ~64 MB, which the agent never produces.
 */

/** Read size when scanning segments at open. */
const SCAN_CHUNK_BYTES = 1024 * 1024;
export const SEGMENT_RE = /^(\d{16})\.seg$/;

/** In-memory index of one segment file. */
export interface Segment {
  /** From the file name (the id the segment was created for). */
  readonly nameId: number;
  readonly path: string;
  /** Bytes of valid frames = file length (we truncate anything else). */
  size: number;
  count: number;
  ids: Float64Array;
  offsets: Uint32Array;
}

export function segmentName(id: number): string {
  return `${String(id).padStart(16, '0')}.seg`;
}

export function newSegment(nameId: number, path: string): Segment {
  return { nameId, path, size: 0, count: 0, ids: new Float64Array(64), offsets: new Uint32Array(64) };
}

export function pushIndex(seg: Segment, id: number, offset: number): void {
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

export function idAt(seg: Segment, i: number): number {
  return seg.ids[i]!;
}

export function lastId(seg: Segment): number {
  return seg.ids[seg.count - 1]!;
}

/** Frame bytes of record `i` (its offset to the next frame or the end of the segment). */
export function frameBytes(seg: Segment, i: number): number {
  const end = i + 1 < seg.count ? seg.offsets[i + 1]! : seg.size;
  return end - seg.offsets[i]!;
}

/** First index in `seg` whose id is >= `id` (`seg.count` if none). */
export function lowerBound(seg: Segment, id: number): number {
  let lo = 0;
  let hi = seg.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (idAt(seg, mid) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first segment holding a record with id >= `id` (`segments.length` if none). */
export function segmentIndexAtOrAbove(segments: readonly Segment[], id: number): number {
  let lo = 0;
  let hi = segments.length;
  // Only the last segment can be empty (a roll whose first write failed); treat it as +inf.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const seg = segments[mid]!;
    if (seg.count > 0 && lastId(seg) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Smallest id on disk that is > `id`. */
export function firstIdAbove(segments: readonly Segment[], id: number): number | undefined {
  const seg = segments[segmentIndexAtOrAbove(segments, id + 1)];
  if (!seg) return undefined;
  const i = lowerBound(seg, id + 1);
  return i < seg.count ? idAt(seg, i) : undefined;
}

/** Whether a record with this id is on disk. */
export function hasId(segments: readonly Segment[], id: number): boolean {
  const seg = segments[segmentIndexAtOrAbove(segments, id)];
  if (!seg) return false;
  const i = lowerBound(seg, id);
  return i < seg.count && idAt(seg, i) === id;
}

export async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`outbox: unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

export async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Validates every frame of one segment file (ids must be > `afterId`), truncating it at
 * the first bad one. Returns its index and the bytes cut.
 */
export async function scanSegment(dir: string, name: string, afterId: number, opts: { datasync: boolean; log: Logger }): Promise<{ seg: Segment; cutBytes: number }> {
  const path = join(dir, name);
  const seg = newSegment(Number(SEGMENT_RE.exec(name)![1]), path);
  let cutBytes = 0;
  const fh = await openFile(path, 'r+');
  try {
    const { size } = await fh.stat();
    let buf = Buffer.alloc(0);
    let bufPos = 0;
    let pos = 0;
    let last = afterId;
    let reason: string | undefined;
    while (pos < size) {
      if (size - pos < FRAME_HEADER_BYTES) {
        reason = 'torn frame header';
        break;
      }
      if (pos < bufPos || pos + FRAME_HEADER_BYTES > bufPos + buf.length) {
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
      if (opts.datasync) await fh.datasync();
      cutBytes = size - pos;
      opts.log.warn({ segment: name, offset: pos, cutBytes, keptRecords: seg.count, reason }, 'outbox: cut torn or corrupt tail of segment');
    }
  } finally {
    await fh.close();
  }
  return { seg, cutBytes };
}
