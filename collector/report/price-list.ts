import { z } from 'zod';

/**
 * Config sections `report.prices` and `report.costRules` (issue 17 point 3): the unit prices
 * that turn the report's upgrade and replacement recommendations into an estimated cost in
 * VND, and the thresholds of the evidence each recommendation needs.
 *
 * The default prices are plausible retail/procurement figures for Vietnam in 2026 (an SSD
 * and a RAM module at shop price, a business desktop with Windows 11 Pro at procurement
 * price, a 1 kVA line-interactive UPS). They are placeholders: each province sets its own
 * from its quotations or its price framework before a report is attached to a budget
 * request; the report prints the prices it used.
 */

/** A price in đồng: a whole number, at most 10 billion (a typo of a few zeros is caught). */
const vnd = z.number().int('must be a whole number of đồng').min(0, 'must not be negative').max(10_000_000_000, 'must be at most 10,000,000,000 đồng');

export const DEFAULT_PRICES = {
  /** SATA SSD for an office PC (replaces a failing disk or a slow HDD; the system is copied over). */
  ssd: { sizeGb: 240, vnd: 850_000 },
  /** One DDR4 desktop module. */
  ramModule: { sizeGb: 8, vnd: 950_000 },
  /** A business desktop (Core i5 class, 16 GB, SSD 512 GB, Windows 11 Pro, monitor), procurement price. */
  newPc: { vnd: 16_500_000 },
  /** A 1 kVA line-interactive UPS, one per PC. */
  ups: { vnd: 2_600_000 },
} as const;

export const PriceListSchema = z
  .object({
    ssd: z
      .object({ sizeGb: z.number().int().min(16).max(16_384).default(DEFAULT_PRICES.ssd.sizeGb), vnd: vnd.default(DEFAULT_PRICES.ssd.vnd) })

      .prefault({}),
    ramModule: z
      .object({ sizeGb: z.number().int().min(1).max(256).default(DEFAULT_PRICES.ramModule.sizeGb), vnd: vnd.default(DEFAULT_PRICES.ramModule.vnd) })

      .prefault({}),
    newPc: z.object({ vnd: vnd.default(DEFAULT_PRICES.newPc.vnd) }).prefault({}),
    ups: z.object({ vnd: vnd.default(DEFAULT_PRICES.ups.vnd) }).prefault({}),
  })

  .prefault({});
export type PriceList = z.output<typeof PriceListSchema>;

export const CostRulesSchema = z
  .object({
    /**
     * RAM is proposed for a PC under 8 GB that lacked memory (paging or PSI over the limits
     * below, or memory ≥ the saturation threshold) for at least this share of its measured
     * working time, %.
     */
    memShortagePct: z.number().min(0.1).max(100).default(10),
    /** Memory shortage: pages swapped/paged in + out per second at or above this (1-minute mean). */
    pagingPerSec: z.number().min(1).max(1_000_000).default(200),
    /** … or Linux PSI memory `some` at or above this, %. */
    psiPct: z.number().min(0.1).max(100).default(10),
    /** An HDD is replaced by an SSD when a disk was ≥ the saturation threshold busy this many working hours. */
    diskBusyHours: z.number().min(0.1).max(744).default(5),
    /** UPS for a site with at least this many power cuts in working hours in the month. */
    upsPowerCuts: z.number().int().min(1).max(1000).default(2),
  })

  .prefault({});
export type CostRules = z.output<typeof CostRulesSchema>;

export const DEFAULT_PRICE_LIST: PriceList = PriceListSchema.parse({});
export const DEFAULT_COST_RULES: CostRules = CostRulesSchema.parse({});
