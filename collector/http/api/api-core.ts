import { gzipSync } from 'node:zlib';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../../../common/clock.js';
import type { MetricsRegistry } from '../../../common/metrics-registry.js';
import { parseOr400, sendError } from './api-errors.js';
import type { ApiContext, ApiModule } from './api-module.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { AuthThrottle } from './auth/auth-throttle.js';
import { Authenticator, clientAddress, principalOf } from './auth/authenticator.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { TokenStore } from './auth/token-store.js';
import { RateLimitedLog } from '../../../common/log.js';

export { clientAddress } from './auth/authenticator.js';

export interface ApiSettings {
  rateLimitPerMinute: number;
  loginPerMinute: number;
  rateLimitMaxClients: number;
  sessionIdleHours: number;
}

export interface ApiCoreOptions {
  tokens: TokenStore;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  settings: ApiSettings;
}

/** JSON answers larger than this are gzipped for clients that accept it. */
export const GZIP_MIN_BYTES = 2048;

/**
 * Gzip large JSON answers (a site page's 24-hour charts are ~200 KiB of JSON, ~30 KiB
 * gzipped: it matters on a commune's congested line to the province).
 */
function gzipJson(req: Request, res: Response, next: NextFunction): void {
  const accepts = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.setHeader('Vary', 'Accept-Encoding');
  if (!accepts) return next();
  res.locals.gzip = true;
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    const text = JSON.stringify(body);
    if (text === undefined || text.length < GZIP_MIN_BYTES) return json(body);
    sendJsonText(res, text);
    return res;
  };
  next();
}

/** Send JSON already serialised (e.g. built by SQLite), gzipped when the client accepts it. */
export function sendJsonText(res: Response, text: string): void {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (res.locals.gzip === true && text.length >= GZIP_MIN_BYTES) {
    res.setHeader('Content-Encoding', 'gzip');
    // Level 1: most of the gain for a fraction of the CPU of the default.
    res.send(gzipSync(text, { level: 1 }));
  } else res.send(text);
}

/**
 * The REST API core (docs/api.md): JSON bodies (small), per-address rate limiting,
 * authentication, the {@link ApiContext} each route family gets, JSON 404 and error
 * answers. Route families are {@link ApiModule}s, one file each, mounted in order.
 */
export class ApiCore {
  readonly context: ApiContext;
  readonly limiter: RateLimiter;
  readonly loginLimiter: RateLimiter;
  /** Failed authentications per address (board logins and bearer tokens), with growing bans (issue 14 item 6). */
  readonly authThrottle: AuthThrottle;
  readonly authenticator: Authenticator;
  private readonly limited;
  private readonly authFailures;
  private readonly authLog: RateLimitedLog;

  constructor(private readonly opts: ApiCoreOptions) {
    const s = opts.settings;
    this.authThrottle = new AuthThrottle({ perMinute: s.loginPerMinute, burst: Math.max(1, Math.ceil(s.loginPerMinute / 2)), maxClients: s.rateLimitMaxClients });
    this.authFailures = opts.metrics.counter('canh_http_auth_failures_total', 'Failed authentications, by kind (bearer, login).');
    const bans = opts.metrics.counter('canh_http_auth_bans_total', 'Client addresses banned for failed authentications.');
    opts.metrics.gauge('canh_http_auth_banned', 'Client addresses banned now for failed authentications.', (g) => g.set(this.authThrottle.banned(opts.clock.now())));
    opts.metrics.gauge('canh_audit_suppressed', 'Audit entries of untrusted origin (failed logins, bans) over the per-minute cap, not recorded.', (g) =>
      g.set(opts.audit.suppressed),
    );
    this.authLog = new RateLimitedLog(opts.log, 60_000, () => opts.clock.now());
    this.authenticator = new Authenticator(opts.tokens, opts.clock, s.sessionIdleHours * 3_600_000, this.authThrottle, {
      onBearerFailure: (client, ban) => {
        this.authFailures.inc({ kind: 'bearer' });
        if (ban) {
          bans.inc();
          this.onBan(client, ban.banMs, 'bearer');
        }
      },
      onBanned: () => this.limited.inc({ limiter: 'auth' }),
    });
    this.limiter = new RateLimiter(s.rateLimitPerMinute, Math.max(10, Math.ceil(s.rateLimitPerMinute / 5)), s.rateLimitMaxClients);
    this.loginLimiter = new RateLimiter(s.loginPerMinute, Math.max(1, Math.ceil(s.loginPerMinute / 2)), s.rateLimitMaxClients);
    this.limited = opts.metrics.counter('canh_http_rate_limited_total', 'Requests refused with 429, by limiter.');
    opts.metrics.gauge('canh_http_rate_limit_clients', 'Client addresses tracked by the rate limiters.', (g) => {
      g.set(this.limiter.size(), { limiter: 'api' });
      g.set(this.loginLimiter.size(), { limiter: 'login' });
      g.set(this.authThrottle.size(), { limiter: 'auth' });
    });
    opts.metrics.gauge('canh_http_rate_limit_evicted', 'Client addresses forgotten because the limiter map was full.', (g) => {
      g.set(this.limiter.evicted, { limiter: 'api' });
      g.set(this.loginLimiter.evicted, { limiter: 'login' });
      g.set(this.authThrottle.evicted, { limiter: 'auth' });
    });
    this.context = {
      clock: opts.clock,
      log: opts.log,
      requireRole: (role, o) => this.authenticator.requireRole(role, o),
      parse: (schema, value, res) => parseOr400(schema, value, res),
      audit: (req, res, entry) => {
        const p = principalOf(res);
        opts.audit.record(
          {
            ...entry,
            actor: p ? `token ${p.tokenId} ${JSON.stringify(p.name)}` : 'anonymous',
            actorTokenId: p?.tokenId ?? null,
            via: p?.via === 'session' ? 'board' : 'api',
            client: clientAddress(req),
          },
          opts.clock.now(),
        );
      },
    };
  }

