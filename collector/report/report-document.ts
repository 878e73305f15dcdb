import type { BarChartSpec } from './svg-chart.js';
import { fmtDate, fmtDateTime, fmtDelta, fmtDuration, fmtMonth, fmtNum, fmtPct } from './report-format.js';
import { overviewCostBlocks, siteCostBlocks } from './cost-document.js';
import { comparisonGap, dayCongestionKnown, hourCongestionKnown, knownCount, monthCongestionKnown, pcInsufficient } from './known-figures.js';
import type { Headline, HeadlineFigure, Lang, ReportBundle, SiteReport } from './report-model.js';
import { REPORT_TEXTS, type ReportTexts } from './report-text.js';
import { summaryParagraph } from './summary-paragraph.js';
import { freezeCauseBlocks } from './freeze-causes.js';

/**
 * The report as a sequence of blocks (headings, paragraphs, tables, charts, footnotes),
 * built once from the data so the Markdown and HTML renderings say the same things in
 * the same order.
 */
export type Block =
  | { kind: 'title'; text: string }
  | { kind: 'heading'; level: 2 | 3; text: string }
  | { kind: 'para'; text: string }
  | { kind: 'fields'; rows: Array<[string, string]> }
  /** `name` marks a table a renderer lays out on its own (the wide PC table, `pcs`). */
  | { kind: 'table'; head: string[]; rows: string[][]; numeric: boolean[]; name?: 'pcs' }
  | { kind: 'chart'; chart: BarChartSpec }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'footnotes'; items: string[] };

export const HEADLINE_KEYS: HeadlineFigure[] = [
  'centrePct',
  'siteUpPct',
  'powerCuts',
  'powerCutMs',
  'networkCuts',
  'networkCutMs',
  'congestedMinutes',
  'freezes',
  'crashes',
  'cpuSaturatedHours',
  'memSaturatedHours',
  'proposals',
  'coveragePct',
];

/** A headline figure as a number in its display unit (durations in minutes). */
export function headlineValue(h: Headline, k: HeadlineFigure): number | null {
  const v = h[k];
  if (v === null) return null;
  return k === 'powerCutMs' || k === 'networkCutMs' ? Math.round(v / 60_000) : v;
}

/**
 * A headline figure as shown: in a month without enough data a 0 count (cuts, congestion,
 * freezes, proposals) is unknown, null; percentages are already null there, and the
 * coverage itself is always a figure.
 */
export function knownHeadlineValue(h: Headline, k: HeadlineFigure): number | null {
  const v = headlineValue(h, k);
  if (v === null || k === 'coveragePct' || k === 'centrePct' || k === 'siteUpPct') return v;
  return knownCount(v, h.insufficientData);
}

export function headlineDecimals(k: HeadlineFigure): number {
  return k === 'centrePct' || k === 'siteUpPct' || k === 'cpuSaturatedHours' || k === 'memSaturatedHours' || k === 'coveragePct' ? 1 : 0;
}

const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

export function reportDocument(bundle: ReportBundle): Block[] {
  const lang = bundle.lang;
  const T = REPORT_TEXTS[lang];
  const blocks: Block[] = [{ kind: 'title', text: T.title(fmtMonth(bundle.month, lang)) }];
  if (bundle.generatedAt !== null && bundle.sites[0]) {
    blocks.push({ kind: 'para', text: `${T.generatedAt}: ${fmtDateTime(bundle.generatedAt, bundle.sites[0].timezone, lang)}` });
  }
  if (bundle.sites.length > 1) {
    blocks.push({ kind: 'heading', level: 2, text: T.sections.overview });
    blocks.push({
      kind: 'table',
      head: [T.unit, T.pcs, T.headline.centrePct, T.headline.powerCuts, T.headline.networkCuts, T.headline.congestedMinutes, T.headline.proposals],
      numeric: [false, true, true, true, true, true, true],
      rows: bundle.sites.map((s) => [
        `${s.siteName} (${s.site})`,
        String(s.pcs),
        s.availability.insufficientData ? T.availability.insufficient : fmtNum(s.headline.centrePct, 1, lang),
        fmtNum(knownHeadlineValue(s.headline, 'powerCuts'), 0, lang),
        fmtNum(knownHeadlineValue(s.headline, 'networkCuts'), 0, lang),
        fmtNum(knownHeadlineValue(s.headline, 'congestedMinutes'), 0, lang),
        fmtNum(knownHeadlineValue(s.headline, 'proposals'), 0, lang),
      ]),
    });
  }
  if (bundle.sites.length > 1) blocks.push(...overviewCostBlocks(bundle, lang));
  for (const s of bundle.sites) blocks.push(...siteBlocks(s, bundle, T, lang));
  return blocks;
}

