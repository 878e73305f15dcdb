import { z } from 'zod';
import type { SiteIncident } from '../../outage/outage-types.js';
import type { Lang, Localized } from '../alert-types.js';
import { both, exactDurationText, hhmm } from '../messages.js';
import { commonParams, observe, type AlertRule, type CommonParams, type RuleContext, type SiteView } from './alert-rule.js';

/**
 * Site offline (issues 4 and 13): every running host of the site stopped reporting (Last
 * Will, keepalive or silence): the centre lost power or its internet line. Hosts whose agent
 * stopped cleanly (closing time, planned shutdown) are switched off, not out: they are left
 * out, and a site whose PCs were all switched off never fires.
 *
 * The first message says what is known then ("đang xác định nguyên nhân") and what points to
 * power (a UPS on battery, the PCs dropping at once, the gateway silent in their last
 * samples). Once the hosts are back the alert holds until the outage collector classified
 * the site incident, and resolves with the cause, start, end, length, hosts and evidence.
 * Site-level, never inhibited.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 10, schedule: 'always', severity: 'critical' }),
    /** Only sites with at least this many running hosts (one PC switched off is not a site). */
    minHosts: z.number().int().min(1).max(10_000).default(1),
    /** Hosts dropping within this span count as "at once". */
    atOnceSeconds: z.number().min(1).max(3600).default(60),
    /** A site incident resolved this recently is the cause told in the resolved message. */
    causeLookbackMinutes: z.number().min(1).max(1440).default(30),
  })
  .strict();
type Params = z.output<typeof Params> & CommonParams;

const EVIDENCE_LOOKBACK_MS = 30 * 60_000;

/** What points to a power cut now, from the hosts' last data. */
function powerSigns(ctx: RuleContext, site: SiteView, hosts: readonly string[]): { ups: number; gatewaySilent: number } {
  let ups = 0;
  let gatewaySilent = 0;
  for (const host of hosts) {
    const power = ctx.events(site.site, host, ctx.now - EVIDENCE_LOOKBACK_MS).filter((e) => e.type === 'power_source');
    const last = power.sort((a, b) => a.t - b.t).at(-1);
    if (last && last.details?.source === 'battery') ups++;
    const sample = ctx.lastSample(site.site, host, ctx.now - EVIDENCE_LOOKBACK_MS);
    if (sample?.ping.some((p) => p.role === 'gateway' && p.lossPct >= 100)) gatewaySilent++;
  }
  return { ups, gatewaySilent };
}

function firingSummary(offline: number, n: number, spreadMs: number | null, signs: { ups: number; gatewaySilent: number }): Localized {
  return both((lang) => {
    const vi = lang === 'vi';
    const head = vi ? `Cả điểm mất kết nối: ${offline}/${n} máy ngừng gửi dữ liệu` : `Whole site offline: ${offline}/${n} PCs stopped reporting`;
    // Within the same second: "at once" says it all ("within 0 s" read oddly).
    const atOnce =
      spreadMs === null
        ? ''
        : spreadMs < 1000
          ? vi
            ? ' cùng lúc'
            : ' at once'
          : vi
            ? ` cùng lúc (trong ${exactDurationText(spreadMs, lang)})`
            : ` at once (within ${exactDurationText(spreadMs, lang)})`;
    const power: string[] = [];
    if (signs.ups) power.push(vi ? `UPS chạy bằng pin (${signs.ups} máy)` : `UPS on battery (${signs.ups} PC${signs.ups > 1 ? 's' : ''})`);
    if (signs.gatewaySilent)
      power.push(vi ? `cổng mạng (gateway) cũng im lặng (${signs.gatewaySilent} máy)` : `the gateway silent too (${signs.gatewaySilent} PC${signs.gatewaySilent > 1 ? 's' : ''})`);
    const tail = power.length
      ? vi
        ? `, đang xác định nguyên nhân. Dấu hiệu mất điện: ${power.join('; ')}`
        : `; cause being determined. Signs of a power cut: ${power.join('; ')}`
      : vi
        ? `, đang xác định nguyên nhân (mất điện hay mất mạng)`
        : `; cause being determined (power or network cut)`;
    return head + atOnce + tail;
  });
}

const hostList = (hosts: readonly string[]) => (hosts.length > 8 ? `${hosts.slice(0, 8).join(', ')}, …` : hosts.join(', '));

