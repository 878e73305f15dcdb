/**
 * The notifier outbox (DESIGN.md "Alerting model": sending is a separate, durable outbox
 * with retries), in the collector's SQLite file.
 *
 * - **Persist before send.** `enqueue` writes the message and one delivery row per channel
 *   in one transaction; only then does a worker pick it up. A restart finds every
 *   undelivered row in state `pending` and sends it.
 * - **Idempotent enqueue.** A message id is accepted once (the engine may re-emit the same
 *   notification after its own restart): a repeat queues nothing.
 * - **Mark sent right after acceptance**, in one statement (`markSent`, or `markPartSent`
 *   for each accepted part of a multi-part Zalo text), so a restart never sends an accepted
 *   message (or part) again. The one window left: the process dies after the service
 *   accepted the message and before that statement commits (a few ms). Then the message
 *   (or that one part) is sent again at the next start. No Zalo API takes an idempotency
 *   key to close it; email repeats carry the same Message-ID and webhook repeats the same
 *   `Idempotency-Key`, so receivers that dedup show it once.
 * - **Bounded.** At most `maxPendingPerChannel` pending deliveries per channel: beyond it the
 *   OLDEST pending delivery of that channel is given up (state `failed`, reason `overflow`,
 *   counted, logged): during a long outage of a channel the newest news matters most.
 *   Finished rows are deleted after `retentionMs`.
 * - **Give-up recorded.** A delivery that exhausted its attempts or age, or met a permanent
 *   error, stays in the table with state `failed` and its reason.
 */
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { EnqueueResult } from './notification.js';
import { migrateNotifyTables } from './notify-tables.js';
import { messageId, OutboxMessageSchema, type OutboxMessage } from './outbox-message.js';

export type DeliveryState = 'pending' | 'sent' | 'failed';

export interface Delivery {
  id: number;
  messageId: string;
  channel: string;
  state: DeliveryState;
  attempts: number;
  partsSent: number;
  queuedAt: number;
  nextAt: number;
  lastAttemptAt: number | null;
  doneAt: number | null;
  lastError: string | null;
}

interface DeliveryDbRow {
  id: number;
  message_id: string;
  channel: string;
  state: DeliveryState;
  attempts: number;
  parts_sent: number;
  queued_at: number;
  next_at: number;
  last_attempt_at: number | null;
  done_at: number | null;
  last_error: string | null;
}

function toDelivery(r: DeliveryDbRow): Delivery {
  return {
    id: r.id,
    messageId: r.message_id,
    channel: r.channel,
    state: r.state,
    attempts: r.attempts,
    partsSent: r.parts_sent,
    queuedAt: r.queued_at,
    nextAt: r.next_at,
    lastAttemptAt: r.last_attempt_at,
    doneAt: r.done_at,
    lastError: r.last_error,
  };
}

export interface OutboxOptions {
  maxPendingPerChannel: number;
  retentionMs: number;
}

export interface OverflowEvent {
  channel: string;
  deliveryId: number;
  messageId: string;
}

