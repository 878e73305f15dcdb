import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../common/clock.js';
import { VERSION } from '../common/version.js';
import { ID_PATTERN } from '../contract/topics.js';
import { loadBoardAssets, mountBoard } from './board-assets.js';
import type { MetricsRegistry } from './metrics-registry.js';
import type { Store } from './store/store.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  boardLocalOnly: boolean;
  store: Store;
  metrics: MetricsRegistry;
  clock: Clock;
  log: Logger;
  /** Broker health for /api/health. */
  brokerStatus: () => { mode: 'embedded' | 'external'; connected: boolean };
}

const id = z.string().regex(ID_PATTERN);
const MAX_RANGE_MS = 31 * 24 * 3600 * 1000;
const SamplesQuery = z
  .object({
    from: z.coerce.number().int().min(0).optional(),
    to: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
  })
  .strict();

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

/** REST API, health, /metrics and the minimal live board. */
export class HttpServer {
  private server: Server | undefined;
  private readonly startedAt: number;

  constructor(private readonly opts: HttpServerOptions) {
    this.startedAt = opts.clock.now();
    const m = opts.metrics;
    m.gauge('canh_hosts_online', 'Hosts whose last status is online.', (g) => g.set(opts.store.hostsOnline()));
    m.gauge('canh_hosts', 'Hosts known to the collector.', (g) => g.set(opts.store.hostCount()));
    m.gauge('canh_samples_stored', 'Samples in the embedded store.', (g) => g.set(opts.store.countSamples()));
    m.gauge('canh_store_bytes', 'Size of the embedded store on disk (database + WAL).', (g) => g.set(opts.store.sizeBytes()));
    m.gauge('canh_process_resident_memory_bytes', 'Collector resident memory.', (g) => g.set(process.memoryUsage.rss()));
  }

  port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  app(): express.Express {
    const { store, metrics, log } = this.opts;
    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.use((_req, res, next) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'");
      next();
    });
    const localOnly = (req: Request, res: Response, next: NextFunction) => {
      if (!this.opts.boardLocalOnly || isLoopback(req.socket.remoteAddress)) return next();
      res.status(403).json({ error: 'forbidden', message: 'host figures are served to this computer only (http.boardLocalOnly)' });
    };

    app.get('/api/health', (_req, res) => {
      const broker = this.opts.brokerStatus();
      res.json({
        status: broker.connected ? 'ok' : 'degraded',
        version: VERSION,
        uptimeSeconds: Math.round((this.opts.clock.now() - this.startedAt) / 1000),
        hostsOnline: store.hostsOnline(),
        hosts: store.hostCount(),
        samplesStored: store.countSamples(),
        broker,
      });
    });
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render());
    });
    app.get('/api/hosts', localOnly, (_req, res) => {
      const hosts = store.listHosts().map((h) => ({ ...h, latest: store.latestSample(h.site, h.host) ?? null }));
      res.json({ hosts });
    });
    app.get('/api/hosts/:site/:host', localOnly, (req, res) => {
      const site = id.safeParse(req.params.site);
      const host = id.safeParse(req.params.host);
      if (!site.success || !host.success) return void res.status(400).json({ error: 'bad_request', message: 'site and host must be ids [a-z0-9_-]' });
      const h = store.getHost(site.data, host.data);
      if (!h) return void res.status(404).json({ error: 'not_found', message: 'no such host' });
      res.json({ host: h, latest: store.latestSample(h.site, h.host) ?? null, inventory: store.inventory(h.site, h.host)?.data ?? null });
    });
    app.get('/api/hosts/:site/:host/samples', localOnly, (req, res) => {
      const site = id.safeParse(req.params.site);
      const host = id.safeParse(req.params.host);
      const q = SamplesQuery.safeParse(req.query);
      if (!site.success || !host.success || !q.success) {
        const reasons = q.success ? [] : q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
        if (!site.success || !host.success) reasons.push('site and host must be ids [a-z0-9_-]');
        return void res.status(400).json({ error: 'bad_request', reasons });
      }
      const to = q.data.to ?? this.opts.clock.now();
      const from = q.data.from ?? to - 3600_000;
      if (to < from || to - from > MAX_RANGE_MS) return void res.status(400).json({ error: 'bad_request', reasons: ['range must be 0..31 days with from <= to'] });
      res.json({ samples: store.samples(site.data, host.data, { from, to, limit: q.data.limit }) });
    });
    mountBoard(app, loadBoardAssets(), localOnly);
    app.use((_req, res) => {
      res.status(404).json({ error: 'not_found' });
    });
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      log.warn({ err: err.message }, 'HTTP request failed');
      res.status(500).json({ error: 'internal', message: 'internal error' });
    });
    return app;
  }

  async start(): Promise<void> {
    const app = this.app();
    await new Promise<void>((resolve, reject) => {
      const server = app.listen(this.opts.port, this.opts.host, (err?: Error) => (err ? reject(err) : resolve()));
      server.on('error', reject);
      this.server = server;
    });
    this.opts.log.info({ host: this.opts.host, port: this.port() }, 'HTTP listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}
