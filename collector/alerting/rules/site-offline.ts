import { z } from 'zod';
import { both } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Site offline (issue 4): every known host of the site stopped reporting (Last Will or
 * keepalive lost): the centre lost power or its internet line. The outage collector later
 * tells which (site incident cause); this says it now. Site-level, never inhibited.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 10, schedule: 'always', severity: 'critical' }),
    /** Only sites with at least this many known hosts (one PC switched off is not a site). */
    minHosts: z.number().int().min(1).max(10_000).default(1),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

export const siteOffline: AlertRule<Params> = {
  name: 'site_offline',
  description: { vi: 'Cả điểm mất kết nối (mất điện hoặc mất mạng)', en: 'Whole site offline (power or network cut)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      const known = site.hosts.filter((h) => h.state !== 'unknown');
      if (known.length < p.minHosts) continue;
      const offline = known.filter((h) => h.state === 'offline');
      const all = offline.length === known.length;
      const since = all ? Math.min(...offline.map((h) => h.stateSince ?? ctx.now)) : undefined;
      const n = known.length;
      out.push(
        observe(this.name, p, {
          site: site.site,
          condition: all ? 'firing' : offline.length < known.length ? 'recovered' : 'hold',
          value: offline.length,
          since,
          summary: both((lang) =>
            lang === 'vi'
              ? `Cả điểm mất kết nối: ${offline.length}/${n} máy ngừng gửi dữ liệu (mất điện hoặc mất mạng)`
              : `Whole site offline: ${offline.length}/${n} PCs stopped reporting (power or network cut)`,
          ),
          hint: {
            vi: 'điện lưới ở trụ sở, bộ lưu điện (UPS), modem/router và đường truyền Internet',
            en: 'mains power at the office, the UPS, the modem/router and the internet line',
          },
        }),
      );
    }
    return out;
  },
};