function siteBlocks(r: SiteReport, bundle: ReportBundle, T: ReportTexts, lang: Lang): Block[] {
  const b: Block[] = [];
  const tz = r.timezone;
  b.push({ kind: 'heading', level: 2, text: `${r.siteName}` });
  b.push({
    kind: 'fields',
    rows: [
      [T.unit, r.siteName],
      [T.siteId, r.site],
      [T.period, `${fmtMonth(r.month, lang)} (${fmtDateTime(r.from, tz, lang)} – ${fmtDateTime(r.to, tz, lang)}, ${tz})`],
      [T.pcs, String(r.pcs)],
    ],
  });

  // 1. Summary
  b.push({ kind: 'heading', level: 3, text: `1. ${T.sections.summary}` });
  b.push({ kind: 'para', text: summaryParagraph(r, lang) });

  // 2. Availability
  const a = r.availability;
  b.push({ kind: 'heading', level: 3, text: `2. ${T.sections.availability}` });
  b.push({
    kind: 'fields',
    rows: [
      [T.availability.workingTime, fmtDuration(a.workingMs, lang)],
      [T.availability.coverage, fmtPct(a.coveragePct, lang, 2)],
      [T.availability.siteUp, a.insufficientData ? T.availability.insufficient : fmtPct(a.siteUpPct, lang, 2)],
      [T.availability.portalsOk, a.insufficientData ? T.availability.insufficient : fmtPct(a.portalOkPct, lang, 2)],
      [T.availability.centre, a.insufficientData ? T.availability.insufficient : fmtPct(a.centrePct, lang, 2)],
      [T.availability.noData, fmtNum(a.minutesWithoutData, 0, lang)],
      [T.availability.portals, a.portals.length ? a.portals.join(', ') : T.availability.none],
    ],
  });

  // 3. Outages
  b.push({ kind: 'heading', level: 3, text: `3. ${T.sections.outages}` });
  const thin = r.availability.insufficientData;
  const sumRow = (label: string, o: SiteReport['powerCuts']) =>
    // No cut recorded in a month without enough data: not known to be 0.
    knownCount(o.count, thin) === null
      ? [label, T.availability.insufficient, '–', '–', '–', '–']
      : [label, String(o.count), fmtDuration(o.totalMs, lang), fmtDuration(o.longestMs, lang), String(o.inWorkingHours), fmtDuration(o.workingMs, lang)];
  b.push({
    kind: 'table',
    head: [T.outage.kind, T.outage.count, T.outage.total, T.outage.longest, T.outage.inWorking, T.outage.workingLost],
    numeric: [false, true, true, true, true, true],
    rows: [
      sumRow(T.causePlural.power_cut, r.powerCuts),
      sumRow(T.causePlural.network_cut, r.networkCuts),
      ...(r.otherOutages.count ? [sumRow(T.causePlural.other, r.otherOutages)] : []),
    ],
  });
  if (r.outages.length === 0) b.push({ kind: 'para', text: thin ? T.outage.noneInsufficient : T.outage.noneInMonth });
  else {
    b.push({
      kind: 'table',
      head: [T.pc.rank, T.outage.kind, T.outage.start, T.outage.end, T.outage.duration, T.outage.workingLost, T.outage.hosts],
      numeric: [true, false, false, false, true, true, true],
      rows: r.outages.map((o, i) => [
        String(i + 1),
        T.cause[o.cause] + (o.clipped ? ` (*)` : ''),
        fmtDateTime(o.start, tz, lang),
        o.end === null ? T.outage.ongoing : fmtDateTime(o.end, tz, lang),
        fmtDuration(o.durationMs, lang),
        fmtDuration(o.workingMs, lang),
        String(o.hosts),
      ]),
    });
    if (r.outages.some((o) => o.clipped)) b.push({ kind: 'para', text: `(*) ${T.outage.clipped}.` });
  }
  b.push({
    kind: 'chart',
    chart: {
      title: T.charts.outageDaily,
      labels: r.network.days.map((d) => d.date.slice(8)),
      // A day nothing is known about is a gap, not "0 minutes lost" (issue 13 item 6).
      values: r.network.days.map((d) => (d.coveredMinutes > 0 ? Math.round(d.outageWorkingMs / 60_000) : null)),
      muted: r.network.days.map((d) => !d.working),
      unit: T.charts.minutes,
      formatTick: (v) => fmtNum(v, 0, lang),
      minStep: 1,
      noData: T.charts.noData,
    },
  });

  // 4. Network
  const n = r.network;
  b.push({ kind: 'heading', level: 3, text: `4. ${T.sections.network}` });
  const congestionKnown = monthCongestionKnown(n);
  const congested = knownHeadlineValue(r.headline, 'congestedMinutes');
  b.push({
    kind: 'fields',
    rows: [
      [T.network.line, n.lineMbps === null ? T.network.lineUnknown : `${fmtNum(n.lineMbps, 0, lang)} Mbit/s`],
      // Congestion is judged on loss and line usage; with neither measured there is no figure.
      [T.network.congested, !congestionKnown ? '–' : congested === null ? T.availability.insufficient : fmtNum(congested, 0, lang)],
      [T.network.usageMean, n.usageMeanMbps === null ? '–' : `${fmtNum(n.usageMeanMbps, 1, lang)} Mbit/s${n.usageMeanPct === null ? '' : ` (${fmtPct(n.usageMeanPct, lang)})`}`],
      [T.network.usageP95, fmtPct(n.usageP95Pct, lang)],
      [T.network.usageMax, fmtPct(n.usageMaxPct, lang)],
    ],
  });
  b.push({
    kind: 'table',
    head: [T.network.hour, T.network.latency, T.network.latencyP95, T.network.loss, T.network.usage, T.network.congestedMin],
    numeric: [false, true, true, true, true, true],
    rows: n.hours.map((h) => [
      `${hh(h.hour)}–${hh(h.hour + 1)}`,
      fmtNum(h.latencyMs, 0, lang),
      fmtNum(h.latencyP95Ms, 0, lang),
      fmtNum(h.lossPct, 2, lang),
      fmtNum(h.usagePct, 1, lang),
      // Congestion is judged on loss and line usage: without either, "0" would be a claim.
      hourCongestionKnown(h) ? fmtNum(h.congestedMinutes, 0, lang) : '–',
    ]),
  });
  b.push({
    kind: 'chart',
    chart: {
      title: T.charts.hourly,
      labels: n.hours.map((h) => hh(h.hour)),
      values: n.hours.map((h) => h.latencyMs),
      unit: T.charts.ms,
      formatTick: (v) => fmtNum(v, 0, lang),
      minStep: 1,
      noData: T.charts.noData,
    },
  });
  b.push({
    kind: 'chart',
    chart: {
      title: T.charts.daily,
      labels: n.days.map((d) => d.date.slice(8)),
      values: n.days.map((d) => (dayCongestionKnown(d) ? d.congestedMinutes : null)),
      muted: n.days.map((d) => !d.working),
      unit: T.charts.minutes,
      formatTick: (v) => fmtNum(v, 0, lang),
      minStep: 1,
      noData: T.charts.noData,
    },
  });
  b.push({ kind: 'para', text: `${T.network.worstDays}:` });
  const days = new Map(n.days.map((d) => [d.date, d]));
  if (n.worstDays.length === 0) b.push({ kind: 'para', text: congested === null ? T.network.worstUnknown : T.network.noneWorst });
  else {
    b.push({
      kind: 'table',
      head: [T.network.date, T.network.congestedMin, T.network.latency, T.network.loss],
      numeric: [false, true, true, true],
      rows: n.worstDays.map((date) => {
        const d = days.get(date)!;
        return [fmtDate(date, lang), fmtNum(d.congestedMinutes, 0, lang), fmtNum(d.latencyMs, 0, lang), fmtNum(d.lossPct, 2, lang)];
      }),
    });
  }

  // 5. PCs
  b.push({ kind: 'heading', level: 3, text: `5. ${T.sections.pcs}` });
  b.push({
    kind: 'table',
    name: 'pcs',
    head: [T.pc.host, T.pc.cpu, T.pc.year, T.pc.ram, T.pc.disk, T.pc.os, T.pc.freezes, T.pc.crashes, T.pc.cpuSat, T.pc.memSat, T.pc.diskFull, T.pc.coverage],
    // The launch year column reads "2011 – Cũ (từ 8 năm)": text, left-aligned.
    numeric: [false, false, false, true, false, false, true, true, true, true, false, true],
    rows: r.hosts.map((h) => {
      const hw = h.hardware;
      // A PC without enough samples: its 0 freezes or saturated hours are unknown.
      const pcThin = pcInsufficient(h.coveragePct, bundle.method.minCoveragePct);
      const count = (x: number, decimals: number) => fmtNum(knownCount(x, pcThin), decimals, lang);
      return [
        h.hostname === h.host ? h.host : `${h.hostname} (${h.host})`,
        hw ? hw.cpu : '–',
        hw?.cpuYear ? `${hw.cpuYear} – ${T.ageClass[hw.ageClass]}` : hw ? T.ageClass.unknown : '–',
        hw?.ramGb === null || hw === null ? '–' : fmtNum(hw.ramGb, 1, lang),
        hw ? hw.diskType : '–',
        hw ? hw.os + (hw.osSupported === false ? ` (${T.pc.unsupported})` : '') : '–',
        count(h.freezes, 0),
        count(h.crashes, 0),
        count(h.cpuSaturatedHours, 1),
        count(h.memSaturatedHours, 1),
        h.disksNearlyFull.map((d) => `${d.mount} ${fmtPct(d.usedPct, lang, 0)}`).join(', ') || '–',
        fmtPct(h.coveragePct, lang, 0),
      ];
    }),
  });

  if (r.clockLost.length > 0) {
    b.push({ kind: 'para', text: `${T.pc.clockLostTitle}:` });
    b.push({
      kind: 'list',
      ordered: false,
      items: r.clockLost.map((c) => T.pc.clockLostRow(c.hostname === c.host ? c.host : `${c.hostname} (${c.host})`, c.times, fmtDuration(c.maxSkewMs, lang))),
    });
  }

  b.push(...freezeCauseBlocks(r, lang));

  // 6. Proposals
  b.push({ kind: 'heading', level: 3, text: `6. ${T.sections.proposals}` });
  const byHost = new Map(r.hosts.map((h) => [h.host, h]));
  if (r.proposals.length === 0) b.push({ kind: 'para', text: thin ? T.pc.noProposalInsufficient : T.pc.noProposal });
  else {
    b.push({
      kind: 'table',
      head: [T.pc.rank, T.pc.host, T.pc.recommendation, T.pc.score, T.pc.evidence, T.pc.actions],
      numeric: [true, false, false, true, false, false],
      rows: r.proposals.map((id, i) => {
        const h = byHost.get(id)!;
        return [
          String(i + 1),
          h.hostname === h.host ? h.host : `${h.hostname} (${h.host})`,
          T.recommendation[h.recommendation],
          String(h.score),
          h.scoreItems.map((s) => `${T.scoreItem(s.key, s.value, lang)} (+${s.points})`).join('; '),
          h.recommendation === 'replace' ? '–' : h.actions.map((a) => T.action[a] ?? a).join('; ') || '–',
        ];
      }),
    });
  }

  // 7. Cost estimate (issue 17 point 3, collector/report/cost-document.ts)
  b.push(...siteCostBlocks(r, bundle, lang, 7));

  // 8. Change vs previous month
  b.push({ kind: 'heading', level: 3, text: `8. ${T.sections.change}` });
  const gap = comparisonGap(r);
  if (!r.previous) b.push({ kind: 'para', text: T.change.noPrevious });
  else {
    const prev = r.previous;
    // No change is computed against or from a month without enough data.
    if (gap !== null) b.push({ kind: 'para', text: T.change.notComparable(gap) });
    b.push({
      kind: 'table',
      head: [T.change.indicator, T.change.thisMonth, T.change.previous, T.change.delta],
      numeric: [false, true, true, true],
      rows: HEADLINE_KEYS.map((k) => {
        const cur = knownHeadlineValue(r.headline, k);
        const old = knownHeadlineValue(prev, k);
        const dec = headlineDecimals(k);
        const delta = cur === null || old === null || gap !== null ? '–' : fmtDelta(cur - old, dec, lang);
        return [T.headline[k], fmtNum(cur, dec, lang), fmtNum(old, dec, lang), delta];
      }),
    });
  }

  // 9. Method
  b.push({ kind: 'heading', level: 3, text: `9. ${T.sections.method}` });
  b.push({ kind: 'footnotes', items: [...T.footnotes(bundle.method, r.workingHours, r.availability.portals), ...r.notes.map((k) => T.notes[k] ?? k)] });
  return b;
}
