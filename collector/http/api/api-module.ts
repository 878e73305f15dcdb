import type { Request, RequestHandler, Response, Router } from 'express';
import type { AuditEntry } from '../../audit/audit-log.js';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Clock } from '../../../common/clock.js';

/**
 * Roles of API tokens and board users (issue 6, issue 14 item 7): `read` sees, `operator`
 * also creates and expires silences, `admin` also manages tokens, reads the audit log and
 * sends test notifications.
 */
export type Role = 'read' | 'operator' | 'admin';
export const ROLES = ['read', 'operator', 'admin'] as const;

/** What the API core gives each route module. */
export interface ApiContext {
  clock: Clock;
  log: Logger;
  /**
   * Middleware: 401 without valid credentials, 403 when the role is too low or, with
   * `allSites`, when the principal is scoped to some sites. Site by site, routes ask
   * `accessOf(res)` (auth/site-access.ts).
   */
  requireRole(role: Role, opts?: { allSites?: boolean }): RequestHandler;
  /** Append to the audit log as the request's principal, from its client address. */
  audit(req: Request, res: Response, entry: Pick<AuditEntry, 'action' | 'target' | 'details'>): void;
  /**
   * Parse `value` with `schema`; on failure send `400 {error:'bad_request', reasons:[…]}`
   * (one `path: message` per issue) and return undefined.
   */
  parse<T>(schema: ZodType<T>, value: unknown, res: import('express').Response): T | undefined;
}

/**
 * A family of REST routes (one file each, one registry line in the HTTP server, house
 * style §2): sites/hosts, history, events, incidents, alerts, silences, reports. Mounted
 * under `/api`; every route validates its input with zod and answers JSON, and every route
 * that answers about sites asks `accessOf(res)` (auth/site-access.ts) for the principal's
 * scope (issue 14 item 7): 403 for a site outside it, lists filtered to it.
 */
export interface ApiModule {
  readonly name: string;
  mount(router: Router, ctx: ApiContext): void;
}