/** "Mất điện 08:14–08:16 (2 phút 30 giây), 5/5 máy khởi động lại: pc-1, …" from a resolved incident. */
export function incidentSummary(i: SiteIncident): Localized {
  const verdicts = (i.evidence.hosts ?? {}) as Record<string, { verdict?: string }>;
  const hosts = [...i.hosts].sort();
  const count = (v: string) => hosts.filter((h) => verdicts[h]?.verdict === v).length;
  const n = hosts.length;
  const f = (lang: Lang) => {
    const vi = lang === 'vi';
    const end = i.end ?? i.start;
    const span = `${hhmm(i.start)}–${hhmm(end)} (${exactDurationText(end - i.start, lang)})`;
    const power = count('power');
    const net = count('network');
    const rebooted = vi ? `${power}/${n} máy khởi động lại` : `${power}/${n} PCs restarted`;
    const buffered = vi ? `${net}/${n} máy vẫn chạy và gửi bù dữ liệu` : `${net}/${n} PCs kept running and sent the gap's data`;
    let text: string;
    switch (i.cause) {
      case 'power_cut':
        text = vi ? `Mất điện ${span}, ${rebooted}` : `Power cut ${span}, ${rebooted}`;
        break;
      case 'network_cut':
        text = vi ? `Mất mạng ${span}, ${buffered}` : `Network cut ${span}, ${buffered}`;
        break;
      case 'mixed':
        text = vi ? `Mất điện và mất mạng ${span}, ${rebooted}, ${buffered}` : `Power and network cut ${span}, ${rebooted}, ${buffered}`;
        break;
      default:
        text = vi ? `Cả điểm mất kết nối ${span}, chưa rõ nguyên nhân` : `Whole site offline ${span}, cause unknown`;
    }
    return `${text}: ${hostList(hosts)}`;
  };
  return { ...both(f), timed: true };
}

export const siteOffline: AlertRule<Params> = {
  name: 'site_offline',
  description: { vi: 'Cả điểm mất kết nối (mất điện hoặc mất mạng)', en: 'Whole site offline (power or network cut)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const out = [];
    for (const site of ctx.sites) {
      const stopped = site.stopped;
      // Switched off cleanly (issue 13): not out, and not in the denominator either.
      const known = site.hosts.filter((h) => h.state !== 'unknown' && !stopped?.has(h.host));
      const offline = known.filter((h) => h.state === 'offline');
      const n = known.length;
      const all = n >= p.minHosts && offline.length === n;
      const hint = {
        vi: 'điện lưới ở trụ sở, bộ lưu điện (UPS), modem/router và đường truyền Internet',
        en: 'mains power at the office, the UPS, the modem/router and the internet line',
      };
      if (all) {
        const starts = offline.map((h) => h.stateSince ?? ctx.now);
        const since = Math.min(...starts);
        const spread = Math.max(...starts) - since;
        const atOnce = offline.length >= 2 && spread <= p.atOnceSeconds * 1000 ? spread : null;
        const signs = powerSigns(
          ctx,
          site,
          offline.map((h) => h.host),
        );
        out.push(observe(this.name, p, { site: site.site, condition: 'firing', value: offline.length, since, summary: firingSummary(offline.length, n, atOnce, signs), hint }));
        continue;
      }
      // Back (or switched off): hold while the outage collector still classifies the incident.
      // (The incident ends by itself: the outage collector gives up on hosts that never return.)
      if (site.openIncidents.length > 0 && offline.length < n) {
        out.push(
          observe(this.name, p, {
            site: site.site,
            condition: 'hold',
            value: offline.length,
            summary: firingSummary(offline.length, n, null, { ups: 0, gatewaySilent: 0 }),
            hint,
          }),
        );
        continue;
      }
      const recent = ctx
        .incidents(site.site, ctx.now - p.causeLookbackMinutes * 60_000, ctx.now)
        .filter((i) => i.state === 'resolved' && i.end !== null)
        .sort((a, b) => b.id - a.id)[0];
      out.push(
        observe(this.name, p, {
          site: site.site,
          condition: 'recovered',
          value: offline.length,
          summary: firingSummary(offline.length, n, null, { ups: 0, gatewaySilent: 0 }),
          hint,
          resolvedSummary: recent ? incidentSummary(recent) : undefined,
        }),
      );
    }
    return out;
  },
};
