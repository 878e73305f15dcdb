import { z } from 'zod';
import { both, num } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * TTHC portal unreachable from the site (issue 4): the HTTP probes of one configured
 * portal failed from the site's PCs (share of attempts over `windowSeconds`), in working
 * hours. One alert per (site, portal).
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'critical', inhibitedByIncident: true }),
    windowSeconds: z.number().min(10).max(3600).default(300),
    failPct: z.number().min(1).max(100).default(80),
    recoveryPct: z.number().min(0).max(100).default(20),
    minAttempts: z.number().int().min(1).max(10_000).default(3),
  })
  .strict()
  .refine((p) => p.recoveryPct < p.failPct, { message: 'recoveryPct must be below failPct', path: ['recoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

export const portalUnreachable: AlertRule<Params> = {
  name: 'portal_unreachable',
  description: { vi: 'Không truy cập được cổng dịch vụ công (TTHC)', en: 'TTHC portal unreachable from the site' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    const from = ctx.now - p.windowSeconds * 1000;
    for (const site of ctx.sites) {
      const probes = new Map<string, { n: number; failed: number; errors: Map<string, number> }>();
      for (const h of site.hosts) {
        ctx.window(site.site, h.host, from).forEachHttp((name, ok, _totalMs, error) => {
          let e = probes.get(name);
          if (!e) probes.set(name, (e = { n: 0, failed: 0, errors: new Map() }));
          e.n++;
          if (!ok) {
            e.failed++;
            const err = error ?? 'error';
            e.errors.set(err, (e.errors.get(err) ?? 0) + 1);
          }
        });
      }
      for (const [name, e] of probes) {
        if (e.n < p.minAttempts) continue;
        const pct = (100 * e.failed) / e.n;
        const topError = [...e.errors.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
        out.push(
          observe(this.name, p, {
            site: site.site,
            key: name,
            condition: pct >= p.failPct ? 'firing' : pct <= p.recoveryPct ? 'recovered' : 'hold',
            value: Number(pct.toFixed(1)),
            summary: both((lang) =>
              lang === 'vi'
                ? `Không vào được cổng ${name}: ${num(pct, lang, 0)}% lần thử lỗi${topError ? ` (${topError})` : ''}`
                : `Portal ${name} unreachable: ${num(pct, lang, 0)}% of attempts failed${topError ? ` (${topError})` : ''}`,
            ),
            hint: {
              vi: 'mở thử cổng trên trình duyệt; DNS của modem; hỏi Sở xem cổng có đang bảo trì không',
              en: 'open the portal in a browser; the modem DNS; ask the province whether it is down for maintenance',
            },
          }),
        );
      }
    }
    return out;
  },
};