export class Outbox {
  private readonly stmts;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly opts: OutboxOptions,
  ) {
    migrateNotifyTables(db);
    this.stmts = {
      insertMessage: db.prepare('INSERT INTO notify_messages (id, kind, site, created_at, queued_at, payload) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
      insertDelivery: db.prepare(
        "INSERT INTO notify_deliveries (message_id, channel, state, queued_at, next_at) VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (message_id, channel) DO NOTHING",
      ),
      pendingCount: db.prepare("SELECT COUNT(*) AS n FROM notify_deliveries WHERE channel = ? AND state = 'pending'"),
      oldestPending: db.prepare("SELECT id, message_id FROM notify_deliveries WHERE channel = ? AND state = 'pending' ORDER BY queued_at, id LIMIT 1"),
      // FIFO per channel: the oldest pending delivery goes first, even when it waits for a retry.
      nextDue: db.prepare("SELECT * FROM notify_deliveries WHERE channel = ? AND state = 'pending' ORDER BY id LIMIT 1"),
      payload: db.prepare('SELECT payload FROM notify_messages WHERE id = ?'),
      markPart: db.prepare("UPDATE notify_deliveries SET parts_sent = ?, last_attempt_at = ? WHERE id = ? AND state = 'pending'"),
      markSent: db.prepare(
        "UPDATE notify_deliveries SET state = 'sent', parts_sent = ?, attempts = attempts + 1, last_attempt_at = ?, done_at = ?, last_error = NULL WHERE id = ? AND state = 'pending'",
      ),
      markRetry: db.prepare("UPDATE notify_deliveries SET attempts = attempts + 1, next_at = ?, last_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'"),
      markFailed: db.prepare("UPDATE notify_deliveries SET state = 'failed', done_at = ?, last_error = ? WHERE id = ? AND state = 'pending'"),
      countFailedAttempt: db.prepare("UPDATE notify_deliveries SET attempts = attempts + 1, last_attempt_at = ? WHERE id = ? AND state = 'pending'"),
      get: db.prepare('SELECT * FROM notify_deliveries WHERE id = ?'),
      byMessage: db.prepare('SELECT * FROM notify_deliveries WHERE message_id = ? ORDER BY channel'),
      list: db.prepare('SELECT * FROM notify_deliveries WHERE (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?'),
      counts: db.prepare('SELECT channel, state, COUNT(*) AS n, MIN(queued_at) AS oldest FROM notify_deliveries GROUP BY channel, state'),
      pending: db.prepare("SELECT channel, COUNT(*) AS n, MIN(queued_at) AS oldest FROM notify_deliveries WHERE state = 'pending' GROUP BY channel"),
      messagesSince: db.prepare("SELECT payload FROM notify_messages WHERE kind = 'alert' AND queued_at > ? AND queued_at <= ? ORDER BY queued_at"),
      pruneDeliveries: db.prepare("DELETE FROM notify_deliveries WHERE state != 'pending' AND done_at < ?"),
      pruneMessages: db.prepare('DELETE FROM notify_messages WHERE queued_at < ? AND NOT EXISTS (SELECT 1 FROM notify_deliveries d WHERE d.message_id = notify_messages.id)'),
    };
  }

  /**
   * Writes `message` and a pending delivery per channel, atomically. Returns what was
   * queued, whether the id was known, and how many old deliveries were given up to keep
   * the per-channel bound (`onOverflow` is called for each).
   */
  enqueue(message: OutboxMessage, channels: readonly string[], now: number, onOverflow?: (e: OverflowEvent) => void): EnqueueResult {
    const id = messageId(message);
    const site = message.kind === 'digest' || message.kind === 'province' ? null : message.kind === 'report' ? message.report.site : message.notification.site;
    const createdAt =
      message.kind === 'digest'
        ? message.digest.to
        : message.kind === 'report'
          ? message.report.createdAt
          : message.kind === 'province'
            ? message.province.createdAt
            : message.notification.createdAt;
    const overflowed: OverflowEvent[] = [];
    const result = this.db
      .transaction((): EnqueueResult => {
        const ins = this.stmts.insertMessage.run(id, message.kind, site, createdAt, now, JSON.stringify(message));
        if (ins.changes === 0) return { queued: 0, duplicate: true, dropped: 0 };
        let queued = 0;
        for (const ch of channels) {
          const { n } = this.stmts.pendingCount.get(ch) as { n: number };
          if (n >= this.opts.maxPendingPerChannel) {
            const old = this.stmts.oldestPending.get(ch) as { id: number; message_id: string } | undefined;
            if (old) {
              this.stmts.markFailed.run(now, 'overflow: outbox full for this channel, oldest delivery given up', old.id);
              overflowed.push({ channel: ch, deliveryId: old.id, messageId: old.message_id });
            }
          }
          queued += this.stmts.insertDelivery.run(id, ch, now, now).changes;
        }
        return { queued, duplicate: false, dropped: overflowed.length };
      })
      .immediate();
    for (const e of overflowed) onOverflow?.(e);
    return result;
  }

  /** The oldest pending delivery of `channel` (its `nextAt` may be in the future). */
  nextDue(channel: string): Delivery | undefined {
    const r = this.stmts.nextDue.get(channel) as DeliveryDbRow | undefined;
    return r && toDelivery(r);
  }

  /** The stored message of a delivery; undefined when unreadable (recorded as failed by the caller). */
  message(id: string): OutboxMessage | undefined {
    const r = this.stmts.payload.get(id) as { payload: string } | undefined;
    if (!r) return undefined;
    try {
      const parsed = OutboxMessageSchema.safeParse(JSON.parse(r.payload));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Part `partsSent - 1` of a multi-part delivery was accepted. */
  markPartSent(id: number, partsSent: number, now: number): void {
    this.stmts.markPart.run(partsSent, now, id);
  }

  markSent(id: number, parts: number, now: number): void {
    this.stmts.markSent.run(parts, now, now, id);
  }

  /** A failed attempt; the delivery waits until `nextAt`. */
  markRetry(id: number, nextAt: number, reason: string, now: number): void {
    this.stmts.markRetry.run(nextAt, now, reason.slice(0, 500), id);
  }

  /** Gives the delivery up; `countAttempt` when this follows an attempt that failed. */
  markFailed(id: number, reason: string, now: number, countAttempt = false): void {
    this.db
      .transaction(() => {
        if (countAttempt) this.stmts.countFailedAttempt.run(now, id);
        this.stmts.markFailed.run(now, reason.slice(0, 500), id);
      })
      .immediate();
  }

  get(id: number): Delivery | undefined {
    const r = this.stmts.get.get(id) as DeliveryDbRow | undefined;
    return r && toDelivery(r);
  }

  deliveriesOf(messageId: string): Delivery[] {
    return (this.stmts.byMessage.all(messageId) as DeliveryDbRow[]).map(toDelivery);
  }

  list(state: DeliveryState | null, limit = 100): Delivery[] {
    return (this.stmts.list.all(state, state, limit) as DeliveryDbRow[]).map(toDelivery);
  }

  /** Deliveries per channel and state, and the oldest queue time of each group. */
  counts(): Array<{ channel: string; state: DeliveryState; n: number; oldest: number }> {
    return this.stmts.counts.all() as Array<{ channel: string; state: DeliveryState; n: number; oldest: number }>;
  }

  /** Pending deliveries per channel and the oldest queue time (for /metrics; uses the state index). */
  pendingByChannel(): Array<{ channel: string; n: number; oldest: number }> {
    return this.stmts.pending.all() as Array<{ channel: string; n: number; oldest: number }>;
  }

  /** Alert notifications queued in (from, to] (for the daily digest). */
  alertMessages(from: number, to: number): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    for (const r of this.stmts.messagesSince.all(from, to) as Array<{ payload: string }>) {
      const p = OutboxMessageSchema.safeParse(JSON.parse(r.payload));
      if (p.success) out.push(p.data);
    }
    return out;
  }

  /** Deletes finished deliveries and their messages older than the retention. */
  prune(now: number): number {
    const cutoff = now - this.opts.retentionMs;
    return this.db
      .transaction(() => {
        const n = this.stmts.pruneDeliveries.run(cutoff).changes;
        this.stmts.pruneMessages.run(cutoff);
        return n;
      })
      .immediate();
  }
}
