import { z } from 'zod';
import { ID_PATTERN } from '../../contract/topics.js';
import { WorkingHoursSchema, type WorkingHours } from './schedule/working-hours.js';

/**
 * Per-site settings (collector config `sites.<id>`, falling back to `siteDefaults`):
 * display name, working hours, the contracted internet line speed. Sites need no entry:
 * a site exists as soon as one of its agents reports.
 */
export const SiteSettingsSchema = z
  .object({
    /** Display name, e.g. "UBND xã Tân Phú" (free text, shown escaped). */
    name: z.string().max(200).optional(),
    workingHours: WorkingHoursSchema,
    /** Contracted line speed, Mbit/s (download); for "line usage vs contract". */
    lineMbps: z.number().positive().max(100_000).optional(),
    /** Contracted upload speed, Mbit/s, when different. */
    lineUpMbps: z.number().positive().max(100_000).optional(),
  })
  .prefault({});
export type SiteSettings = z.output<typeof SiteSettingsSchema>;

export const SitesSchema = z.record(z.string().regex(ID_PATTERN, 'site ids are lowercase slugs [a-z0-9_-]'), SiteSettingsSchema).default({});

export interface SiteDirectory {
  /** Settings of `site` (its own entry, else the defaults). */
  get(site: string): SiteSettings & { name: string };
  workingHours(site: string): WorkingHours;
}

export function siteDirectory(sites: Record<string, SiteSettings>, defaults: SiteSettings): SiteDirectory {
  return {
    get(site) {
      const s = sites[site] ?? defaults;
      return { ...s, name: s.name ?? site };
    },
    workingHours(site) {
      return (sites[site] ?? defaults).workingHours;
    },
  };
}
