import zlib from 'node:zlib';

/**
 * The record frame of the durable log (all integers little-endian):
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
 */

/** Frame header: bodyLength u32, crc32 u32, id u64, topicLength u16. A record takes this plus its topic and payload bytes. */
export const FRAME_HEADER_BYTES = 18;
/** The length/crc prefix that `bodyLength` does not count. */
export const PREFIX_BYTES = 8;
/** Smallest valid `bodyLength` (an empty topic and payload). */
export const MIN_BODY_BYTES = FRAME_HEADER_BYTES - PREFIX_BYTES;
export const TWO_32 = 2 ** 32;
/** Largest id we store; ids are JS numbers. */
const MAX_ID = Number.MAX_SAFE_INTEGER;

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
/** CRC-32 (IEEE / zlib) of `data`: zlib's native one when present, else the table. */
export const crc32: (data: Uint8Array) => number = typeof nativeCrc32 === 'function' ? (data) => nativeCrc32(data) >>> 0 : tableCrc32;

/**
 * A frame for `topic` and `payload` whose id and CRC are still unset ({@link stampFrame}
 * sets them once the id is known). The payload is copied.
 * @throws RangeError if the frame would be larger than `maxFrameBytes` or the topic longer than 65,535 bytes.
 */
export function encodeFrame(topic: string, payload: Buffer, maxFrameBytes: number): Buffer {
  const topicBytes = Buffer.from(topic, 'utf8');
  if (topicBytes.length > 0xffff) throw new RangeError('outbox: topic longer than 65535 bytes');
  const frameLength = FRAME_HEADER_BYTES + topicBytes.length + payload.length;
  if (frameLength > maxFrameBytes) {
    throw new RangeError(`outbox: record of ${frameLength} bytes exceeds segmentBytes (${maxFrameBytes})`);
  }
  const frame = Buffer.allocUnsafe(frameLength);
  frame.writeUInt32LE(frameLength - PREFIX_BYTES, 0);
  frame.writeUInt16LE(topicBytes.length, 16);
  topicBytes.copy(frame, FRAME_HEADER_BYTES);
  payload.copy(frame, FRAME_HEADER_BYTES + topicBytes.length);
  return frame;
}

/** Writes the id into a frame from {@link encodeFrame}, then its CRC (which covers the id). */
export function stampFrame(frame: Buffer, id: number): void {
  frame.writeUInt32LE(id % TWO_32, 8);
  frame.writeUInt32LE(Math.floor(id / TWO_32), 12);
  frame.writeUInt32LE(crc32(frame.subarray(PREFIX_BYTES)), 4);
}

export type FrameCheck = { ok: true; id: number; bytes: number } | { ok: false; reason: string };

/**
 * Validates the frame starting at `buf[o]`, whose body is fully inside `buf` (callers
 * check `bodyLength` against the file first). Ids must be > `afterId`.
 */
export function checkFrame(buf: Buffer, o: number, afterId: number): FrameCheck {
  const bodyLength = buf.readUInt32LE(o);
  if (bodyLength < MIN_BODY_BYTES) return { ok: false, reason: 'bad length' };
  const body = buf.subarray(o + PREFIX_BYTES, o + PREFIX_BYTES + bodyLength);
  if (crc32(body) !== buf.readUInt32LE(o + 4)) return { ok: false, reason: 'crc mismatch' };
  const id = buf.readUInt32LE(o + 8) + buf.readUInt32LE(o + 12) * TWO_32;
  if (id > MAX_ID || id <= afterId) return { ok: false, reason: 'id out of order' };
  if (buf.readUInt16LE(o + 16) > bodyLength - MIN_BODY_BYTES) return { ok: false, reason: 'bad topic length' };
  return { ok: true, id, bytes: PREFIX_BYTES + bodyLength };
}

/** Topic and payload of the checked frame of `bytes` bytes at `buf[o]`; the payload is a copy. */
export function decodeFrame(buf: Buffer, o: number, bytes: number): { topic: string; payload: Buffer } {
  const topicEnd = o + FRAME_HEADER_BYTES + buf.readUInt16LE(o + 16);
  return {
    topic: buf.toString('utf8', o + FRAME_HEADER_BYTES, topicEnd),
    // A copy, so a held payload does not pin the whole run buffer.
    payload: Buffer.from(buf.subarray(topicEnd, o + bytes)),
  };
}
