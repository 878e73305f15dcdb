import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { CollectorStall, StallRecorder } from './stall-watch.js';

/** Site id of the collector's own events in the `events` table: agents' ids start with [a-z0-9] (contract/topics.ts ID_PATTERN), so it never collides. */
export const COLLECTOR_SITE = '_collector';
/** Host id of the collector's own events. */
export const COLLECTOR_HOST = 'collector';
export const STALL_EVENT_TYPE = 'collector_stall';

/**
 * Stores each stall as an event of site `_collector`, host `collector`, type
 * `collector_stall` in the embedded store's `events` table, so `GET /api/events?site=_collector`
 * lists them next to the agents' events (docs/api.md) with no table or route of their own.
 * No agent can write there: an agent's site id matches ID_PATTERN, which `_` cannot start.
 * Boot is this collector run, seq counts its stalls: the events table's dedup key.
 */
export class SqliteStallEvents implements StallRecorder {
  private readonly boot = randomUUID();
  private seq = 0;
  private readonly insert;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO events (site, host, boot, seq, t, received, type, severity, message, start, "end", details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  record(s: CollectorStall): void {
    const seconds = Math.round(s.gapMs) / 1000;
    this.insert.run(
      COLLECTOR_SITE,
      COLLECTOR_HOST,
      this.boot,
      ++this.seq,
      Math.round(s.end),
      Math.round(s.end),
      STALL_EVENT_TYPE,
      'warning',
      `the collector stood still for ${seconds} s: what it missed then is its own gap, not an outage`,
      Math.round(s.start),
      Math.round(s.end),
      JSON.stringify({ gapMs: Math.round(s.gapMs) }),
    );
  }
}
