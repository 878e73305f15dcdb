import { z } from 'zod';
import { sendError } from '../api-errors.js';
import type { ApiContext, ApiModule } from '../api-module.js';
import { CSRF_HEADER, cookieValue, principalOf, SESSION_COOKIE } from '../auth/authenticator.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import type { TokenStore } from '../auth/token-store.js';
import type { RequestHandler } from 'express';

const LoginBody = z.object({ token: z.string().min(1).max(200) }).strict();

export interface AuthRoutesDeps {
  tokens: TokenStore;
  /** Stricter limiter for login attempts. */
  loginLimit: RequestHandler;
  loginLimiter: RateLimiter;
  sessionIdleMs: number;
  secureCookie: boolean;
}

/** Board login: a token in, an HttpOnly SameSite=Strict session cookie out (docs/api.md "Auth"). */
export function authRoutes(deps: AuthRoutesDeps): ApiModule {
  return {
    name: 'auth',
    mount(router, ctx: ApiContext) {
      const cookie = (value: string, maxAgeS: number) => `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${deps.secureCookie ? '; Secure' : ''}`;

      router.post('/auth/login', deps.loginLimit, (req, res) => {
        const body = ctx.parse(LoginBody, req.body ?? {}, res);
        if (!body) return;
        const now = ctx.clock.now();
        const p = deps.tokens.verify(body.token.trim(), now);
        if (!p) {
          ctx.log.info({ client: req.socket.remoteAddress }, 'board login refused');
          return sendError(res, 'unauthorized', 'this token is not valid (mistyped or revoked)');
        }
        const session = deps.tokens.createSession(p.tokenId, now, deps.sessionIdleMs);
        res.setHeader('Set-Cookie', cookie(session, Math.round(deps.sessionIdleMs / 1000)));
        ctx.log.info({ tokenId: p.tokenId, role: p.role }, 'board login');
        res.json({ role: p.role, name: p.name });
      });

      // Logout works without the CSRF header's protection mattering: ending a session is harmless.
      router.post('/auth/logout', (req, res) => {
        const c = cookieValue(req.headers.cookie, SESSION_COOKIE);
        if (c !== undefined) deps.tokens.endSession(c);
        res.setHeader('Set-Cookie', cookie('', 0));
        res.status(204).end();
      });

      router.get('/auth/me', ctx.requireRole('read'), (_req, res) => {
        const p = principalOf(res)!;
        res.json({ role: p.role, name: p.name, via: p.via, csrfHeader: CSRF_HEADER });
      });
    },
  };
}
