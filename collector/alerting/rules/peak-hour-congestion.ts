import { z } from 'zod';
import type { Lang } from '../alert-types.js';
import { both, num } from '../messages.js';
import { commonParams, mean, observe, quantile, type AlertRule, type CommonParams, type RuleContext, type SiteView } from './alert-rule.js';

/**
 * Peak-hour network congestion per site (issue 4, DESIGN "Peak-hour congestion"): loss
 * and p95 latency to the gateway (LAN) and to the ISP/DNS targets, HTTP times of the TTHC
 * portals, and line usage against the contracted speed, over the last `windowSeconds` of
 * every host of the site, compared with the site's off-peak baseline AND absolute limits.
 * Sustained `forSeconds` (10 min) in working hours. One alert per site, naming the worst.
 * Recovery is stricter than firing (hysteresis): every figure back under its recovery limit.
 */
const Params = z
  .object({
    ...commonParams({ forSeconds: 600, schedule: 'working_hours', severity: 'warning', inhibitedByIncident: true }),
    windowSeconds: z.number().min(10).max(3600).default(120),
    /** Loss % that is congestion, when also `lossOverBaselinePct` above the off-peak loss. */
    lossPct: z.number().min(0.1).max(100).default(5),
    lossOverBaselinePct: z.number().min(0).max(100).default(3),
    lossRecoveryPct: z.number().min(0).max(100).default(2),
    /** p95 RTT is congestion above `latencyFactor` × off-peak p95 when also above `latencyMinMs`, or above `latencyLimitMs` whatever the baseline. */
    latencyFactor: z.number().min(1).max(100).default(3),
    latencyMinMs: z.number().min(0).default(50),
    latencyLimitMs: z.number().min(1).default(300),
    latencyRecoveryFactor: z.number().min(1).max(100).default(1.5),
    /** TTHC portal total time: congestion above `httpFactor` × off-peak or above `httpLimitMs`. */
    httpFactor: z.number().min(1).max(100).default(3),
    httpMinMs: z.number().min(0).default(1000),
    httpLimitMs: z.number().min(1).default(5000),
    /** Download use of the contracted line (site `lineMbps`), %. */
    lineUsagePct: z.number().min(1).max(1000).default(90),
    lineRecoveryPct: z.number().min(1).max(1000).default(75),
  })
  .strict()
  .refine((p) => p.lossRecoveryPct < p.lossPct, { message: 'lossRecoveryPct must be below lossPct', path: ['lossRecoveryPct'] })
  .refine((p) => p.lineRecoveryPct < p.lineUsagePct, { message: 'lineRecoveryPct must be below lineUsagePct', path: ['lineRecoveryPct'] });
type Params = z.output<typeof Params> & CommonParams;

interface Finding {
  /** 2 = beyond the firing limit, 1 = between recovery and firing, 0 = normal. */
  level: 0 | 1 | 2;
  score: number;
  text: (lang: Lang) => string;
  lossValue: number | null;
  kind: 'lan' | 'wan' | 'portal' | 'line';
}

type PingSeries = Map<string, { role: 'gateway' | 'configured'; loss: number[]; p95: number[] }>;

/** Every host's ping figures over the window, per target (one pass; pings and the recovered text share it). */
function pingsByTarget(ctx: RuleContext, site: SiteView, from: number): PingSeries {
  const byTarget: PingSeries = new Map();
  for (const h of site.hosts) {
    ctx.window(site.site, h.host, from).forEachPing((target, role, lossPct, rttP95) => {
      let e = byTarget.get(target);
      if (!e) byTarget.set(target, (e = { role, loss: [], p95: [] }));
      e.loss.push(lossPct);
      if (rttP95 !== null) e.p95.push(rttP95);
    });
  }
  return byTarget;
}

