/**
 * The InfluxDB writer's ledger (influx-writer.ts, "A resend window"): every batch in the
 * spool, in id order. The first `written` records after `head` were written and wait for
 * the resend window to pass before the spool may forget them; the rest wait to be sent.
 * A connection lost after a write marks the written ones for resending (the database may
 * have died with them in memory). Pure bookkeeping: no I/O, time passed in.
 */

/** One spooled batch. */
export interface LedgerRecord {
  readonly id: number;
  /** Lines of the batch (0 once refused as bad data: a resend must not count it again). */
  lines: number;
  /** Monotonic time of its last successful write (0 while unsent). */
  writtenAt: number;
  /** Written once, then the connection was lost: its next write is a resend. */
  resend: boolean;
}

/** Records before `head` are compacted away once there are this many. */
const COMPACT_AFTER = 1024;

export class ResendLedger {
  private records: LedgerRecord[] = [];
  private head = 0;
  private written = 0;

  /** A batch now in the spool, to be sent after every earlier one. */
  push(id: number, lines: number): void {
    this.records.push({ id, lines, writtenAt: 0, resend: false });
  }

  /** The next batch to send (the oldest unsent), if any. */
  next(): LedgerRecord | undefined {
    return this.records[this.head + this.written];
  }

  hasUnsent(): boolean {
    return this.head + this.written < this.records.length;
  }

  /** Batches written and still inside their resend window. */
  writtenCount(): number {
    return this.written;
  }

  /** Removes the unsent batch `id` (at the send position); false when it is not there. */
  removeUnsent(id: number): boolean {
    const idx = this.head + this.written;
    if (this.records[idx]?.id !== id) return false;
    this.records.splice(idx, 1);
    return true;
  }

  /** The batch `id` (at the send position) was written at `now`; `rejected` ones count no lines. */
  markWritten(id: number, now: number, rejected = false): void {
    const r = this.records[this.head + this.written];
    if (r?.id !== id) return;
    if (rejected) r.lines = 0;
    r.writtenAt = now;
    r.resend = false;
    this.written++;
  }

  /** The connection was lost: every batch written within the window is sent again. */
  resendWritten(): void {
    for (let i = this.head; i < this.head + this.written; i++) this.records[i]!.resend = true;
    this.written = 0;
  }

  /** Forgets (calls `ack` for) written batches whose resend window has passed at `now`. */
  expire(now: number, windowMs: number, ack: (id: number) => void): void {
    while (this.written > 0 && now - this.records[this.head]!.writtenAt >= windowMs) {
      ack(this.records[this.head]!.id);
      this.head++;
      this.written--;
    }
    this.compact();
  }

  /** How long until the oldest written batch leaves its window; undefined when none waits. */
  nextExpiryIn(now: number, windowMs: number): number | undefined {
    if (this.written === 0) return undefined;
    return Math.max(1, windowMs - (now - this.records[this.head]!.writtenAt));
  }

  /**
   * Drops the oldest records the spool deleted (`isGone`), calling `forget` for each.
   * Returns the lines and batches lost unsent (written ones only lose their resend safety).
   */
  dropGone(isGone: (id: number) => boolean, forget: (id: number) => void): { lines: number; batches: number } {
    let lines = 0;
    let batches = 0;
    while (this.head < this.records.length && isGone(this.records[this.head]!.id)) {
      const r = this.records[this.head]!;
      if (this.written > 0) {
        this.written--;
      } else {
        lines += r.lines;
        batches++;
      }
      forget(r.id);
      this.head++;
    }
    return { lines, batches };
  }

  /** Lines spooled and not yet written. */
  backlogLines(): number {
    let n = 0;
    for (let i = this.head + this.written; i < this.records.length; i++) n += this.records[i]!.lines;
    return n;
  }

  private compact(): void {
    if (this.head > COMPACT_AFTER && this.head * 2 > this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }
}
