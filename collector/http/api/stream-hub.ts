import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../common/clock.js';
import type { StoredMessage } from '../../ingest/ingest.js';
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
  private readonly clients = new Set<Response>();
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
    for (const c of this.clients) c.end();
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

  /** Attach an SSE response; false when the client limit is reached. */
  attach(_req: Request, res: Response): boolean {
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
    this.clients.add(res);
    // The response's close: the client went away (the request stream may close earlier).
    res.on('close', () => this.clients.delete(res));
    return true;
  }

  /** Send the coalesced updates (the flush timer calls it). */
  flush(): void {
    if (this.pending.size === 0) return;
    const updates = [...this.pending.values()];
    this.pending.clear();
    const text = updates.map((u) => `event: update\ndata: ${JSON.stringify(u)}\n\n`).join('');
    this.sent.inc({}, updates.length * this.clients.size);
    this.writeAll(text);
  }

  private writeAll(text: string): void {
    const max = this.opts.maxBufferedBytes ?? 1024 * 1024;
    for (const c of this.clients) {
      if (c.writableLength > max) {
        this.dropped.inc({ reason: 'slow_client' });
        this.clients.delete(c);
        c.destroy();
        continue;
      }
      c.write(text);
    }
  }
}
