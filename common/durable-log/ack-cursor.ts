import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { readSlotFile, SlotFile } from '../slot-file.js';

/**
 * The acknowledgement cursor of the durable log.
 *
 * `cursor.slots` holds `{ "ackedThrough": n }`: every id <= n is acknowledged (or gone). It is
 * written in place, in the older of two CRC'd slots, then fdatasynced (common/slot-file.ts), so
 * a power cut leaves the new cursor or the one before, never a torn one; and a persist (at
 * every ack, at most once a second) costs one pwrite and one fdatasync, not a temporary file,
 * a rename and a directory fsync. Earlier versions wrote `cursor.json` (temporary file +
 * rename): it is read when there is no `cursor.slots` yet (an upgrade), then removed.
 *
 * Acks arrive out of order. The in-memory cursor is the highest id such that every id <= it
 * is acked or no longer on disk; acks above it sit in a set until the gap closes. Only the
 * cursor is durable, not the set, so after a crash or restart, records acked after the last
 * persist, and records acked out of order above the cursor, are replayed. That is acceptable:
 * delivery is at-least-once and the collector deduplicates by boot+seq. The set only holds ids
 * of records on disk above the cursor, so the disk bound bounds it too: it can legitimately
 * reach 100k+ entries (a long backlog being replayed while live records are acked ahead of
 * it) and is kept in full, because dropping entries would only cause duplicate sends.
 */

const CURSOR_FILE = 'cursor.slots';
/** Earlier versions' cursor file and its temporary file. */
const LEGACY_CURSOR_FILE = 'cursor.json';
const LEGACY_CURSOR_TMP_FILE = 'cursor.json.tmp';

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** The cursor, the out-of-order acks above it and its file; see the file header. */
export class AckCursor {
  /** Every id <= this is acked or gone. */
  through = -1;
  /** The value last written to `cursor.json`. */
  persisted = -1;
  /** Acked ids > {@link through}; only ids of records on disk. */
  private readonly acked = new Set<number>();
  private readonly file: SlotFile;
  /** A legacy `cursor.json` may still be there (removed after the first persist). */
  private legacy = true;

  /** Only stores its arguments; call {@link load}. */
  constructor(
    private readonly dir: string,
    private readonly opts: { fsync: boolean; log: Logger },
  ) {
    this.file = new SlotFile(join(dir, CURSOR_FILE), { fsync: opts.fsync, log: opts.log });
  }

  /** Reads the cursor (missing: nothing acked; unreadable: replay everything) and removes a legacy temporary file. */
  async load(): Promise<void> {
    await rm(join(this.dir, LEGACY_CURSOR_TMP_FILE), { force: true });
    this.through = await this.read();
    this.persisted = this.through;
  }

  private async read(): Promise<number> {
    let text = await readSlotFile(join(this.dir, CURSOR_FILE));
    let what = CURSOR_FILE;
    if (text === null) {
      let slotsExist = true;
      try {
        await stat(join(this.dir, CURSOR_FILE));
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
        slotsExist = false;
      }
      if (!slotsExist) {
        // None yet: an upgrade from the cursor.json of earlier versions, or nothing acked.
        what = LEGACY_CURSOR_FILE;
        try {
          text = await readFile(join(this.dir, LEGACY_CURSOR_FILE), 'utf8');
        } catch (err) {
          if (errorCode(err) === 'ENOENT') return -1;
          throw err;
        }
      }
    }
    try {
      const value = text === null ? undefined : (JSON.parse(text) as { ackedThrough?: unknown }).ackedThrough;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= -1) return value;
    } catch {
      // fall through
    }
    // Replaying everything is the safe answer to an unreadable cursor.
    this.opts.log.warn(`outbox: ${what} unreadable; replaying all records on disk`);
    return -1;
  }

  /** Whether `id` is acked (ids at or below the cursor count as acked, including dropped ones). */
  isAcked(id: number): boolean {
    return id <= this.through || this.acked.has(id);
  }

  /** Acked ids above the cursor. */
  get pendingAbove(): number {
    return this.acked.size;
  }

  add(id: number): void {
    this.acked.add(id);
  }

  /** Forgets an out-of-order ack (its record left the disk); returns whether it was there. */
  forget(id: number): boolean {
    return this.acked.delete(id);
  }

  /**
   * Moves the cursor over acked records and over ids that are not on disk (`firstIdAbove`
   * tells what is), stopping below the first unacked record. Returns whether it moved.
   */
  advance(firstIdAbove: (id: number) => number | undefined): boolean {
    const before = this.through;
    for (;;) {
      const next = firstIdAbove(this.through);
      if (next === undefined) break;
      if (!this.acked.has(next)) {
        this.through = Math.max(this.through, next - 1);
        break;
      }
      this.acked.delete(next);
      this.through = next;
    }
    return this.through !== before;
  }

  /** Writes the cursor (common/slot-file.ts) if it moved since the last write. */
  async persist(): Promise<void> {
    if (this.through === this.persisted) return;
    const value = this.through;
    await this.file.write(JSON.stringify({ ackedThrough: value }));
    this.persisted = value;
    if (this.legacy) {
      this.legacy = false;
      await rm(join(this.dir, LEGACY_CURSOR_FILE), { force: true });
    }
  }

  /** Closes the cursor file (written again, reopened, if persisted after this). */
  close(): void {
    this.file.close();
  }
}
