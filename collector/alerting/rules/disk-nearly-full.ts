import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/** Disk nearly full (issue 4): the fullest disk of a host above `usedPct`; recovers below `recoveryPct`. */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'always', severity: 'warning', repeatMinutes: 24 * 60 }),
    usedPct: z.number().min(1).max(100).default(90),
    recoveryPct: z.number().min(1).max(100).default(85),
  })
  .strict()
  .refine((p) => p.recoveryPct < p.usedPct, { message: 'recoveryPct must be below usedPct', path: ['recoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

export const diskNearlyFull: AlertRule<Params> = {
  name: 'disk_nearly_full',
  description: { vi: 'Ổ đĩa sắp đầy', en: 'Disk nearly full' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        const last = ctx.lastSample(site.site, h.host, ctx.now - 30 * 60_000);
        if (!last || !last.disks.length) continue;
        const d = last.disks.reduce((a, b) => (b.usedPct > a.usedPct ? b : a));
        const gb = d.free / 1e9;
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: d.usedPct >= p.usedPct ? 'firing' : d.usedPct < p.recoveryPct ? 'recovered' : 'hold',
            value: Number(d.usedPct.toFixed(1)),
            summary: both((lang) =>
              lang === 'vi'
                ? `Ổ ${d.mount} đầy ${num(d.usedPct, lang, 0)}%, còn ${num(gb, lang)} GB`
                : `Disk ${d.mount} ${num(d.usedPct, lang, 0)}% full, ${num(gb, lang)} GB free`,
            ),
            hint: {
              vi: 'xoá tệp tạm, thùng rác, bản tải về cũ; chuyển hồ sơ quét sang ổ khác',
              en: 'delete temporary files, the recycle bin, old downloads; move scanned files elsewhere',
            },
          }),
        );
      }
    }
    return out;
  },
};
