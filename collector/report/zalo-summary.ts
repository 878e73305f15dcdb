import { knownCongestion } from './known-figures.js';
import { fmtDuration, fmtMonth, fmtNum, fmtPct, fmtVnd } from './report-format.js';
import type { Lang, OutageSummary, SiteReport } from './report-model.js';

/** Zalo Bot API `sendMessage` text limit (DESIGN "Alerting model"). */
export const ZALO_TEXT_MAX = 2000;

/**
 * The short Zalo message that goes with the monthly e-mail: the site, the month and the
 * five figures that matter, in one message well under Zalo's 2,000-character limit.
 *
 * True or unknown (issue 13 item 6): in a month under the coverage threshold a 0 (no cut,
 * no congestion, no freeze) is "không đủ số liệu", what was recorded is marked as
 * incomplete, and the coverage is given.
 */
export function zaloSummary(r: SiteReport, lang: Lang): string {
  const replace = r.hosts.filter((h) => h.recommendation === 'replace').length;
  const upgrade = r.hosts.filter((h) => h.recommendation === 'upgrade').length;
  const a = r.availability;
  const thin = a.insufficientData;
  const W = WORDS[lang];
  const cuts = (o: OutageSummary, inWorking: boolean) =>
    thin && o.count === 0 ? W.insufficient : `${o.count}${W.times} (${fmtDuration(o.totalMs, lang)})${inWorking ? W.inWorking(o.inWorkingHours) : ''}${thin ? W.incomplete : ''}`;
  const congested = knownCongestion(r.headline);
  const pcsLine =
    thin && r.headline.freezes === 0 && replace + upgrade === 0
      ? W.insufficient
      : `${thin && r.headline.freezes === 0 ? W.freezesUnknown : W.freezes(r.headline.freezes)}; ${W.proposals(replace, upgrade)}${thin ? W.incomplete : ''}`;
  const lines = [
    W.title(fmtMonth(r.month, lang), r.siteName),
    `${W.centre}: ${thin || a.centrePct === null ? W.insufficient : W.centrePct(fmtPct(a.centrePct, lang))}`,
    // The coverage is what "không đủ số liệu" rests on: said when it is below the threshold.
    ...(thin ? [`${W.coverage}: ${fmtPct(a.coveragePct, lang)}`] : []),
    `${W.power}: ${cuts(r.powerCuts, true)}`,
    `${W.network}: ${cuts(r.networkCuts, false)}`,
    `${W.congestion}: ${congested === null ? W.insufficient : `${fmtNum(congested, 0, lang)} ${W.min}${thin ? W.incomplete : ''}`}`,
    `${W.pcs}: ${pcsLine}`,
    // The cost estimate (issue 17 point 3), when anything is priced: its evidence is in the e-mail.
    ...(r.costs.totalVnd > 0 ? [`${W.cost}: ${fmtVnd(r.costs.totalVnd, lang)}`] : []),
    W.footer,
  ];
  const text = lines.join('\n');
  return text.length <= ZALO_TEXT_MAX ? text : `${text.slice(0, ZALO_TEXT_MAX - 1)}…`;
}

interface Words {
  title: (month: string, site: string) => string;
  centre: string;
  centrePct: (pct: string) => string;
  coverage: string;
  power: string;
  network: string;
  congestion: string;
  pcs: string;
  cost: string;
  times: string;
  min: string;
  inWorking: (n: number) => string;
  freezes: (n: number) => string;
  freezesUnknown: string;
  proposals: (replace: number, upgrade: number) => string;
  insufficient: string;
  incomplete: string;
  footer: string;
}

const WORDS: Record<Lang, Words> = {
  vi: {
    title: (m, s) => `[Canh] Báo cáo hạ tầng ${m} – ${s}`,
    centre: '• Sẵn sàng phục vụ TTHC',
    centrePct: (p) => `${p} thời gian làm việc`,
    coverage: '• Thời gian làm việc có số liệu đo',
    power: '• Mất điện',
    network: '• Mất kết nối mạng',
    congestion: '• Nghẽn mạng giờ làm việc',
    pcs: '• Máy tính',
    cost: '• Dự toán kinh phí thay thế, nâng cấp (ước tính)',
    times: ' lần',
    min: 'phút',
    inWorking: (n) => `, ${n} lần trong giờ làm việc`,
    freezes: (n) => `${n} lần treo`,
    freezesUnknown: 'không đủ số liệu về treo máy',
    proposals: (r, u) => `đề xuất thay thế ${r} máy, nâng cấp ${u} máy`,
    insufficient: 'không đủ số liệu',
    incomplete: ' (số liệu chưa đầy đủ)',
    footer: 'Báo cáo chi tiết đã được gửi qua email.',
  },
  en: {
    title: (m, s) => `[Canh] Infrastructure report ${m} – ${s}`,
    centre: '• Available for TTHC',
    centrePct: (p) => `${p} of working time`,
    coverage: '• Working time measured',
    power: '• Power cuts',
    network: '• Network cuts',
    congestion: '• Congestion in working hours',
    pcs: '• PCs',
    cost: '• Estimated cost of replacements and upgrades',
    times: '',
    min: 'min',
    inWorking: (n) => `, ${n} in working hours`,
    freezes: (n) => `${n} freezes`,
    freezesUnknown: 'not enough data on freezes',
    proposals: (r, u) => `${r} proposed for replacement, ${u} for an upgrade`,
    insufficient: 'not enough data',
    incomplete: ' (incomplete data)',
    footer: 'The full report was sent by e-mail.',
  },
};