function pingFindings(ctx: RuleContext, site: SiteView, p: Params, byTarget: PingSeries): Finding[] {
  const out: Finding[] = [];
  for (const [target, e] of byTarget) {
    const base = ctx.baseline(site.site, `ping:${target}`);
    const loss = mean(e.loss) ?? 0;
    const p95 = quantile(e.p95, 0.95);
    const baseLoss = base?.loss ?? 0;
    const baseP95 = base?.latency ?? null;
    const kind = e.role === 'gateway' ? 'lan' : 'wan';
    const label = (lang: Lang) => (e.role === 'gateway' ? (lang === 'vi' ? `cổng mạng ${target}` : `gateway ${target}`) : target);
    const lossLevel = loss >= p.lossPct && loss >= baseLoss + p.lossOverBaselinePct ? 2 : loss >= p.lossRecoveryPct ? 1 : 0;
    let latLevel: 0 | 1 | 2 = 0;
    if (p95 !== null) {
      const overBase = baseP95 !== null && p95 >= p.latencyFactor * baseP95 && p95 >= p.latencyMinMs;
      if (overBase || p95 >= p.latencyLimitMs) latLevel = 2;
      else if ((baseP95 !== null && p95 >= p.latencyRecoveryFactor * baseP95 && p95 >= p.latencyMinMs) || p95 >= p.latencyLimitMs / p.latencyRecoveryFactor) latLevel = 1;
    }
    if (lossLevel) {
      out.push({
        level: lossLevel,
        score: loss,
        kind,
        lossValue: loss,
        text: (lang) =>
          lang === 'vi'
            ? `mất ${num(loss, lang)}% gói tới ${label(lang)} (bình thường ${num(baseLoss, lang)}%)`
            : `${num(loss, lang)}% packet loss to ${label(lang)} (normally ${num(baseLoss, lang)}%)`,
      });
    }
    if (latLevel && p95 !== null) {
      const normal = baseP95 !== null ? (lang: Lang) => (lang === 'vi' ? ` (bình thường ${num(baseP95, lang, 0)} ms)` : ` (normally ${num(baseP95, lang, 0)} ms)`) : () => '';
      out.push({
        level: latLevel,
        score: baseP95 ? p95 / baseP95 : p95 / p.latencyMinMs,
        kind,
        lossValue: null,
        text: (lang) => (lang === 'vi' ? `trễ p95 ${num(p95, lang, 0)} ms tới ${label(lang)}` : `p95 latency ${num(p95, lang, 0)} ms to ${label(lang)}`) + normal(lang),
      });
    }
  }
  return out;
}

function httpFindings(ctx: RuleContext, site: SiteView, p: Params, from: number): Finding[] {
  const byProbe = new Map<string, number[]>();
  for (const h of site.hosts) {
    ctx.window(site.site, h.host, from).forEachHttp((name, ok, totalMs) => {
      if (!ok || totalMs === null) return; // failures: portal-unreachable rule
      let e = byProbe.get(name);
      if (!e) byProbe.set(name, (e = []));
      e.push(totalMs);
    });
  }
  const out: Finding[] = [];
  for (const [name, times] of byProbe) {
    const p95 = quantile(times, 0.95)!;
    const base = ctx.baseline(site.site, `http:${name}`)?.latency ?? null;
    const fire = (base !== null && p95 >= p.httpFactor * base && p95 >= p.httpMinMs) || p95 >= p.httpLimitMs;
    const still = (base !== null && p95 >= p.latencyRecoveryFactor * base && p95 >= p.httpMinMs) || p95 >= p.httpLimitMs / p.latencyRecoveryFactor;
    if (!fire && !still) continue;
    out.push({
      level: fire ? 2 : 1,
      score: base ? p95 / base : p95 / p.httpMinMs,
      kind: 'portal',
      lossValue: null,
      text: (lang) =>
        (lang === 'vi' ? `cổng ${name} phản hồi chậm ${num(p95 / 1000, lang)} giây` : `portal ${name} slow: ${num(p95 / 1000, lang)} s`) +
        (base !== null ? (lang === 'vi' ? ` (bình thường ${num(base / 1000, lang)} giây)` : ` (normally ${num(base / 1000, lang)} s)`) : ''),
    });
  }
  return out;
}

function lineFinding(ctx: RuleContext, site: SiteView, p: Params, from: number): Finding[] {
  if (!site.lineMbps) return [];
  // Site download = sum over hosts of each host's mean rx over the window.
  let total = 0;
  let any = false;
  for (const h of site.hosts) {
    const rx = ctx.window(site.site, h.host, from).mean('rxBps');
    if (rx !== null) {
      total += rx;
      any = true;
    }
  }
  if (!any) return [];
  const mbps = (total * 8) / 1e6;
  const pct = (100 * mbps) / site.lineMbps;
  const level = pct >= p.lineUsagePct ? 2 : pct >= p.lineRecoveryPct ? 1 : 0;
  if (!level) return [];
  const line = site.lineMbps;
  return [
    {
      level,
      score: pct / 10,
      kind: 'line',
      lossValue: null,
      text: (lang) =>
        lang === 'vi'
          ? `đường truyền dùng ${num(mbps, lang)}/${num(line, lang)} Mbit/s (${num(pct, lang, 0)}% gói cước)`
          : `line in use ${num(mbps, lang)}/${num(line, lang)} Mbit/s (${num(pct, lang, 0)}% of the contract)`,
    },
  ];
}

/**
 * What the network looks like now that the rule recovered (issue 13 item 5: the RESOLVED
 * message quoted the last bad figure, "2.1% packet loss (normally 0%)"): the ping target
 * with the most loss now, with its p95 and the baselines.
 */
