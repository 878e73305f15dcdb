import { z } from 'zod';
import { both, clockText } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams } from './alert-rule.js';

/**
 * Host offline in working hours (issue 4): one PC stopped reporting while the centre is
 * open. Inhibited while its site has an open incident (the site alert says it once).
 */
const Params = z.object({ ...commonParams({ forSeconds: 300, schedule: 'working_hours', severity: 'warning' }) }).strict();
type Params = z.output<typeof Params> & CommonParams;

export const hostOffline: AlertRule<Params> = {
  name: 'host_offline',
  description: { vi: 'Máy tính mất kết nối trong giờ làm việc', en: 'PC offline in working hours' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      for (const h of site.hosts) {
        if (h.state === 'unknown') continue;
        // Switched off cleanly (closing time, planned shutdown): not offline (issue 13).
        const off = h.state === 'offline' && !!site.stopped?.has(h.host);
        const name = h.hostname && h.hostname !== h.host ? ` (${h.hostname})` : '';
        out.push(
          observe(this.name, p, {
            site: site.site,
            host: h.host,
            condition: h.state === 'offline' && !off ? 'firing' : 'recovered',
            value: h.lastSeen !== null ? Math.round((ctx.now - h.lastSeen) / 60_000) : null,
            since: h.state === 'offline' && !off ? (h.stateSince ?? undefined) : undefined,
            summary: both((lang) =>
              lang === 'vi'
                ? `Máy${name} mất kết nối${h.lastSeen ? `, dữ liệu cuối lúc ${clockText(h.lastSeen)}` : ''}`
                : `PC${name} offline${h.lastSeen ? `, last data at ${clockText(h.lastSeen)}` : ''}`,
            ),
            hint: { vi: 'máy có bật không, treo không, cáp mạng; dịch vụ Canh trên máy', en: 'is the PC on or hung, its network cable; the Canh service on it' },
          }),
        );
      }
    }
    return out;
  },
};
