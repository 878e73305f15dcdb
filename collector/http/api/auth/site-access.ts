import type { Response } from 'express';
import { sendError } from '../api-errors.js';
import type { Principal, SiteScope } from './token-store.js';

/** A list's site filter: one site, a set of sites, or none (every site). */
export interface SiteFilter {
  site?: string | undefined;
  sites?: readonly string[] | undefined;
}

/**
 * What a principal may see (issue 14 item 7): every site (`sites` null, the province) or
 * the sites of its scope (a commune). Routes ask it for each site they answer about; lists
 * are filtered in the query, so paging stays right.
 */
export class SiteAccess {
  private readonly set: ReadonlySet<string> | null;

  constructor(readonly sites: SiteScope) {
    this.set = sites === null ? null : new Set(sites);
  }

  /** Every site (no scope). */
  get all(): boolean {
    return this.set === null;
  }

  allows(site: string): boolean {
    return this.set === null || this.set.has(site);
  }

  /**
   * The filter of a list for the `requested` site (a query parameter, optional): that site
   * when allowed, else the scope's sites; `forbidden` when the site is outside the scope.
   */
  filter(requested: string | undefined): SiteFilter | 'forbidden' {
    if (requested !== undefined) return this.allows(requested) ? { site: requested } : 'forbidden';
    return this.sites === null ? {} : { sites: this.sites };
  }
}

const ALL = new SiteAccess(null);
const NONE = new SiteAccess([]);

/** The access of the request's principal (none without one: requireRole runs first). */
export function accessOf(res: Response): SiteAccess {
  const p = res.locals.principal as Principal | undefined;
  if (!p) return NONE;
  if (p.sites === null) return ALL;
  let a = res.locals.siteAccess as SiteAccess | undefined;
  if (!a) res.locals.siteAccess = a = new SiteAccess(p.sites);
  return a;
}

/** 403: the site is outside the token's scope. */
export function forbidSite(res: Response, site: string): void {
  sendError(res, 'forbidden', `this token or login is not allowed to see site "${site}" (its scope is other sites)`);
}
