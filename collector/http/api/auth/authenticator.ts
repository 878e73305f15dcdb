import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Clock } from '../../../../common/clock.js';
import { sendError } from '../api-errors.js';
import type { Role } from '../api-module.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { Principal, TokenStore } from './token-store.js';

export const SESSION_COOKIE = 'canh_session';
/** Header a cookie-authenticated mutation must carry (CSRF: a cross-site form cannot set it). */
export const CSRF_HEADER = 'x-canh-request';

const RANK: Record<Role, number> = { read: 1, operator: 2, admin: 3 };

/** Value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The principal `authenticate` found for this request, if any. */
export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** The address a request came from: the socket's, or the proxy header's behind a trusted proxy (`http.trustedProxies`, Express `trust proxy`). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Need no CSRF header even with a session cookie: login needs a token anyway, logout is harmless. */
const CSRF_EXEMPT = new Set(['/auth/login', '/auth/logout']);

export interface AuthenticatorHooks {
  /** A bearer token was refused (counted, throttled, rate-limited log). */
  onBearerFailure?: (client: string, banned: { banMs: number } | undefined) => void;
  /** A request was refused because its address is banned. */
  onBanned?: (client: string) => void;
}

/**
 * Who is asking: `Authorization: Bearer canh_…` (scripts, Grafana) or the board's session
 * cookie. Bad credentials are not an error here (the route's requireRole decides); a
 * cookie-authenticated mutation without the CSRF header is refused at once. A bearer token
 * that is not valid counts towards the address's failed-authentication throttle (issue 14
 * item 6: guessing tokens on `/api/*` escaped the login limiter), and an address banned by
 * it gets 429 for any bearer token, before the token is looked at.
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenStore,
    private readonly clock: Clock,
    private readonly sessionIdleMs: number,
    private readonly throttle?: AuthThrottle,
    private readonly hooks: AuthenticatorHooks = {},
  ) {}

  authenticate(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const now = this.clock.now();
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const client = clientAddress(req);
        if (this.throttle) {
          const d = this.throttle.check(client, now);
          if (!d.ok) {
            this.hooks.onBanned?.(client);
            res.setHeader('Retry-After', String(d.retryAfterSeconds));
            return sendError(res, 'rate_limited', `too many failed authentications from this address; try again in ${d.retryAfterSeconds} s`);
          }
        }
        const m = /^Bearer\s+(\S+)$/i.exec(auth);
        const p = m ? this.tokens.verify(m[1]!, now) : undefined;
        res.locals.authFailed = !p;
        if (p) res.locals.principal = p;
        else this.hooks.onBearerFailure?.(client, this.throttle?.failure(client, now));
        return next();
      }
      const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (cookie !== undefined) {
        // A stale cookie is not guessing (the board keeps sending it until the user logs in again): not throttled.
        const p = this.tokens.session(cookie, now, this.sessionIdleMs);
        if (p && !SAFE_METHODS.has(req.method) && !CSRF_EXEMPT.has(req.path) && req.headers[CSRF_HEADER] !== '1') {
          return sendError(res, 'forbidden', `requests with the board's session cookie must carry the header X-Canh-Request: 1`);
        }
        res.locals.authFailed = !p;
        if (p) res.locals.principal = p;
      }
      next();
    };
  }

  /**
   * 401 without valid credentials, 403 when the role is too low, or (`allSites`) when the
   * principal is scoped to some sites: tokens, the audit log and test notifications are the
   * province's (a commune admin could otherwise mint itself a token for every site).
   */
  requireRole(role: Role, opts: { allSites?: boolean } = {}): RequestHandler {
    return (_req, res, next) => {
      const p = principalOf(res);
      if (!p) {
        const failed = res.locals.authFailed === true;
        return sendError(
          res,
          'unauthorized',
          failed
            ? 'the token or session is not valid (revoked, expired or mistyped): log in again'
            : 'authentication required: Authorization: Bearer <token>, or log in on the board',
        );
      }
      if (RANK[p.role] < RANK[role]) return sendError(res, 'forbidden', `this needs the ${role} role; the token "${p.name}" has ${p.role}`);
      if (opts.allSites && p.sites !== null) return sendError(res, 'forbidden', `this needs a token for every site; the token "${p.name}" is scoped to ${p.sites.join(', ')}`);
      next();
    };
  }
}