  /** A board login with a wrong token: counted towards the address's ban (the login route calls it). */
  loginFailure(req: Request): void {
    const client = clientAddress(req);
    this.authFailures.inc({ kind: 'login' });
    const ban = this.authThrottle.failure(client, this.opts.clock.now());
    this.opts.audit.record({ action: 'login_failed', actor: 'anonymous', via: 'board', client }, this.opts.clock.now());
    if (ban) this.onBan(client, ban.banMs, 'login');
  }

  private onBan(client: string, banMs: number, kind: 'bearer' | 'login'): void {
    // One line per address and minute at most (untrusted input, house style §7).
    this.authLog.warn(`ban:${client}`, { client, banSeconds: Math.round(banMs / 1000), kind }, 'client address banned for failed authentications');
    this.opts.audit.record({ action: 'auth_ban', actor: 'collector', via: 'collector', client, details: { banSeconds: Math.round(banMs / 1000), kind } }, this.opts.clock.now());
  }

  /** Middleware: 429 with Retry-After while the client's address is banned for failed authentications. */
  authBan(): express.RequestHandler {
    return (req, res, next) => {
      const d = this.authThrottle.check(clientAddress(req), this.opts.clock.now());
      if (d.ok) return next();
      this.limited.inc({ limiter: 'auth' });
      res.setHeader('Retry-After', String(d.retryAfterSeconds));
      sendError(res, 'rate_limited', `too many failed authentications from this address; try again in ${d.retryAfterSeconds} s`);
    };
  }

  /** Middleware: 429 with Retry-After when `limiter` refuses this client. */
  rateLimit(limiter: RateLimiter, name: string): express.RequestHandler {
    return (req, res, next) => {
      const d = limiter.take(clientAddress(req), this.opts.clock.now());
      if (d.ok) return next();
      this.limited.inc({ limiter: name });
      res.setHeader('Retry-After', String(d.retryAfterSeconds));
      sendError(res, 'rate_limited', `too many requests from this address; try again in ${d.retryAfterSeconds} s`);
    };
  }

  /** The `/api` router with every module mounted. */
  router(modules: readonly ApiModule[]): Router {
    const router = express.Router();
    router.use((_req, res, next) => {
      // API answers are per-user and live: never cached by a browser or a proxy.
      res.setHeader('Cache-Control', 'no-store');
      next();
    });
    router.use(this.rateLimit(this.limiter, 'api'));
    router.use(gzipJson);
    router.use(express.json({ limit: '32kb', strict: true }));
    router.use(this.authenticator.authenticate());
    for (const m of modules) {
      const sub = express.Router();
      m.mount(sub, this.context);
      router.use(sub);
    }
    router.use((_req, res) => sendError(res, 'not_found', 'no such API route (see docs/api.md)'));
    router.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      if (err.type === 'entity.parse.failed') return sendError(res, 'bad_request', 'the body is not valid JSON', ['(body): invalid JSON']);
      if (err.type === 'entity.too.large') return sendError(res, 'bad_request', 'the body is too large (at most 32 KiB)', ['(body): too large']);
      if (err.status && err.status >= 400 && err.status < 500) return sendError(res, 'bad_request', err.message);
      this.opts.log.warn({ err: err.message }, 'API request failed');
      sendError(res, 'internal', 'internal error');
    });
    return router;
  }
}