function recoveredText(ctx: RuleContext, site: SiteView, byTarget: PingSeries): { value: number; text: (lang: Lang) => string } | undefined {
  let worst: { target: string; role: 'gateway' | 'configured'; loss: number; p95: number | null } | undefined;
  for (const [target, e] of byTarget) {
    const loss = mean(e.loss) ?? 0;
    if (!worst || loss > worst.loss) worst = { target, role: e.role, loss, p95: quantile(e.p95, 0.95) };
  }
  if (!worst) return undefined;
  const w = worst;
  const base = ctx.baseline(site.site, `ping:${w.target}`);
  const baseLat = base?.latency ?? null;
  const label = (lang: Lang) => (w.role === 'gateway' ? (lang === 'vi' ? `cổng mạng ${w.target}` : `gateway ${w.target}`) : w.target);
  return {
    value: Number(w.loss.toFixed(1)),
    text: (lang) => {
      const loss =
        lang === 'vi'
          ? `mất ${num(w.loss, lang)}% gói tới ${label(lang)} (bình thường ${num(base?.loss ?? 0, lang)}%)`
          : `${num(w.loss, lang)}% packet loss to ${label(lang)} (normally ${num(base?.loss ?? 0, lang)}%)`;
      const lat =
        w.p95 === null
          ? ''
          : (lang === 'vi' ? `, trễ p95 ${num(w.p95, lang, 0)} ms` : `, p95 latency ${num(w.p95, lang, 0)} ms`) +
            (baseLat !== null ? (lang === 'vi' ? ` (bình thường ${num(baseLat, lang, 0)} ms)` : ` (normally ${num(baseLat, lang, 0)} ms)`) : '');
      return loss + lat;
    },
  };
}

const HINTS = {
  lan: { vi: 'switch, cáp mạng và router trong trụ sở; máy nào đang tải nặng', en: 'switches, cables and the router in the office; which PC is downloading' },
  wan: { vi: 'modem/router và đường truyền Internet; báo nhà mạng nếu kéo dài', en: 'the modem/router and the internet line; call the ISP if it persists' },
  portal: {
    vi: 'mạng tới cổng dịch vụ công; hỏi Sở/Trung tâm CĐS xem cổng có chậm chung không',
    en: 'the route to the public-service portal; ask the province whether the portal is slow for everyone',
  },
  line: {
    vi: 'ai đang dùng nhiều băng thông (video, cập nhật Windows); cân nhắc nâng gói cước',
    en: 'who uses the bandwidth (video, Windows updates); consider a faster contract',
  },
} as const;

export const peakHourCongestion: AlertRule<Params> = {
  name: 'peak_hour_congestion',
  description: { vi: 'Mạng nghẽn giờ cao điểm (mất gói, trễ, cổng TTHC chậm, đường truyền đầy)', en: 'Peak-hour network congestion (loss, latency, slow TTHC portals, full line)' },
  params: Params as unknown as z.ZodType<Params>,
  evaluate(ctx, p) {
    const from = ctx.now - p.windowSeconds * 1000;
    const out = [];
    for (const site of ctx.sites) {
      if (!site.hosts.some((h) => ctx.window(site.site, h.host, from).length > 0)) continue; // no data: hold
      const pings = pingsByTarget(ctx, site, from);
      const findings = [...pingFindings(ctx, site, p, pings), ...httpFindings(ctx, site, p, from), ...lineFinding(ctx, site, p, from)].sort(
        (a, b) => b.level - a.level || b.score - a.score,
      );
      const firing = findings.some((f) => f.level === 2);
      const condition = firing ? 'firing' : findings.length ? 'hold' : 'recovered';
      const top = findings.slice(0, 3);
      const worstLoss = findings.reduce((m, f) => Math.max(m, f.lossValue ?? 0), 0);
      const kind = top[0]?.kind ?? 'wan';
      const now = condition === 'recovered' ? recoveredText(ctx, site, pings) : undefined;
      out.push(
        observe(this.name, p, {
          site: site.site,
          condition,
          value: top.length ? Number(worstLoss.toFixed(1)) : (now?.value ?? 0),
          resolvedSummary: now
            ? both((lang) => (lang === 'vi' ? `Mạng giờ cao điểm đã bình thường: nay ${now.text(lang)}` : `Peak-hour network back to normal: now ${now.text(lang)}`))
            : undefined,
          summary: both((lang) => (lang === 'vi' ? 'Mạng nghẽn giờ cao điểm' : 'Peak-hour congestion') + (top.length ? `: ${top.map((f) => f.text(lang)).join('; ')}` : '')),
          hint: HINTS[kind],
        }),
      );
    }
    return out;
  },
};
