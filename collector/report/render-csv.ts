import { localTime } from '../sites/schedule/working-hours.js';
import { freezeCauseCsvRows } from './freeze-causes.js';
import { dayCongestionKnown, hourCongestionKnown, knownCount, pcInsufficient } from './known-figures.js';
import { COST_ITEMS } from './cost-estimate.js';
import { HEADLINE_KEYS, knownHeadlineValue } from './report-document.js';
import type { Lang, ReportBundle } from './report-model.js';

/**
 * The report's figures (and every chart's data) as one long CSV table: one row per
 * (section, site, item, metric, value, unit). Written for Excel: UTF-8 with a BOM (else
 * Excel reads Vietnamese as Windows-1252), CRLF line ends, RFC 4180 quoting. The separator
 * follows the language's regional settings: Vietnamese Windows uses `;` between fields and
 * `,` as the decimal mark; English uses `,` and `.`.
 *
 * True or unknown (issue 13 item 6): a figure that is not known is an empty cell, never a
 * 0 — a day without measurements (`day … covered` 0), congestion without loss or usage
 * data, a 0 count of a month under the coverage threshold (`availability … insufficient_data`
 * 1) or of a PC under it. Columns are fixed; new figures are new metric rows.
 */
export const CSV_BOM = '\uFEFF';

export function csvSeparator(lang: Lang): string {
  return lang === 'vi' ? ';' : ',';
}

const HEAD: Record<Lang, string[]> = {
  vi: ['Mục', 'Mã đơn vị', 'Đối tượng', 'Chỉ số', 'Giá trị', 'Đơn vị tính'],
  en: ['section', 'site', 'item', 'metric', 'value', 'unit'],
};

type Value = number | string | null;

export function quote(s: string, sep: string): string {
  // Spreadsheet formula injection: a text cell starting with = + - @ is shown as text.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return safe.includes(sep) || /["\r\n]/.test(safe) || /^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function num(x: number, lang: Lang): string {
  // Up to 4 decimals, no thousands grouping, no trailing zeros.
  const s = String(Math.round(x * 10_000) / 10_000);
  return lang === 'vi' ? s.replace('.', ',') : s;
}

