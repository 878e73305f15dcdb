import type { RequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Clock } from '../../../common/clock.js';

/** Roles of API tokens and board users (issue 6). */
export type Role = 'read' | 'admin';

/** What the API core gives each route module. */
export interface ApiContext {
  clock: Clock;
  log: Logger;
  /** Middleware: 401 without valid credentials, 403 when the role is too low. */
  requireRole(role: Role): RequestHandler;
  /**
   * Parse `value` with `schema`; on failure send `400 {error:'bad_request', reasons:[…]}`
   * (one `path: message` per issue) and return undefined.
   */
  parse<T>(schema: ZodType<T>, value: unknown, res: import('express').Response): T | undefined;
}

/**
 * A family of REST routes (one file each, one registry line in the HTTP server, house
 * style §2): sites/hosts, history, events, incidents, alerts, silences, reports. Mounted
 * under `/api`; every route validates its input with zod and answers JSON.
 */
export interface ApiModule {
  readonly name: string;
  mount(router: Router, ctx: ApiContext): void;
}
