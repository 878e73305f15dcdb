import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import { VERSION } from '../../common/version.js';
import type { Store } from '../store/store.js';
import type { ApiCore, ApiSettings } from './api/api-core.js';
import type { ApiModule } from './api/api-module.js';
import { loadBoardAssets, mountBoard } from './board-assets.js';

export interface HttpApiSettings extends ApiSettings {
  streamMaxClients: number;
  secureCookie: boolean;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  store: Store;
  metrics: MetricsRegistry;
  clock: Clock;
  log: Logger;
  /** Broker health for /api/health. */
  brokerStatus: () => { mode: 'embedded' | 'external'; connected: boolean };
  /** The REST API core (auth, rate limits, JSON errors) the route families are mounted on. */
  api: ApiCore;
  /**
   * Every REST route family (collector/http/api/routes/, one file each), mounted under
   * `/api` in this order. The collector builds the list (its one wiring place).
   */
  apiModules: readonly ApiModule[];
  /** Routers outside `/api`, mounted before the board (e.g. `/install`, the agent packages). */
  routes?: ReadonlyArray<{ path: string; router: express.Router }>;
  /** More `/api/health` fields (the collector's own stalls: collector/health/). */
  health?: (() => Record<string, unknown>) | undefined;
  /** Serve HTTPS from these PEM files (issue 14 item 9); plain HTTP without. */
  tls?: { certFile: string; keyFile: string } | undefined;
  /** Reverse proxies whose X-Forwarded-For/-Proto are believed (Express `trust proxy`); none by default. */
  trustedProxies?: readonly string[] | undefined;
  /** HSTS max-age on HTTPS answers; 0: no header. */
  hstsMaxAgeSeconds?: number | undefined;
}

/** Latency buckets of the HTTP histogram, seconds. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * HTTP: the REST API (collector/http/api/, docs/api.md), health, /metrics and the board's
 * static files, with security headers and per-route request metrics. It mounts the route
 * families it is given; it builds none.
 */
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
    // Where the resident memory goes (the province target is 300 MB): V8's heap, and memory
    // outside it (Buffers, SQLite's page caches are in neither: RSS − these).
    m.gauge('canh_process_heap_bytes', 'Collector memory by kind: V8 heap used and total, external (native memory of JS objects), of it array buffers (Buffers).', (g) => {
      const u = process.memoryUsage();
      g.set(u.heapUsed, { kind: 'heap_used' });
      g.set(u.heapTotal, { kind: 'heap_total' });
      g.set(u.external, { kind: 'external' });
      g.set(u.arrayBuffers, { kind: 'array_buffers' });
    });
  }

  port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  app(): express.Express {
    const { store, metrics } = this.opts;
    const requests = metrics.counter('canh_http_requests_total', 'HTTP requests, by route template, method and status.');
    const latency = metrics.histogram(
      'canh_http_request_duration_seconds',
      'HTTP request latency, by route template, method and status class (SSE streams left out).',
      LATENCY_BUCKETS,
    );
    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    // The client address (rate limits, bans, audit) and the scheme come from proxy headers only
    // when the connection is from a configured proxy; never from anyone else (issue 14 item 9).
    const proxies = this.opts.trustedProxies ?? [];
    app.set('trust proxy', proxies.length ? [...proxies] : false);
    const hsts = this.opts.hstsMaxAgeSeconds ?? 0;
    app.use((req, res, next) => {
      const start = this.opts.clock.monotonic();
      res.on('finish', () => {
        // The route template, never the raw path: bounded label values (house style §7).
        const path = (req.route as { path?: string } | undefined)?.path;
        const route = typeof path === 'string' ? (req.originalUrl.startsWith('/api/') && !path.startsWith('/api') ? `/api${path}` : path) : 'unmatched';
        const method = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD'].includes(req.method) ? req.method : 'OTHER';
        requests.inc({ route, method, status: String(res.statusCode) });
        if (route !== '/api/stream') latency.observe((this.opts.clock.monotonic() - start) / 1000, { route, method, status: `${Math.floor(res.statusCode / 100)}xx` });
      });
      // RFC 6797 §7.2: only over HTTPS (direct TLS, or https as a trusted proxy says).
      if (hsts > 0 && req.secure) res.setHeader('Strict-Transport-Security', `max-age=${hsts}`);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      next();
    });

    app.get('/api/health', (_req, res) => {
      const broker = this.opts.brokerStatus();
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        status: broker.connected ? 'ok' : 'degraded',
        version: VERSION,
        uptimeSeconds: Math.round((this.opts.clock.now() - this.startedAt) / 1000),
        hostsOnline: store.hostsOnline(),
        hosts: store.hostCount(),
        samplesStored: store.countSamples(),
        broker,
        ...this.opts.health?.(),
      });
    });
    app.get('/metrics', (_req, res) => {
      res.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render());
    });
    app.use('/api', this.opts.api.router(this.opts.apiModules));
    for (const r of this.opts.routes ?? []) app.use(r.path, r.router);
    // The board's static files: open without auth (docs/api.md), the data behind them is not.
    mountBoard(app, loadBoardAssets());
    app.use((_req, res) => {
      res.status(404).json({ error: 'not_found', message: 'not found' });
    });
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      this.opts.log.warn({ err: err.message }, 'HTTP request failed');
      res.status(500).json({ error: 'internal', message: 'internal error' });
    });
    return app;
  }

  async start(): Promise<void> {
    const app = this.app();
    const tls = this.opts.tls;
    let server: Server;
    if (tls) {
      let cert: Buffer, key: Buffer;
      try {
        cert = readFileSync(tls.certFile);
        key = readFileSync(tls.keyFile);
      } catch (err) {
        throw new Error(`http.tls: cannot read the certificate or key file: ${(err as Error).message}`, { cause: err });
      }
      server = createHttpsServer({ cert, key, minVersion: 'TLSv1.2' }, app);
    } else server = createHttpServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
      this.server = server;
    });
    this.opts.log.info({ host: this.opts.host, port: this.port(), tls: !!tls }, tls ? 'HTTPS listening' : 'HTTP listening');
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
