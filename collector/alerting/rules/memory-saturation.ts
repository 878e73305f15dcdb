import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/** Sustained memory saturation (issue 4): mean memory use over `windowSeconds` above `usedPct`, in working hours. */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'warning' }),
    windowSeconds: z.number().min(10).max(3600).default(600),
    usedPct: z.number().min(1).max(100).default(90),
    recoveryPct: z.number().min(1).max(100).default(80),
  })
  .strict()
  .refine((p) => p.recoveryPct < p.usedPct, { message: 'recoveryPct must be below usedPct', path: ['recoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

export const memorySaturation: AlertRule<Params> = {
  name: 'memory_saturation',
  description: { vi: 'Bộ nhớ (RAM) đầy kéo dài', en: 'Sustained memory saturation' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const mem = ctx.window(site.site, h.host, ctx.now - p.windowSeconds * 1000).mean('memPct');
        if (mem === null) continue;
        const min = Math.round(p.windowSeconds / 60);
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: mem >= p.usedPct ? 'firing' : mem < p.recoveryPct ? 'recovered' : 'hold',
            value: Number(mem.toFixed(1)),
            summary: both((lang) =>
              lang === 'vi'
                ? `RAM dùng ${num(mem, lang, 0)}% trung bình ${min} phút (ngưỡng ${p.usedPct}%)`
                : `Memory ${num(mem, lang, 0)}% used over ${min} min (limit ${p.usedPct}%)`,
            ),
            hint: { vi: 'đóng bớt tab trình duyệt và chương trình; cân nhắc nâng RAM', en: 'close browser tabs and programs; consider more RAM' },
          }),
        );
      }
    }
    return out;
  },
};
