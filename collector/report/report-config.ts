import { z } from 'zod';
import { CostRulesSchema, PriceListSchema } from './price-list.js';

/**
 * Collector config section `report` (issue 7): the monthly report job. By default it runs
 * at 07:00 on the 1st of each month, Vietnam time, and sends each site's report of the
 * month before (HTML by e-mail, a short summary by Zalo) through the notifiers.
 */
export const ReportConfigSchema = z
  .object({
    schedule: z
      .object({
        enabled: z.boolean().default(true),
        /** Day of the month and local time the report for the previous month is due. */
        dayOfMonth: z.number().int().min(1).max(28).default(1),
        time: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM')
          .default('07:00'),
        timezone: z.string().default('Asia/Ho_Chi_Minh'),
        /** Sites to send; empty = every site known to the store. */
        sites: z.array(z.string()).max(10_000).default([]),
        lang: z.enum(['vi', 'en']).default('vi'),
      })
      .prefault({}),
    /** Unit prices (VND) of the cost estimate (issue 17 point 3), collector/report/price-list.ts. */
    prices: PriceListSchema,
    /** Evidence thresholds of the cost estimate's recommendations. */
    costRules: CostRulesSchema,
  })
  .prefault({});
export type ReportConfig = z.output<typeof ReportConfigSchema>;