function localStamp(t: number | null, tz: string): string {
  if (t === null) return '';
  const lt = localTime(t, tz);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${lt.date} ${pad(Math.floor(lt.minutes / 60))}:${pad(Math.floor(lt.minutes % 60))}`;
}

const min = (ms: number) => Math.round(ms / 60_000);

export function renderCsv(bundle: ReportBundle): string {
  const lang = bundle.lang;
  const sep = csvSeparator(lang);
  const lines: string[] = [HEAD[lang].map((h) => quote(h, sep)).join(sep)];
  const row = (section: string, site: string, item: string, metric: string, value: Value, unit = '') =>
    lines.push(
      [section, site, item, metric, value === null ? '' : typeof value === 'number' ? num(value, lang) : quote(value, sep), unit]
        .map((c, i) => (i === 4 ? c : quote(c, sep)))
        .join(sep),
    );

  for (const r of bundle.sites) {
    const s = r.site;
    const a = r.availability;
    row('site', s, '', 'name', r.siteName);
    row('site', s, '', 'month', r.month);
    row('site', s, '', 'pcs', r.pcs);
    row('availability', s, '', 'working_time', min(a.workingMs), 'min');
    row('availability', s, '', 'site_down_working', min(a.siteDownMs), 'min');
    row('availability', s, '', 'site_up', a.siteUpPct, '%');
    row('availability', s, '', 'portals_ok', a.portalOkPct, '%');
    row('availability', s, '', 'centre_available', a.centrePct, '%');
    row('availability', s, '', 'minutes_without_data', a.minutesWithoutData, 'min');
    row('availability', s, '', 'coverage', a.coveragePct, '%');
    row('availability', s, '', 'insufficient_data', a.insufficientData ? 1 : 0);
    for (const [item, o] of [
      ['power_cut', r.powerCuts],
      ['network_cut', r.networkCuts],
      ['other', r.otherOutages],
    ] as const) {
      // No cut recorded in a month without enough data: unknown, not 0.
      const known = knownCount(o.count, a.insufficientData) !== null;
      row('outages', s, item, 'count', known ? o.count : null);
      row('outages', s, item, 'total', known ? min(o.totalMs) : null, 'min');
      row('outages', s, item, 'longest', known ? min(o.longestMs) : null, 'min');
      row('outages', s, item, 'in_working_hours', known ? o.inWorkingHours : null);
      row('outages', s, item, 'working_time_lost', known ? min(o.workingMs) : null, 'min');
    }
    r.outages.forEach((o, i) => {
      const item = String(i + 1);
      row('outage', s, item, 'cause', o.cause);
      row('outage', s, item, 'start', localStamp(o.start, r.timezone), r.timezone);
      row('outage', s, item, 'end', localStamp(o.end, r.timezone), r.timezone);
      row('outage', s, item, 'duration_in_month', min(o.durationMs), 'min');
      row('outage', s, item, 'working_time_lost', min(o.workingMs), 'min');
      row('outage', s, item, 'pcs', o.hosts);
    });
    const n = r.network;
    row('network', s, '', 'line_speed', n.lineMbps, 'Mbit/s');
    row('network', s, '', 'congested', knownHeadlineValue(r.headline, 'congestedMinutes'), 'min');
    row('network', s, '', 'usage_mean', n.usageMeanMbps, 'Mbit/s');
    row('network', s, '', 'usage_mean_pct', n.usageMeanPct, '%');
    row('network', s, '', 'usage_p95_pct', n.usageP95Pct, '%');
    row('network', s, '', 'usage_max_pct', n.usageMaxPct, '%');
    for (const h of n.hours) {
      const item = `${String(h.hour).padStart(2, '0')}:00`;
      row('hour', s, item, 'latency_mean', h.latencyMs, 'ms');
      row('hour', s, item, 'latency_p95', h.latencyP95Ms, 'ms');
      row('hour', s, item, 'loss', h.lossPct, '%');
      row('hour', s, item, 'usage', h.usagePct, '%');
      row('hour', s, item, 'congested', hourCongestionKnown(h) ? h.congestedMinutes : null, 'min');
    }
    for (const d of n.days) {
      // A day nothing is known about (covered 0) has empty figures, not zeros.
      row('day', s, d.date, 'working_day', d.working ? 1 : 0);
      row('day', s, d.date, 'working_time', d.workingMinutes, 'min');
      row('day', s, d.date, 'covered', d.coveredMinutes, 'min');
      row('day', s, d.date, 'congested', dayCongestionKnown(d) ? d.congestedMinutes : null, 'min');
      row('day', s, d.date, 'latency_mean', d.latencyMs, 'ms');
      row('day', s, d.date, 'loss', d.lossPct, '%');
      row('day', s, d.date, 'usage', d.usagePct, '%');
      row('day', s, d.date, 'outage_working_time', d.coveredMinutes > 0 ? min(d.outageWorkingMs) : null, 'min');
    }
    n.worstDays.forEach((d, i) => row('worst_day', s, String(i + 1), 'date', d));
    for (const h of r.hosts) {
      const hw = h.hardware;
      const pcThin = pcInsufficient(h.coveragePct, bundle.method.minCoveragePct);
      row('pc', s, h.host, 'hostname', h.hostname);
      row('pc', s, h.host, 'cpu', hw?.cpu ?? null);
      row('pc', s, h.host, 'cpu_year', hw?.cpuYear ?? null);
      row('pc', s, h.host, 'age_class', hw?.ageClass ?? null);
      row('pc', s, h.host, 'ram', hw?.ramGb ?? null, 'GB');
      row('pc', s, h.host, 'disk_type', hw?.diskType ?? null);
      row('pc', s, h.host, 'os', hw?.os ?? null);
      row('pc', s, h.host, 'freezes', knownCount(h.freezes, pcThin));
      row('pc', s, h.host, 'crashes', knownCount(h.crashes, pcThin));
      row('pc', s, h.host, 'cpu_saturated', knownCount(h.cpuSaturatedHours, pcThin), 'h');
      row('pc', s, h.host, 'mem_saturated', knownCount(h.memSaturatedHours, pcThin), 'h');
      row('pc', s, h.host, 'disks_nearly_full', h.disksNearlyFull.map((d) => d.mount).join(' '));
      row('pc', s, h.host, 'coverage', h.coveragePct, '%');
      row('pc', s, h.host, 'score', h.score);
      row('pc', s, h.host, 'recommendation', h.recommendation);
    }
    freezeCauseCsvRows(r, (item, metric, value) => row('freeze_cause', s, item, metric, value));
    r.proposals.forEach((host, i) => row('proposal', s, String(i + 1), 'host', host));
    for (const k of HEADLINE_KEYS) {
      const unit = k.endsWith('Pct') ? '%' : k.endsWith('Ms') ? 'min' : k.endsWith('Hours') ? 'h' : '';
      row('change', s, k, 'this_month', knownHeadlineValue(r.headline, k), unit);
      row('change', s, k, 'previous_month', r.previous ? knownHeadlineValue(r.previous, k) : null, unit);
    }
    // Cost estimate (issue 17 point 3): one item per recommendation, its figures as metric rows;
    // an `insufficient` one has no cost (unknown, not 0). The budget CSV has one row each.
    r.costs.lines.forEach((l, i) => {
      const item = String(i + 1);
      row('cost', s, item, 'host', l.host ?? '');
      row('cost', s, item, 'recommendation', l.item);
      row('cost', s, item, 'status', l.status);
      for (const e of l.evidence) row('cost', s, item, `evidence.${e.key}`, e.value);
      row('cost', s, item, 'quantity', l.status === 'priced' ? l.quantity : null);
      row('cost', s, item, 'unit_price', l.unitVnd, 'VND');
      row('cost', s, item, 'cost', l.status === 'priced' ? l.costVnd : null, 'VND');
    });
    for (const i of COST_ITEMS) {
      row('cost_total', s, i, 'quantity', r.costs.byItem[i].quantity);
      row('cost_total', s, i, 'cost', r.costs.byItem[i].costVnd, 'VND');
    }
    row('cost_total', s, 'all', 'cost', r.costs.totalVnd, 'VND');
  }
  if (bundle.sites.length > 1) {
    for (const i of COST_ITEMS) {
      row('cost_total', 'all', i, 'quantity', bundle.costs.byItem[i].quantity);
      row('cost_total', 'all', i, 'cost', bundle.costs.byItem[i].costVnd, 'VND');
    }
    row('cost_total', 'all', 'all', 'cost', bundle.costs.totalVnd, 'VND');
  }
  return CSV_BOM + lines.join('\r\n') + '\r\n';
}
