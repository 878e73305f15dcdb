import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../common/clock.js';
import type { StoredMessage } from '../../ingest/ingest.js';
import type { ClosedOutage } from '../../outage/outage-types.js';
import type { Counter, MetricsRegistry } from '../../../common/metrics-registry.js';

/** What changed (docs/api.md `/api/stream`): the board refetches what it shows of it. */
export interface StreamUpdate {
  kind: 'status' | 'sample' | 'event' | 'inventory' | 'incident' | 'alert';
  site: string;
  host: string | null;
  t: number;
}

export interface StreamHubOptions {
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  maxClients: number;
  /** Updates are coalesced (one per kind/site/host) and sent this often. */
  flushMs?: number;
  heartbeatMs?: number;
  /** Distinct pending updates kept between flushes; beyond it they are dropped (counted). */
  maxPending?: number;
  /** A client whose unsent output exceeds this is disconnected (it reconnects and refetches). */
  maxBufferedBytes?: number;
}

const KIND_OF: Record<StoredMessage['kind'], StreamUpdate['kind']> = { samples: 'sample', events: 'event', inventory: 'inventory', status: 'status' };

/**
 * Live updates for the board over Server-Sent Events: bounded clients, coalesced updates,
 * a heartbeat comment every 15 s (keeps proxies from closing an idle stream), slow
 * clients dropped rather than buffered without end.
 */
export class StreamHub {
  /** Each client with the sites it may see (null: every site; issue 14 item 7). */
  private readonly clients = new Map<Response, ((site: string) => boolean) | null>();
  private readonly pending = new Map<string, StreamUpdate>();
  private flushTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private readonly dropped: Counter;
  private readonly refused: Counter;
  private readonly sent: Counter;

  constructor(private readonly opts: StreamHubOptions) {
    const m = opts.metrics;
    m.gauge('canh_sse_clients', 'Board live-update (SSE) connections open.', (g) => g.set(this.clients.size));
    m.gauge('canh_sse_pending_updates', 'Coalesced live updates waiting for the next flush.', (g) => g.set(this.pending.size));
    this.dropped = m.counter('canh_sse_dropped_total', 'Live updates or clients dropped, by reason (pending_full, slow_client).');
    this.refused = m.counter('canh_sse_refused_total', 'SSE connections refused because the client limit was reached.');
    this.sent = m.counter('canh_sse_updates_sent_total', 'Live updates written to SSE clients.');
  }

  start(): void {
    this.flushTimer ??= this.opts.clock.setInterval(() => this.flush(), this.opts.flushMs ?? 1000);
    this.heartbeatTimer ??= this.opts.clock.setInterval(() => this.writeAll(': heartbeat\n\n'), this.opts.heartbeatMs ?? 15_000);
  }

  stop(): void {
    this.opts.clock.clear(this.flushTimer);
    this.opts.clock.clear(this.heartbeatTimer);
    this.flushTimer = this.heartbeatTimer = undefined;
    for (const c of this.clients.keys()) c.end();
    this.clients.clear();
  }

  clientCount(): number {
    return this.clients.size;
  }

  /** Ingest's onStored hook: never throws, never blocks. */
  fromStored(msg: StoredMessage): void {
    this.publish({ kind: KIND_OF[msg.kind], site: msg.row.site, host: msg.row.host, t: msg.row.t });
  }

  publish(u: StreamUpdate): void {
    if (this.clients.size === 0) return;
    const k = `${u.kind}\u0000${u.site}\u0000${u.host ?? ''}`;
    if (!this.pending.has(k) && this.pending.size >= (this.opts.maxPending ?? 10_000)) {
      this.dropped.inc({ reason: 'pending_full' });
      return;
    }
    this.pending.set(k, u);
  }

  /**
   * Attach an SSE response; false when the client limit is reached. `allows`: the sites this
   * client may hear about (a scoped token's); null or absent: every site.
   */
  attach(_req: Request, res: Response, allows: ((site: string) => boolean) | null = null): boolean {
    if (this.clients.size >= this.opts.maxClients) {
      this.refused.inc();
      return false;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 5000\n: connected\n\n');
    this.clients.set(res, allows);
    // The response's close: the client went away (the request stream may close earlier).
    res.on('close', () => this.clients.delete(res));
    return true;
  }

  /** Send the coalesced updates (the flush timer calls it). */
  flush(): void {
    if (this.pending.size === 0) return;
    const updates = [...this.pending.values()];
    this.pending.clear();
    const lines = updates.map((u) => `event: update\ndata: ${JSON.stringify(u)}\n\n`);
    const all = lines.join('');
    // Scoped clients get their sites' updates only: never another commune's names or times.
    this.writeAll(all, (allows) => {
      if (allows === null) {
        this.sent.inc({}, updates.length);
        return all;
      }
      const mine = lines.filter((_, i) => allows(updates[i]!.site));
      this.sent.inc({}, mine.length);
      return mine.join('');
    });
  }

  private writeAll(text: string, per?: (allows: ((site: string) => boolean) | null) => string): void {
    const max = this.opts.maxBufferedBytes ?? 1024 * 1024;
    for (const [c, allows] of this.clients) {
      if (c.writableLength > max) {
        this.dropped.inc({ reason: 'slow_client' });
        this.clients.delete(c);
        c.destroy();
        continue;
      }
      const out = per ? per(allows) : text;
      if (out) c.write(out);
    }
  }
}

/** The board's live update of a closed host outage or site incident: its timeline and tiles refetch. */
export function closedOutageUpdate(c: ClosedOutage): StreamUpdate {
  return c.scope === 'site'
    ? { kind: 'incident', site: c.incident.site, host: null, t: c.incident.end ?? c.incident.start }
    : { kind: 'incident', site: c.outage.site, host: c.outage.host, t: c.outage.end ?? c.outage.start };
}
