import { z } from 'zod';
import { both, clockText, durationText } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Network cut (issue 4): the site lost its internet or LAN for at least `minMinutes`,
 * learnt when the hosts come back (site incident with cause network_cut, or agents'
 * `network_cut` events of scope lan/wan). Fires for `lookbackMinutes` after the cut ended
 * so the officer hears of it once, with its length; while it lasts, site_offline speaks.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 0, schedule: 'always', severity: 'warning' }),
    minMinutes: z
      .number()
      .min(0)
      .max(7 * 1440)
      .default(5),
    lookbackMinutes: z
      .number()
      .min(1)
      .max(7 * 1440)
      .default(60),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

export const networkCut: AlertRule<Params> = {
  name: 'network_cut',
  description: { vi: 'Mất mạng (Internet hoặc mạng nội bộ)', en: 'Network cut (internet or LAN)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    const from = ctx.now - p.lookbackMinutes * 60_000;
    const minMs = p.minMinutes * 60_000;
    for (const site of ctx.sites) {
      const cuts: Array<{ start: number; end: number; scope: string; hosts: number }> = [];
      for (const i of ctx.incidents(site.site, from, ctx.now)) {
        if (i.cause === 'network_cut' && i.end !== null && i.end >= from && i.end - i.start >= minMs)
          cuts.push({ start: i.start, end: i.end, scope: 'site', hosts: i.hosts.length });
      }
      for (const h of site.hosts) {
        for (const e of ctx.events(site.site, h.host, from - 7 * 86_400_000)) {
          const scope = String(e.details?.scope ?? 'unknown');
          if (e.type !== 'network_cut' || (scope !== 'lan' && scope !== 'wan') || e.start === undefined || e.end === undefined) continue;
          if (e.end >= from && e.end - e.start >= minMs) cuts.push({ start: e.start, end: e.end, scope, hosts: 1 });
        }
      }
      const longest = cuts.sort((a, b) => b.end - b.start - (a.end - a.start))[0];
      out.push(
        observe(this.name, p, {
          site: site.site,
          condition: longest ? 'firing' : 'recovered',
          value: longest ? Math.round((longest.end - longest.start) / 60_000) : 0,
          since: longest?.start,
          summary: both((lang) => {
            if (!longest) return lang === 'vi' ? 'Mất mạng' : 'Network cut';
            const what = longest.scope === 'lan' ? (lang === 'vi' ? 'mạng nội bộ' : 'LAN') : lang === 'vi' ? 'Internet' : 'internet';
            const len = durationText(longest.end - longest.start, lang);
            return lang === 'vi'
              ? `Mất ${what} ${len} (${clockText(longest.start)} → ${clockText(longest.end)}), ${cuts.length} lần trong ${p.lookbackMinutes} phút`
              : `Lost the ${what} for ${len} (${clockText(longest.start)} → ${clockText(longest.end)}), ${cuts.length} time(s) in ${p.lookbackMinutes} min`;
          }),
          hint: {
            vi: 'modem/router, cáp từ nhà mạng, switch; hỏi nhà mạng về sự cố khu vực',
            en: 'the modem/router, the ISP cable, switches; ask the ISP about an area outage',
          },
        }),
      );
    }
    return out;
  },
};
