import { z } from 'zod';

/**
 * The province digest (issue 12 item 6) as the notifier outbox carries it: built by the
 * alert service (collector/alerting/province-wave.ts) when many sites drop together, on top
 * of the per-site messages. `phase` `wave`: the first message (how many sites of how many,
 * which, the causes known so far, the span of the drops); `summary`: the one update when most
 * of them are back or the wave is old (how many came back, after how long). Rendered per
 * channel language by render.ts; the webhook gets it as structured JSON too.
 */

export const PROVINCE_SITE_CAUSES = ['power_cut', 'network_cut', 'mixed', 'unknown', 'pending'] as const;
/** A site's cause as known now: an incident's classification, or `pending` while it is being decided. */
export type ProvinceSiteCause = (typeof PROVINCE_SITE_CAUSES)[number];

export const ProvinceDigestSiteSchema = z.object({
  site: z.string().min(1).max(128),
  name: z.string().max(200),
  /** When the site dropped. */
  since: z.number(),
  /** When it was seen back; null while down. */
  backAt: z.number().nullable(),
  cause: z.enum(PROVINCE_SITE_CAUSES),
});
export type ProvinceDigestSite = z.infer<typeof ProvinceDigestSiteSchema>;

const count = z.number().int().min(0);
export const ProvinceCauseCountsSchema = z.object({ power_cut: count, network_cut: count, mixed: count, unknown: count, pending: count });
export type ProvinceCauseCounts = z.infer<typeof ProvinceCauseCountsSchema>;

export const ProvinceDigestSchema = z.object({
  /** `province:<waveStart>` (first message) or `province:<waveStart>:summary`: once per wave, also across restarts. */
  id: z.string().min(1).max(256),
  phase: z.enum(['wave', 'summary']),
  createdAt: z.number(),
  /** The wave's first drop, epoch ms. */
  waveStart: z.number(),
  /** The latest drop counted in the wave. */
  lastDrop: z.number(),
  /** Sites with agents (the denominator). */
  sitesTotal: count,
  /** Sites of the wave (listed or not). */
  sitesInWave: count,
  /** Of them, back now. */
  sitesBack: count,
  /** Causes of the wave's sites (listed or not), as known now. */
  causes: ProvinceCauseCountsSchema,
  /** Median and longest outage of the sites back, ms; null when none is back. */
  backMedianMs: z.number().min(0).nullable(),
  backLongestMs: z.number().min(0).nullable(),
  /** The wave's sites, by drop time (bounded; texts show the first ~20). */
  sites: z.array(ProvinceDigestSiteSchema).max(500),
  /** The board's address, quoted as the place to look (optional). */
  boardUrl: z.string().max(500).optional(),
});
export type ProvinceDigest = z.infer<typeof ProvinceDigestSchema>;
