import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/** Sustained CPU saturation (issue 4): mean CPU over `windowSeconds` above `usagePct`, in working hours. */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'warning' }),
    windowSeconds: z.number().min(10).max(3600).default(600),
    usagePct: z.number().min(1).max(100).default(90),
    recoveryPct: z.number().min(1).max(100).default(75),
  })
  .strict()
  .refine((p) => p.recoveryPct < p.usagePct, { message: 'recoveryPct must be below usagePct', path: ['recoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

export const cpuSaturation: AlertRule<Params> = {
  name: 'cpu_saturation',
  description: { vi: 'CPU quá tải kéo dài', en: 'Sustained CPU saturation' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const cpu = ctx.window(site.site, h.host, ctx.now - p.windowSeconds * 1000).mean('cpu');
        if (cpu === null) continue;
        const min = Math.round(p.windowSeconds / 60);
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: cpu >= p.usagePct ? 'firing' : cpu < p.recoveryPct ? 'recovered' : 'hold',
            value: Number(cpu.toFixed(1)),
            summary: both((lang) =>
              lang === 'vi'
                ? `CPU bận ${num(cpu, lang, 0)}% trung bình ${min} phút (ngưỡng ${p.usagePct}%)`
                : `CPU ${num(cpu, lang, 0)}% busy over ${min} min (limit ${p.usagePct}%)`,
            ),
            hint: {
              vi: 'chương trình nào chiếm CPU (Task Manager); virus; máy quá cũ cần nâng cấp',
              en: 'which program uses the CPU (Task Manager); malware; an old PC due for upgrade',
            },
          }),
        );
      }
    }
    return out;
  },
};
