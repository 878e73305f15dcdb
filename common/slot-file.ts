import { closeSync, constants, fchmodSync, fdatasync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { fsyncDir } from './atomic-file.js';
import { crc32 } from './durable-log/frame.js';
import type { Logger } from './log.js';

const fdatasyncAsync = promisify(fdatasync);

/**
 * A small state file rewritten often (the agent's heartbeat every interval, a durable log's ack
 * cursor at every ack), in place: two slots, each write overwrites the older one and is then
 * fdatasynced (when asked). Compared with write-temp-file + rename + directory fsync
 * (atomic-file.ts) a write is one pwrite and one fdatasync: an overwrite that does not grow the
 * file changes no metadata, so fdatasync flushes one data block and no journal commit, and there
 * is one thread-pool round trip instead of two, no open, close or rename.
 *
 * A slot is `<n> <text> <CRC-32 of "<n> <text>", 8 hex>\n`, padded with spaces to
 * {@link SLOT_BYTES}; `n` counts the writes (it goes on across runs). Slot 0 is at offset 0,
 * slot 1 at {@link SLOT_STRIDE}, a page apart, so a write torn by a power cut never touches the
 * other one's disk sector: a torn slot fails its CRC and the other, one write older, is read.
 * `text` is one line (JSON) of at most {@link MAX_SLOT_TEXT} bytes.
 */
export const SLOT_BYTES = 512;
export const SLOT_STRIDE = 4096;
export const MAX_SLOT_TEXT = SLOT_BYTES - 40;

interface Slot {
  n: number;
  text: string;
}

function crcHex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** One slot's bytes. */
export function encodeSlot(n: number, text: string): Buffer {
  const body = Buffer.from(`${n} ${text}`, 'utf8');
  if (text.includes('\n') || body.length > MAX_SLOT_TEXT + 20) throw new RangeError(`slot text of ${body.length} bytes does not fit a slot (or has a newline)`);
  const slot = Buffer.alloc(SLOT_BYTES, 0x20);
  body.copy(slot, 0);
  slot.write(` ${crcHex(body)}\n`, body.length, 'latin1');
  return slot;
}

/** One slot's bytes → its count and text; null when empty, torn (CRC mismatch) or foreign. */
export function decodeSlot(bytes: Buffer): Slot | null {
  const nl = bytes.indexOf(0x0a);
  if (nl < 12) return null;
  const line = bytes.subarray(0, nl);
  const sp = line.lastIndexOf(0x20);
  if (sp < 1 || line.length - sp - 1 !== 8) return null;
  const body = line.subarray(0, sp);
  if (line.subarray(sp + 1).toString('latin1') !== crcHex(body)) return null;
  const s = body.toString('utf8');
  const first = s.indexOf(' ');
  const n = Number(s.slice(0, first));
  if (first < 1 || !Number.isSafeInteger(n) || n < 0) return null;
  return { n, text: s.slice(first + 1) };
}

/** Both slots of a file's bytes (null for an invalid one). */
function decodeSlots(buf: Buffer): [Slot | null, Slot | null] {
  return [decodeSlot(buf.subarray(0, SLOT_BYTES)), buf.length > SLOT_STRIDE ? decodeSlot(buf.subarray(SLOT_STRIDE, SLOT_STRIDE + SLOT_BYTES)) : null];
}

/** The text of the newest valid slot of a file's bytes; null when neither is valid. */
export function newestSlotText(buf: Buffer): string | null {
  const [a, b] = decodeSlots(buf);
  const best = a && b ? (a.n >= b.n ? a : b) : (a ?? b);
  return best?.text ?? null;
}

/** The newest valid slot's text of the file at `path`; null when the file is missing or has no valid slot. */
export async function readSlotFile(path: string): Promise<string | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return null;
  }
  return newestSlotText(buf);
}

/** The writer; see the file header. Writes must not overlap (callers serialise them). */
export class SlotFile {
  private fd: number | undefined;
  private next = { n: 0, slot: 0 };
  private dirSynced = false;

  constructor(
    readonly path: string,
    private readonly opts: { fsync: boolean; log?: Logger | undefined },
  ) {}

  /** Opens (creating it if needed, private) and carries on from the slots already there. */
  private open(): number {
    const fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      // An existing file keeps its mode on open: state files are private (agent/platform/private-files.ts).
      if (process.platform !== 'win32') fchmodSync(fd, 0o600);
      const size = Math.min(fstatSync(fd).size, SLOT_STRIDE + SLOT_BYTES);
      const buf = Buffer.alloc(size);
      if (size > 0) readSync(fd, buf, 0, size, 0);
      const [a, b] = decodeSlots(buf);
      // Overwrite the older (or invalid) slot; number on from the newest.
      const newest = a && b ? (a.n >= b.n ? 0 : 1) : a ? 0 : b ? 1 : 1;
      this.next = { n: Math.max(a?.n ?? -1, b?.n ?? -1) + 1, slot: newest ^ 1 };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.dirSynced = false;
    return fd;
  }

  async write(text: string): Promise<void> {
    let fd: number;
    try {
      fd = this.fd ??= this.open();
      const slot = encodeSlot(this.next.n, text);
      // A page-cache write of 512 bytes: synchronous, as atomic-file.ts argues.
      for (let off = 0; off < slot.length;) off += writeSync(fd, slot, off, slot.length - off, this.next.slot * SLOT_STRIDE + off);
    } catch (err) {
      this.close(); // opened afresh at the next write (the file may have been removed under us)
      throw err;
    }
    this.next = { n: this.next.n + 1, slot: this.next.slot ^ 1 };
    if (!this.opts.fsync) return;
    try {
      await fdatasyncAsync(fd);
    } catch (err) {
      this.close();
      throw err;
    }
    if (!this.dirSynced) {
      // The file's creation (once per open).
      await fsyncDir(dirname(this.path), this.opts.log);
      this.dirSynced = true;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing more to write through it
    }
    this.fd = undefined;
  }
}
