import { z } from 'zod';
import { both } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Repeated freezes or crashes of one PC (issue 4): agent `freeze` events and `outage`
 * events caused by a crash or a hang + reset, at least `minCount` in `windowHours`.
 * (Power losses are a site matter: frequent_power_cuts.)
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 0, schedule: 'always', severity: 'warning', repeatMinutes: 24 * 60 }),
    minCount: z.number().int().min(1).max(1000).default(3),
    windowHours: z
      .number()
      .min(1)
      .max(24 * 7)
      .default(24),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

export const freezesAndCrashes: AlertRule<Params> = {
  name: 'freezes_and_crashes',
  description: { vi: 'Máy treo hoặc khởi động lại bất thường nhiều lần', en: 'Repeated freezes or crashes' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    const from = ctx.now - p.windowHours * 3_600_000;
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const evs = ctx.events(site.site, h.host, from);
        const freezes = evs.filter((e) => e.type === 'freeze').length;
        const crashes = evs.filter((e) => e.type === 'outage' && (e.details?.cause === 'crash' || e.details?.cause === 'hang_reset')).length;
        const n = freezes + crashes;
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: n >= p.minCount ? 'firing' : 'recovered',
            value: n,
            summary: both((lang) =>
              lang === 'vi'
                ? `Máy bị treo ${freezes} lần, khởi động lại bất thường ${crashes} lần trong ${p.windowHours} giờ`
                : `${freezes} freeze(s) and ${crashes} crash(es) in ${p.windowHours} h`,
            ),
            hint: {
              vi: 'mục "Vì sao máy treo" trên trang máy tính (ổ cứng, RAM, CPU, chương trình trước mỗi lần treo); nhiệt độ, quạt',
              en: 'the "Why this PC freezes" part of its page (disk, memory, CPU, program before each freeze); temperature, fans',
            },
          }),
        );
      }
    }
    return out;
  },
};
