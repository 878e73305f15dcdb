import { z } from 'zod';
import { both, clockText, durationText } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Frequent power cuts (issue 4): at least `minCount` site power incidents in
 * `windowDays`, or one longer than `longMinutes` that hit working hours in the last
 * `longLookbackHours`. From the outage collector's site incidents (cause power_cut).
 * Repeats once a day while it holds: it is evidence for the commune's UPS request.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 0, schedule: 'always', severity: 'warning', repeatMinutes: 24 * 60 }),
    minCount: z.number().int().min(1).max(1000).default(3),
    windowDays: z.number().min(1).max(90).default(7),
    longMinutes: z
      .number()
      .min(1)
      .max(7 * 1440)
      .default(15),
    longLookbackHours: z
      .number()
      .min(1)
      .max(24 * 30)
      .default(24),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

export const frequentPowerCuts: AlertRule<Params> = {
  name: 'frequent_power_cuts',
  description: { vi: 'Mất điện thường xuyên hoặc kéo dài trong giờ làm việc', en: 'Frequent power cuts, or a long one in working hours' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      const from = ctx.now - p.windowDays * 86_400_000;
      const cuts = ctx.incidents(site.site, from, ctx.now).filter((i) => i.cause === 'power_cut');
      const longFrom = ctx.now - p.longLookbackHours * 3_600_000;
      const long = cuts.filter((i) => {
        const end = i.end ?? ctx.now;
        return end >= longFrom && end - i.start >= p.longMinutes * 60_000 && ctx.workingMs(site.site, i.start, end) > 0;
      });
      const frequent = cuts.length >= p.minCount;
      const firing = frequent || long.length > 0;
      const longest = long.reduce((m, i) => Math.max(m, (i.end ?? ctx.now) - i.start), 0);
      const last = cuts.reduce((m, i) => Math.max(m, i.start), 0);
      out.push(
        observe(this.name, p, {
          site: site.site,
          condition: firing ? 'firing' : 'recovered',
          value: cuts.length,
          since: cuts.length ? Math.min(...cuts.map((i) => i.start)) : undefined,
          summary: both((lang) => {
            const parts: string[] = [];
            if (lang === 'vi') {
              parts.push(`Mất điện ${cuts.length} lần trong ${p.windowDays} ngày`);
              if (long.length) parts.push(`có lần kéo dài ${durationText(longest, lang)} trong giờ làm việc`);
              if (last) parts.push(`gần nhất lúc ${clockText(last)}`);
            } else {
              parts.push(`${cuts.length} power cut${cuts.length === 1 ? '' : 's'} in ${p.windowDays} days`);
              if (long.length) parts.push(`one lasted ${durationText(longest, lang)} in working hours`);
              if (last) parts.push(`last at ${clockText(last)}`);
            }
            return parts.join(', ');
          }),
          hint: {
            vi: 'bộ lưu điện (UPS) cho máy tính và modem; báo điện lực; dùng báo cáo tháng để đề xuất trang bị',
            en: 'UPS for the PCs and the modem; report to the power company; use the monthly report to request equipment',
          },
        }),
      );
    }
    return out;
  },
};
