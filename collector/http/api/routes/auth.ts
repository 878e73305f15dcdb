import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { sendError } from '../api-errors.js';
import type { ApiContext, ApiModule } from '../api-module.js';
import { clientAddress, CSRF_HEADER, cookieValue, principalOf, SESSION_COOKIE } from '../auth/authenticator.js';
import type { TokenStore } from '../auth/token-store.js';

const LoginBody = z.object({ token: z.string().min(1).max(200) }).strict();

export interface AuthRoutesDeps {
  tokens: TokenStore;
  /** Limiter of login attempts per address (all of them, good or bad). */
  loginLimit: RequestHandler;
  /** 429 while the address is banned for failed authentications (issue 14 item 6). */
  authBan: RequestHandler;
  /** A login with a wrong token: counts towards the address's ban, audited. */
  onLoginFailure: (req: Request) => void;
  sessionIdleMs: number;
  /** The `Secure` cookie flag: on TLS (`http.tls`), behind a TLS proxy, or `api.secureCookie`. */
  secureCookie: (req: Request) => boolean;
}

/** Board login: a token in, an HttpOnly SameSite=Strict session cookie out (docs/api.md "Auth"). */
export function authRoutes(deps: AuthRoutesDeps): ApiModule {
  return {
    name: 'auth',
    mount(router, ctx: ApiContext) {
      const cookie = (req: Request, value: string, maxAgeS: number) =>
        `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${deps.secureCookie(req) ? '; Secure' : ''}`;

      router.post('/auth/login', deps.authBan, deps.loginLimit, (req, res) => {
        const body = ctx.parse(LoginBody, req.body ?? {}, res);
        if (!body) return;
        const now = ctx.clock.now();
        const p = deps.tokens.verify(body.token.trim(), now);
        if (!p) {
          deps.onLoginFailure(req);
          return sendError(res, 'unauthorized', 'this token is not valid (mistyped or revoked)');
        }
        const session = deps.tokens.createSession(p.tokenId, now, deps.sessionIdleMs);
        res.setHeader('Set-Cookie', cookie(req, session, Math.round(deps.sessionIdleMs / 1000)));
        res.locals.principal = { ...p, via: 'session' };
        ctx.audit(req, res, { action: 'login', details: { role: p.role, sites: p.sites } });
        ctx.log.info({ tokenId: p.tokenId, role: p.role, client: clientAddress(req) }, 'board login');
        res.json({ role: p.role, name: p.name, sites: p.sites });
      });

      // Logout works without the CSRF header's protection mattering: ending a session is harmless.
      router.post('/auth/logout', (req, res) => {
        const c = cookieValue(req.headers.cookie, SESSION_COOKIE);
        if (c !== undefined) {
          if (principalOf(res)) ctx.audit(req, res, { action: 'logout' });
          deps.tokens.endSession(c);
        }
        res.setHeader('Set-Cookie', cookie(req, '', 0));
        res.status(204).end();
      });

      router.get('/auth/me', ctx.requireRole('read'), (_req, res) => {
        const p = principalOf(res)!;
        res.json({ role: p.role, name: p.name, sites: p.sites, via: p.via, csrfHeader: CSRF_HEADER });
      });
    },
  };
}
